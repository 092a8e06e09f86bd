//! Multi-tenant daemons: one client, the tenant per request (`tenantId` or `authority`). Each
//! tenant's request goes to its own token endpoint, with the same form; its token is cached,
//! shared, throttled, refused and stored apart from every other tenant's; a request's
//! authority is held to the client's rules; a certificate's assertion names the tenant's
//! endpoint as its audience.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::*;
use crate::assertion::JwsAlgorithm;
use crate::authority::RequestAuthority;
use crate::credential::{CertificateCredential, CertificateOptions};
use crate::ports::Signer;

const OWN_URL: &str = "http://127.0.0.1:9/tenant-1/oauth2/v2.0/token";
const B_URL: &str = "http://127.0.0.1:9/tenant-b/oauth2/v2.0/token";
const FORM: &str =
    "client_id=app-id&scope=api%3A%2F%2Fx%2F.default&client_secret=pw&grant_type=client_credentials";
const TOKEN_B: &str = r#"{"access_token":"tok-b","token_type":"Bearer","expires_in":3600}"#;

fn for_tenant(client: &ConfidentialClient<TestHost>, tenant: &str) -> TokenRequest {
    TokenRequest {
        authority: Some(RequestAuthority::Tenant(tenant.into())),
        ..request(client)
    }
}

fn for_authority(client: &ConfidentialClient<TestHost>, authority: &str) -> TokenRequest {
    TokenRequest {
        authority: Some(RequestAuthority::Authority(authority.into())),
        ..request(client)
    }
}

/// URL and body of every request sent.
fn sent(host: &TestHost) -> Vec<(String, String)> {
    host.0
        .requests
        .borrow()
        .iter()
        .map(|r| (r.url.clone(), r.body.clone()))
        .collect()
}

#[test]
fn each_tenant_has_its_endpoint_and_its_own_cache_entry() {
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_B);
    let client = client(&host);

    let own = acquire(&client, request(&client)).unwrap();
    let b = acquire(&client, for_tenant(&client, "tenant-b")).unwrap();
    assert_eq!(own.access_token.expose(), "tok-1");
    assert_eq!(b.access_token.expose(), "tok-b");
    assert_eq!(own.tenant_id.as_deref(), Some("tenant-1"));
    assert_eq!(b.tenant_id.as_deref(), Some("tenant-b"));
    assert_eq!(
        sent(&host),
        [
            (OWN_URL.to_owned(), FORM.to_owned()),
            (B_URL.to_owned(), FORM.to_owned())
        ],
        "the same form, each to its tenant's endpoint"
    );

    // Repeats are memory hits of their own tenant: however the tenant is written, and
    // whether it is named by tenantId or by authority.
    for (request, token) in [
        (request(&client), "tok-1"),
        (for_tenant(&client, "TENANT-1"), "tok-1"),
        (
            for_authority(&client, "http://127.0.0.1:9/tenant-1"),
            "tok-1",
        ),
        (for_tenant(&client, "tenant-b"), "tok-b"),
        (for_tenant(&client, "Tenant-B"), "tok-b"),
        (
            for_authority(&client, "HTTP://127.0.0.1:9/tenant-B/"),
            "tok-b",
        ),
    ] {
        let hit = client.acquire_from_memory(&request).expect("a memory hit");
        assert_eq!(hit.access_token.expose(), token);
        assert_eq!(
            acquire(&client, request).unwrap().source,
            TokenSource::Memory
        );
    }
    assert_eq!(host.request_count(), 2);
    // A tenant never asked for has nothing cached: it goes to its own endpoint.
    assert!(client
        .acquire_from_memory(&for_tenant(&client, "tenant-c"))
        .is_none());
}

