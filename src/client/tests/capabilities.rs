//! Client capabilities (`clientCapabilities`, continuous access evaluation): the `xms_cc`
//! claims request goes with every token request, byte for byte; tokens asked for with it
//! alone are cached and shared as usual, while a claims challenge, merged with it, skips the
//! cache as without capabilities.

use super::*;

/// `{"access_token":{"xms_cc":{"values":["cp1"]}}}`, form-encoded.
const CP1_CLAIMS: &str =
    "claims=%7B%22access_token%22%3A%7B%22xms_cc%22%3A%7B%22values%22%3A%5B%22cp1%22%5D%7D%7D%7D";
const PLAIN_BODY: &str =
    "client_id=app-id&scope=api%3A%2F%2Fx%2F.default&client_secret=pw&grant_type=client_credentials";

fn cae_client(host: &TestHost, capabilities: &[&str]) -> ConfidentialClient<TestHost> {
    let capabilities = capabilities.iter().map(|c| c.to_string()).collect();
    let config = config().with_client_capabilities(capabilities).unwrap();
    ConfidentialClient::new(config, host.clone())
}

fn challenged(client: &ConfidentialClient<TestHost>, claims: &str) -> TokenRequest {
    TokenRequest {
        claims: Some(claims.into()),
        ..request(client)
    }
}

fn last_body(host: &TestHost) -> String {
    host.0.requests.borrow().last().unwrap().body.clone()
}

#[test]
fn every_request_carries_the_capabilities_and_their_tokens_are_cached() {
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_2);
    let client = cae_client(&host, &["cp1"]);
    assert_eq!(client.config().client_capabilities(), ["cp1".to_owned()]);

    let first = acquire(&client, request(&client)).unwrap();
    assert_eq!(first.source, TokenSource::IdentityProvider);
    assert_eq!(last_body(&host), format!("{PLAIN_BODY}&{CP1_CLAIMS}"));
    let second = acquire(&client, request(&client)).unwrap();
    assert_eq!(second.source, TokenSource::Memory, "cached as usual");
    assert_eq!(host.request_count(), 1);

    // Forced requests and background refreshes carry them too.
    acquire(
        &client,
        TokenRequest {
            force_refresh: true,
            ..request(&client)
        },
    )
    .unwrap();
    assert_eq!(last_body(&host), format!("{PLAIN_BODY}&{CP1_CLAIMS}"));
    assert_eq!(host.request_count(), 2);

    let host = TestHost::new();
    host.token(r#"{"access_token":"tok-1","expires_in":3600,"refresh_in":60}"#)
        .token(TOKEN_2);
    let client = cae_client(&host, &["cp1"]);
    acquire(&client, request(&client)).unwrap();
    host.advance(61_000);
    let served = acquire(&client, request(&client)).unwrap();
    assert_eq!(served.access_token.expose(), "tok-1");
    host.run_background_tasks();
    assert_eq!(host.request_count(), 2, "refreshed in the background");
    assert_eq!(last_body(&host), format!("{PLAIN_BODY}&{CP1_CLAIMS}"));
}

#[test]
fn two_capabilities_and_none() {
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_2);
    let two = cae_client(&host, &["cp1", "cp2"]);
    acquire(&two, request(&two)).unwrap();
    assert_eq!(
        last_body(&host),
        format!("{PLAIN_BODY}&claims=%7B%22access_token%22%3A%7B%22xms_cc%22%3A%7B%22values%22%3A%5B%22cp1%22%2C%22cp2%22%5D%7D%7D%7D")
    );
    // An empty list declares none: no claims parameter at all.
    let none = cae_client(&host, &[]);
    acquire(&none, request(&none)).unwrap();
    assert_eq!(last_body(&host), PLAIN_BODY);
}

#[test]
fn a_challenge_is_merged_with_the_capabilities_and_skips_the_cache() {
    let host = TestHost::new();
    host.token(TOKEN_1);
    let client = cae_client(&host, &["cp1"]);
    acquire(&client, request(&client)).unwrap();

    // Entra's CAE challenge: its access_token members are kept beside xms_cc.
    host.token(r#"{"access_token":"tok-claims","expires_in":3600}"#);
    let challenge = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;
    let answered = acquire(&client, challenged(&client, challenge)).unwrap();
    assert_eq!(answered.access_token.expose(), "tok-claims");
    assert_eq!(answered.source, TokenSource::IdentityProvider);
    // {"access_token":{"nbf":{"essential":true,"value":"1604106651"},"xms_cc":{"values":["cp1"]}}}
    assert_eq!(
        last_body(&host),
        format!("{PLAIN_BODY}&claims=%7B%22access_token%22%3A%7B%22nbf%22%3A%7B%22essential%22%3Atrue%2C%22value%22%3A%221604106651%22%7D%2C%22xms_cc%22%3A%7B%22values%22%3A%5B%22cp1%22%5D%7D%7D%7D")
    );
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-1",
        "the challenge's token is neither cached nor replaces the cached one"
    );

    // A challenge without access_token: merged beside it.
    host.token(TOKEN_2);
    acquire(
        &client,
        challenged(&client, r#"{"id_token":{"auth_time":{"essential":true}}}"#),
    )
    .unwrap();
    // {"access_token":{"xms_cc":{"values":["cp1"]}},"id_token":{"auth_time":{"essential":true}}}
    assert_eq!(
        last_body(&host),
        format!("{PLAIN_BODY}&claims=%7B%22access_token%22%3A%7B%22xms_cc%22%3A%7B%22values%22%3A%5B%22cp1%22%5D%7D%7D%2C%22id_token%22%3A%7B%22auth_time%22%3A%7B%22essential%22%3Atrue%7D%7D%7D")
    );
    assert_eq!(host.request_count(), 3);
}

#[test]
fn a_challenge_that_is_no_json_object_is_refused_before_any_request() {
    let host = TestHost::new();
    let client = cae_client(&host, &["cp1"]);
    for challenge in [
        "",
        "{\"access_token\":",
        "[\"s3cr3t-looking\"]",
        "s3cr3t-looking",
    ] {
        let error = acquire(&client, challenged(&client, challenge)).unwrap_err();
        assert_eq!(error.code(), "invalid_config");
        assert_eq!(error.field(), Some("claims"));
        assert!(
            !error.message().contains("s3cr3t"),
            "never quoted: {}",
            error.message()
        );
    }
    assert_eq!(host.request_count(), 0);

    // Without capabilities the claims are sent as given, as before.
    host.token(TOKEN_1);
    let plain = super::client(&host);
    acquire(&plain, challenged(&plain, "x")).unwrap();
    assert_eq!(last_body(&host), format!("{PLAIN_BODY}&claims=x"));
}
