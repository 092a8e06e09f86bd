//! `BrokerClient` with the tenant per request: the client as `new BrokerClient(…)` builds it
//! ([`ClientOptions::read_broker`]), fed requests as `acquireToken` reads them. A tenant goes
//! to the broker's one URL as the form's `tenant`; each tenant's token is cached, shared and
//! refused apart; a tenant is checked here as the broker checks it.

use super::*;
use crate::client_options::ClientOptions;
use crate::option_names::BROKER_REQUEST_FIELDS;
use crate::option_value::fake::{object, text, texts, Fake};
use crate::request_fields::HostRequest;
use crate::scope::ScopeRules;

const BROKER_URL: &str = "http://127.0.0.1:9/token";
const FORM: &str = "scope=api%3A%2F%2Fx%2F.default&grant_type=client_credentials";
const TOKEN_A: &str = r#"{"access_token":"tok-a","token_type":"Bearer","expires_in":3600}"#;
const TOKEN_B: &str = r#"{"access_token":"tok-b","token_type":"Bearer","expires_in":3600}"#;

fn broker_client(host: &TestHost) -> ConfidentialClient<TestHost> {
    let options = object([
        ("url", text("http://127.0.0.1:9")),
        ("callerId", text("jobs")),
        ("key", text("broker-key")),
    ]);
    let (options, _) = ClientOptions::read_broker(&options).unwrap();
    let config = options
        .into_config(&|_, _| unreachable!("a broker key signs nothing"))
        .unwrap();
    ConfidentialClient::new(config, host.clone())
}

/// `acquireToken({ scopes: ["api://x/.default"], tenant? })`, read as the npm module reads it.
fn read(tenant: Option<Fake>) -> Result<TokenRequest, Error> {
    let mut fields = vec![("scopes".to_owned(), texts(&[SCOPE]))];
    fields.extend(tenant.map(|tenant| ("tenant".to_owned(), tenant)));
    HostRequest::read(
        &Fake::Object(fields),
        "acquireToken",
        BROKER_REQUEST_FIELDS,
        ScopeRules::Generic,
    )
    .map(|request| request.token)
}

fn for_tenant(tenant: &str) -> TokenRequest {
    read(Some(text(tenant))).unwrap()
}

fn bodies(host: &TestHost) -> Vec<(String, String)> {
    host.0
        .requests
        .borrow()
        .iter()
        .map(|r| (r.url.clone(), r.body.clone()))
        .collect()
}

#[test]
fn a_tenant_goes_in_the_form_and_has_its_own_cache_entry() {
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_A).token(TOKEN_B);
    let client = broker_client(&host);

    let own = acquire(&client, read(None).unwrap()).unwrap();
    let a = acquire(&client, for_tenant("Contoso.onmicrosoft.com")).unwrap();
    let b = acquire(&client, for_tenant("00000000-0000-4000-8000-0000000000b2")).unwrap();
    assert_eq!(
        [own, a.clone(), b.clone()].map(|r| r.access_token.expose().to_owned()),
        ["tok-1", "tok-a", "tok-b"]
    );
    assert_eq!(a.tenant_id.as_deref(), Some("contoso.onmicrosoft.com"));
    assert_eq!(
        bodies(&host),
        [
            (BROKER_URL.to_owned(), FORM.to_owned()),
            (
                BROKER_URL.to_owned(),
                format!("{FORM}&tenant=contoso.onmicrosoft.com")
            ),
            (
                BROKER_URL.to_owned(),
                format!("{FORM}&tenant=00000000-0000-4000-8000-0000000000b2")
            ),
        ],
        "one URL; the tenant, lowercased, in the form"
    );

    // Repeats are memory hits of their own tenant, however it is written.
    for (request, token) in [
        (read(None).unwrap(), "tok-1"),
        (for_tenant("contoso.onmicrosoft.com"), "tok-a"),
        (for_tenant("CONTOSO.onmicrosoft.com"), "tok-a"),
        (for_tenant("00000000-0000-4000-8000-0000000000B2"), "tok-b"),
    ] {
        let hit = acquire(&client, request).unwrap();
        assert_eq!(hit.source, TokenSource::Memory);
        assert_eq!(hit.access_token.expose(), token);
    }
    assert_eq!(host.request_count(), 3);
}

#[test]
fn a_forced_refresh_of_a_tenant_sends_both_and_replaces_only_its_token() {
    let host = TestHost::new();
    host.token(TOKEN_A).token(TOKEN_1).token(TOKEN_B);
    let client = broker_client(&host);
    acquire(&client, for_tenant("contoso.onmicrosoft.com")).unwrap();
    acquire(&client, read(None).unwrap()).unwrap();
    let forced = TokenRequest {
        force_refresh: true,
        ..for_tenant("contoso.onmicrosoft.com")
    };
    assert_eq!(
        acquire(&client, forced).unwrap().access_token.expose(),
        "tok-b"
    );
    assert_eq!(
        bodies(&host)[2].1,
        format!("{FORM}&tenant=contoso.onmicrosoft.com&force_refresh=true")
    );
    let own = acquire(&client, read(None).unwrap()).unwrap();
    assert_eq!(
        own.access_token.expose(),
        "tok-1",
        "the app's own token stays"
    );
}