#[test]
fn concurrent_requests_share_one_flight_per_tenant() {
    let host = TestHost::new();
    host.reply(Reply::Gated(HttpResponse::new(200, TOKEN_1)))
        .reply(Reply::Gated(HttpResponse::new(200, TOKEN_B)));
    let client = client(&host);
    let mut calls: Vec<_> = [None, Some("tenant-b"), None, Some("TENANT-B")]
        .into_iter()
        .map(|tenant| {
            let request = match tenant {
                Some(tenant) => for_tenant(&client, tenant),
                None => request(&client),
            };
            Box::pin(client.acquire_token_for_client(request))
        })
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
    assert_eq!(tokens, ["tok-1", "tok-b", "tok-1", "tok-b"]);
    let urls: Vec<String> = sent(&host).into_iter().map(|(url, _)| url).collect();
    assert_eq!(urls, [OWN_URL, B_URL]);
}

#[test]
fn a_tenants_refusal_and_throttling_stay_with_that_tenant() {
    let host = TestHost::new();
    let not_consented = r#"{"error":"invalid_client","error_description":"AADSTS700016: Application with identifier 'app-id' was not found in the directory 'tenant-b'."}"#;
    host.status(400, &[], not_consented)
        .status(429, &[("retry-after", "600")], "{}")
        .token(TOKEN_1);
    let client = client(&host);
    let refused = acquire(&client, for_tenant(&client, "tenant-b")).unwrap_err();
    assert_eq!(refused.code(), "invalid_client");
    let throttled = acquire(&client, for_tenant(&client, "tenant-c")).unwrap_err();
    assert_eq!(throttled.kind(), ErrorKind::Throttled);
    // Remembered for those tenants: no request is sent for them again…
    assert_eq!(
        acquire(&client, for_tenant(&client, "tenant-b"))
            .unwrap_err()
            .code(),
        "invalid_client"
    );
    assert_eq!(
        acquire(&client, for_tenant(&client, "tenant-c"))
            .unwrap_err()
            .kind(),
        ErrorKind::Throttled
    );
    assert_eq!(host.request_count(), 2);
    // …while the client's own tenant is asked as usual.
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-1"
    );
    assert_eq!(host.request_count(), 3);
}

#[test]
fn a_shared_store_names_each_tenants_token_apart() {
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_B);
    let store = Rc::new(MemoryStore::default());
    let shared: Rc<dyn TokenStore> = store.clone();
    let client = ConfidentialClient::with_store(config(), host.clone(), Some(shared.clone()));
    acquire(&client, request(&client)).unwrap();
    acquire(&client, for_tenant(&client, "tenant-b")).unwrap();
    let mut keys: Vec<(String, String)> = store
        .tokens
        .borrow()
        .iter()
        .map(|(key, token)| (key.clone(), token.access_token.expose().to_owned()))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            (format!("{OWN_URL}\napp-id\n{SCOPE}"), "tok-1".to_owned()),
            (format!("{B_URL}\napp-id\n{SCOPE}"), "tok-b".to_owned()),
        ]
    );
    // Another client sharing the store finds tenant B's token under tenant B only.
    let second = ConfidentialClient::with_store(config(), host.clone(), Some(shared));
    let b = acquire(&second, for_tenant(&second, "tenant-b")).unwrap();
    assert_eq!(
        (b.access_token.expose(), b.source),
        ("tok-b", TokenSource::Store)
    );
    let own = acquire(&second, request(&second)).unwrap();
    assert_eq!(
        (own.access_token.expose(), own.source),
        ("tok-1", TokenSource::Store)
    );
    assert_eq!(host.request_count(), 2);
}

