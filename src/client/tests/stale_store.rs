//! A stored token past its refresh point is not taken while a new one can be had, but a
//! caller with nothing in memory gets it when the identity provider cannot issue one (the
//! store's stale-if-error; a Durable Object restarted with an empty memory relies on it).

use super::*;

/// A store holding one token for SCOPE, living an hour from START_MS and past its refresh
/// point from START_MS + 60 s.
fn store_with_stale_token() -> Rc<MemoryStore> {
    let store = Rc::new(MemoryStore::default());
    let token = CachedToken {
        refresh_on_ms: Some(START_MS + 60_000),
        ..CachedToken::issued(
            AccessToken::new("stored"),
            "Bearer".into(),
            START_MS,
            3600,
            None,
            None,
        )
    };
    store.tokens.borrow_mut().insert(
        "http://127.0.0.1:9/tenant-1/oauth2/v2.0/token\napp-id\napi://x/.default".to_owned(),
        token,
    );
    store
}

fn client_over(host: &TestHost, store: &Rc<MemoryStore>) -> ConfidentialClient<TestHost> {
    ConfidentialClient::with_store(
        config(),
        host.clone(),
        Some(store.clone() as Rc<dyn TokenStore>),
    )
}

#[test]
fn past_its_refresh_point_a_stored_token_is_replaced_while_the_provider_answers() {
    let host = TestHost::new();
    host.advance(60_000);
    host.token(TOKEN_1);
    let store = store_with_stale_token();
    let result = acquire(
        &client_over(&host, &store),
        request(&client_over(&host, &store)),
    );
    let result = result.unwrap();
    assert_eq!(result.source, TokenSource::IdentityProvider);
    assert_eq!(result.access_token.expose(), "tok-1");
}

#[test]
fn a_plain_caller_gets_the_stale_stored_token_when_the_provider_fails() {
    let host = TestHost::new();
    host.advance(60_000);
    for _ in 0..3 {
        host.reply(Reply::NetworkError);
    }
    let store = store_with_stale_token();
    let client = client_over(&host, &store);
    let result = acquire(&client, request(&client)).unwrap();
    assert_eq!(result.source, TokenSource::Store);
    assert_eq!(result.access_token.expose(), "stored");
    assert_eq!(
        host.request_count(),
        3,
        "the provider was asked, with retries"
    );
    let again = acquire(&client, request(&client)).unwrap();
    assert_eq!(
        again.source,
        TokenSource::Memory,
        "kept in memory like any hit"
    );
}

#[test]
fn a_refusal_still_leaves_the_stale_stored_token_to_a_plain_caller() {
    let host = TestHost::new();
    host.advance(60_000);
    host.status(
        401,
        &[],
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
    );
    let store = store_with_stale_token();
    let client = client_over(&host, &store);
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "stored"
    );
}

#[test]
fn a_forced_request_or_a_token_past_the_buffer_gets_the_error() {
    let host = TestHost::new();
    host.advance(60_000);
    for _ in 0..3 {
        host.reply(Reply::NetworkError);
    }
    let store = store_with_stale_token();
    let client = client_over(&host, &store);
    let forced = TokenRequest {
        force_refresh: true,
        ..request(&client)
    };
    assert_eq!(
        acquire(&client, forced).unwrap_err().kind(),
        ErrorKind::Network
    );

    let host = TestHost::new();
    host.advance(3_600_000 - DEFAULT_EXPIRY_BUFFER_MS);
    for _ in 0..3 {
        host.reply(Reply::NetworkError);
    }
    let client = client_over(&host, &store);
    assert_eq!(
        acquire(&client, request(&client)).unwrap_err().kind(),
        ErrorKind::Network,
        "no longer fresh: not served"
    );
}