#[test]
fn concurrent_requests_share_one_flight_per_tenant() {
    let host = TestHost::new();
    host.reply(Reply::Gated(HttpResponse::new(200, TOKEN_A)))
        .reply(Reply::Gated(HttpResponse::new(200, TOKEN_B)));
    let client = broker_client(&host);
    let mut calls: Vec<_> = ["tenant-a", "tenant-b", "TENANT-A", "tenant-b"]
        .into_iter()
        .map(|tenant| Box::pin(client.acquire_token_for_client(for_tenant(tenant))))
        .collect();
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for call in &mut calls {
        assert!(call.as_mut().poll(&mut cx).is_pending());
    }
    host.poll_spawned_once();
    assert_eq!(host.request_count(), 2, "one request per tenant under way");
    host.0.gate_open.set(true);
    let tokens: Vec<String> = host
        .run(futures::future::join_all(calls))
        .into_iter()
        .map(|r| r.unwrap().access_token.expose().to_owned())
        .collect();
    assert_eq!(tokens, ["tok-a", "tok-b", "tok-a", "tok-b"]);
}

#[test]
fn a_tenant_is_checked_as_the_broker_checks_it_before_anything_is_sent() {
    let host = TestHost::new();
    let client = broker_client(&host);
    let huge = "a".repeat(5000);
    for bad in [
        "",
        "common",
        "Organizations",
        "consumers",
        "contoso.com/x",
        "a b",
        ".",
        "..",
        "contoso..com",
        "contoso.com.",
        huge.as_str(),
    ] {
        let error = acquire(&client, for_tenant(bad)).unwrap_err();
        assert!(error.message().len() < 400, "bounded, never echoed");
        assert_eq!(
            (error.code(), error.field()),
            ("invalid_authority", Some("tenant")),
            "{bad:?}"
        );
        assert!(
            error.message().starts_with(
                "tenant must be a tenant id (a GUID) or a verified domain such as contoso.onmicrosoft.com"
            ),
            "{}",
            error.message()
        );
        // The broker refuses the same tenants (400 invalid_request).
        assert!(
            bad.is_empty() || TokenEndpoint::from_tenant(bad, None).is_err(),
            "{bad:?}"
        );
    }
    assert!(
        bodies(&host).is_empty(),
        "nothing sent for what is no tenant"
    );
    let not_text = read(Some(Fake::Number(7.0))).unwrap_err();
    assert_eq!(not_text.field(), Some("tenant"));
    let by_url = TokenRequest {
        authority: Some(RequestAuthority::Authority(
            "https://login.microsoftonline.com/contoso.onmicrosoft.com".into(),
        )),
        ..read(None).unwrap()
    };
    assert_eq!(
        acquire(&client, by_url).unwrap_err().field(),
        Some("authority")
    );
    assert_eq!(host.request_count(), 0);
}

#[test]
fn a_tenant_not_granted_is_a_refusal_of_that_tenant_only() {
    let host = TestHost::new();
    let not_granted = r#"{"error":"tenant_not_granted","error_description":"caller jobs is not granted tenant fabrikam.onmicrosoft.com: add it to the caller's tenants in BROKER_CLIENTS"}"#;
    host.status(403, &[], not_granted).token(TOKEN_1);
    let client = broker_client(&host);

    let refused = acquire(&client, for_tenant("fabrikam.onmicrosoft.com")).unwrap_err();
    assert_eq!(refused.code(), "tenant_not_granted");
    assert_eq!(refused.status(), Some(403));
    assert!(!refused.is_transient(), "not retried, CLI exit code 3");
    assert!(refused.is_refusal());
    assert_eq!(
        refused.message(),
        "caller jobs is not granted tenant fabrikam.onmicrosoft.com: add it to the caller's tenants in BROKER_CLIENTS"
    );
    assert_eq!(host.request_count(), 1, "no retry");
    // Remembered for that tenant, like a refused scope: a loop over tenants does not spend
    // the caller's rate budget on it; other tenants go on.
    let again = acquire(&client, for_tenant("Fabrikam.onmicrosoft.com")).unwrap_err();
    assert_eq!(again.code(), "tenant_not_granted");
    assert_eq!(host.request_count(), 1);
    let own = acquire(&client, read(None).unwrap()).unwrap();
    assert_eq!(own.access_token.expose(), "tok-1");
    assert_eq!(host.request_count(), 2);
}