#[test]
fn a_serialized_cache_keeps_tenants_apart() {
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_B);
    let client = client(&host);
    acquire(&client, request(&client)).unwrap();
    let own_only: serde_json::Value = serde_json::from_str(&client.serialize_cache()).unwrap();
    assert_eq!(
        own_only["version"], 1,
        "a cache of the own tenant only reads as before"
    );
    acquire(&client, for_tenant(&client, "Tenant-B")).unwrap();
    let json = client.serialize_cache();
    let blob: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        blob["version"], 2,
        "version 1 readers would mix the tenants up"
    );
    let labels: Vec<(serde_json::Value, &str)> = blob["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["authority"].clone(), t["access_token"].as_str().unwrap()))
        .collect();
    assert_eq!(
        labels,
        [
            (serde_json::Value::Null, "tok-1"),
            (serde_json::json!("http://127.0.0.1:9/tenant-b"), "tok-b")
        ]
    );

    let restored = client_of(&host, config());
    assert_eq!(restored.deserialize_cache(&json).unwrap(), 2);
    let b = acquire(&restored, for_tenant(&restored, "tenant-b")).unwrap();
    assert_eq!(
        (b.access_token.expose(), b.source),
        ("tok-b", TokenSource::Memory)
    );
    let own = acquire(&restored, request(&restored)).unwrap();
    assert_eq!(
        (own.access_token.expose(), own.source),
        ("tok-1", TokenSource::Memory)
    );
    assert_eq!(host.request_count(), 2);

    // What no client of this app could have written refuses the whole blob: no tenant, not
    // the canonical (lowercase) label, or a label naming this client's own endpoint.
    for authority in [
        "http://127.0.0.1:9/common",
        "http://127.0.0.1:9/..",
        "http://127.0.0.1:9/Tenant-B",
        "http://127.0.0.1:9/tenant-1",
        "http://127.0.0.1:9/tenant-b/",
        "http://login.example.com/tenant-b",
    ] {
        let forged = json.replace("http://127.0.0.1:9/tenant-b", authority);
        let error = client_of(&host, config())
            .deserialize_cache(&forged)
            .unwrap_err();
        assert!(
            error.message().contains("tokens[1]") && error.message().contains("authority"),
            "{authority}: {error}"
        );
    }
}

/// Clients of one app with different tenant rules share one cache (a daemon listing another
/// cloud in allowedAuthorityHosts, a CLI without): the reader loads what it may ask for and
/// leaves the rest out, rather than refusing the file for the other's entries. A token is
/// still only loaded for a request that would have been allowed to fetch it.
#[test]
fn clients_with_other_tenant_rules_share_a_serialized_cache() {
    const US: &str = "https://login.microsoftonline.us/tenant-b";
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_B).token(TOKEN_B);
    let writer = client_of(
        &host,
        config()
            .with_allowed_authority_hosts(&["https://login.microsoftonline.us".into()])
            .unwrap(),
    );
    acquire(&writer, request(&writer)).unwrap();
    acquire(&writer, for_authority(&writer, US)).unwrap();
    acquire(&writer, for_tenant(&writer, "tenant-b")).unwrap();
    let json = writer.serialize_cache();
    assert_eq!(host.request_count(), 3);

    let plain = client_of(&host, config());
    assert_eq!(
        plain.deserialize_cache(&json).unwrap(),
        2,
        "own and tenant-b"
    );
    let own = acquire(&plain, request(&plain)).unwrap();
    assert_eq!(
        (own.access_token.expose(), own.source),
        ("tok-1", TokenSource::Memory)
    );
    let b = acquire(&plain, for_tenant(&plain, "tenant-b")).unwrap();
    assert_eq!(b.source, TokenSource::Memory);
    let error = acquire(&plain, for_authority(&plain, US)).unwrap_err();
    assert!(
        error.message().contains("allowedAuthorityHosts"),
        "the other cloud's token was not loaded: {error}"
    );
    assert_eq!(host.request_count(), 3, "no request for what was loaded");

    // A fixed assertionAudience takes no other tenant: it loads its own token only.
    let fixed = client_of(
        &host,
        config().with_assertion_audience("https://issuer.example"),
    );
    assert_eq!(fixed.deserialize_cache(&json).unwrap(), 1, "own only");
    let own = acquire(&fixed, request(&fixed)).unwrap();
    assert_eq!(own.source, TokenSource::Memory);
    assert_eq!(host.request_count(), 3);
    // …and what it writes keeps the tenant entries it skipped out of its own serialization.
    let written: serde_json::Value = serde_json::from_str(&fixed.serialize_cache()).unwrap();
    assert_eq!(written["tokens"].as_array().unwrap().len(), 1);
}

fn client_of(host: &TestHost, config: ClientConfig) -> ConfidentialClient<TestHost> {
    ConfidentialClient::new(config, host.clone())
}

#[test]
fn a_requests_authority_is_held_to_the_clients_rules() {
    let host = TestHost::new();
    let client = client(&host);
    for (request, field, kind, says) in [
        (
            for_tenant(&client, "common"),
            "tenantId",
            ErrorKind::InvalidAuthority,
            "cannot be used for client credentials",
        ),
        (
            for_tenant(&client, "Organizations"),
            "tenantId",
            ErrorKind::InvalidAuthority,
            "cannot be used for client credentials",
        ),
        (
            for_tenant(&client, ""),
            "tenantId",
            ErrorKind::InvalidAuthority,
            "must name a tenant",
        ),
        (
            for_tenant(&client, "a/b"),
            "tenantId",
            ErrorKind::InvalidAuthority,
            "may only hold",
        ),
        (
            for_tenant(&client, ".."),
            "tenantId",
            ErrorKind::InvalidAuthority,
            "dot-separated part",
        ),
        (
            for_tenant(&client, &"a".repeat(5000)),
            "tenantId",
            ErrorKind::InvalidAuthority,
            "at most 253",
        ),
        (
            for_authority(&client, "http://127.0.0.1:9/.."),
            "authority",
            ErrorKind::InvalidAuthority,
            "dot-separated part",
        ),
        (
            for_authority(&client, "http://127.0.0.1:9/consumers"),
            "authority",
            ErrorKind::InvalidAuthority,
            "cannot be used for client credentials",
        ),
        (
            for_authority(&client, "http://127.0.0.1:9/a/b"),
            "authority",
            ErrorKind::InvalidAuthority,
            "one tenant segment",
        ),
        (
            for_authority(&client, "http://127.0.0.1:9"),
            "authority",
            ErrorKind::InvalidAuthority,
            "one tenant segment",
        ),
        (
            for_authority(&client, "http://login.example.com/tenant-b"),
            "authority",
            ErrorKind::InvalidAuthority,
            "must use https",
        ),
        (
            for_authority(&client, "https://login.microsoftonline.us/tenant-b"),
            "authority",
            ErrorKind::InvalidAuthority,
            "list its host in the client option allowedAuthorityHosts",
        ),
        (
            for_authority(&client, "http://127.0.0.1:10/tenant-b"),
            "authority",
            ErrorKind::InvalidAuthority,
            "on the client's cloud (http://127.0.0.1:9)",
        ),
    ] {
        let error = acquire(&client, request.clone()).unwrap_err();
        assert_eq!(
            (error.kind(), error.field()),
            (kind, Some(field)),
            "{error}"
        );
        assert!(error.message().contains(says), "{error}");
        assert!(client.acquire_from_memory(&request).is_none());
    }
    assert_eq!(
        host.request_count(),
        0,
        "nothing is sent for a refused authority"
    );
}

#[test]
fn another_cloud_is_allowed_only_when_listed() {
    let host = TestHost::new();
    host.token(TOKEN_B);
    let listed = config()
        .with_allowed_authority_hosts(&["http://localhost:9".into()])
        .unwrap();
    let client = client_of(&host, listed);
    let b = acquire(
        &client,
        for_authority(&client, "http://LOCALHOST:9/tenant-b"),
    )
    .unwrap();
    assert_eq!(b.tenant_id.as_deref(), Some("tenant-b"));
    assert_eq!(
        sent(&host)[0].0,
        "http://localhost:9/tenant-b/oauth2/v2.0/token"
    );
    // tenantId keeps the client's cloud whatever is listed.
    host.token(TOKEN_B);
    acquire(&client, for_tenant(&client, "tenant-b")).unwrap();
    assert_eq!(sent(&host)[1].0, B_URL);

    for (hosts, says) in [
        (
            vec!["https://login.microsoftonline.us/tid".to_owned()],
            "no tenant or path",
        ),
        (
            vec!["http://login.microsoftonline.us".to_owned()],
            "must use https",
        ),
        (vec!["login.microsoftonline.us".to_owned()], "https://"),
    ] {
        let error = config().with_allowed_authority_hosts(&hosts).unwrap_err();
        assert_eq!(error.field(), Some("allowedAuthorityHosts"), "{error}");
        assert!(error.message().contains(says), "{error}");
    }
}

#[test]
fn clients_without_tenants_to_switch_refuse_a_tenant_per_request() {
    let host = TestHost::new();
    let generic = ClientConfig::new(
        "app-id",
        TokenEndpoint::generic("http://127.0.0.1:9/oauth/token").unwrap(),
        Credential::client_secret("pw").unwrap(),
    )
    .unwrap();
    let client = client_of(&host, generic);
    for request in [
        for_tenant(&client, "tenant-b"),
        for_authority(&client, "http://127.0.0.1:9/tenant-b"),
    ] {
        let error = acquire(&client, request).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidAuthority);
        assert!(
            error
                .message()
                .contains("this one has tokenEndpoint, a generic OAuth2 server without tenants"),
            "{error}"
        );
    }
    // A fixed assertion audience names one tenant's endpoint: another tenant is refused,
    // the client's own (however named) is not.
    host.token(TOKEN_1);
    let fixed = client_of(
        &host,
        config().with_assertion_audience("https://issuer.example"),
    );
    let error = acquire(&fixed, for_tenant(&fixed, "tenant-b")).unwrap_err();
    assert_eq!(
        (error.kind(), error.field()),
        (ErrorKind::InvalidConfig, Some("tenantId"))
    );
    assert!(
        error.message().contains("remove assertionAudience"),
        "{error}"
    );
    acquire(&fixed, for_tenant(&fixed, "tenant-1")).unwrap();
    assert_eq!(host.request_count(), 1);
}

/// Signs with a fixed marker: the test reads the assertion's claims, not its signature.
struct MarkerSigner;

impl Signer for MarkerSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        JwsAlgorithm::Ps256
    }
    fn sign<'a>(&'a self, _: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async { Ok(b"signature".to_vec()) })
    }
    fn digest<'a>(&'a self, _: bool, data: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move { Ok(vec![0x5a; data.len().min(32)]) })
    }
}

/// The `aud` of the assertion in a request's form.
fn assertion_audience(body: &str) -> String {
    let assertion = form_urlencoded::parse(body.as_bytes())
        .find(|(name, _)| name == "client_assertion")
        .map(|(_, value)| value.into_owned())
        .expect("a client assertion");
    let claims = assertion.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    claims["aud"].as_str().unwrap().to_owned()
}

#[test]
fn a_certificates_assertion_names_the_tenants_token_endpoint() {
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_B);
    let certificate = CertificateCredential::new(
        Rc::new(MarkerSigner),
        CertificateOptions {
            certificate_chain: vec![vec![1, 2, 3]],
            ..CertificateOptions::default()
        },
    )
    .unwrap();
    let config = ClientConfig::new(
        "app-id",
        TokenEndpoint::from_authority("http://127.0.0.1:9/tenant-1").unwrap(),
        Credential::Certificate(Rc::new(certificate)),
    )
    .unwrap();
    let client = client_of(&host, config);
    acquire(&client, request(&client)).unwrap();
    acquire(&client, for_tenant(&client, "tenant-b")).unwrap();
    let sent = sent(&host);
    assert_eq!([sent[0].0.as_str(), sent[1].0.as_str()], [OWN_URL, B_URL]);
    assert_eq!(assertion_audience(&sent[0].1), OWN_URL);
    assert_eq!(assertion_audience(&sent[1].1), B_URL);
}

#[test]
fn another_tenants_requests_keep_the_clients_extra_query_parameters() {
    let host = TestHost::new();
    host.token(TOKEN_B);
    let endpoint = TokenEndpoint::from_authority("http://127.0.0.1:9/tenant-1")
        .unwrap()
        .with_extra_query_parameters(&[("dc".into(), "ESTS-PUB-WUS2-AZ1-FD000-TEST1".into())]);
    let config =
        ClientConfig::new("app-id", endpoint, Credential::client_secret("pw").unwrap()).unwrap();
    let client = client_of(&host, config);
    acquire(&client, for_tenant(&client, "tenant-b")).unwrap();
    assert_eq!(
        sent(&host)[0].0,
        format!("{B_URL}?dc=ESTS-PUB-WUS2-AZ1-FD000-TEST1")
    );
}
