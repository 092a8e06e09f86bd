//! Exact findings of the tenant, token and claims checks.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use super::*;
use crate::error::{Error, ErrorKind, IdpErrorDetails};

const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const HOST: &str = "https://login.microsoftonline.com";
const NOW_MS: u64 = 1_796_319_958_000;

fn jwt(claims: serde_json::Value) -> String {
    format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn expected(scope: &str, tenant: Option<&str>) -> ExpectedClaims {
    ExpectedClaims {
        scope: scope.into(),
        client_id: CLIENT_ID.into(),
        tenant: tenant.map(str::to_owned),
        tenant_id: None,
        authority_host: Some(HOST.into()),
    }
}

fn good_claims() -> serde_json::Value {
    json!({
        "aud": "https://graph.microsoft.com", "tid": TENANT_ID, "appid": CLIENT_ID,
        "roles": ["User.Read.All", "Mail.Send"], "iat": 1_796_319_900, "exp": 1_796_323_500
    })
}

#[test]
fn a_good_token_is_all_ok() {
    let token = jwt(good_claims());
    let findings = check_claims(
        &token,
        &expected("https://graph.microsoft.com/.default", Some(TENANT_ID)),
        NOW_MS,
    );
    assert_eq!(
        findings,
        vec![
            Finding::ok(
                CheckId::Audience,
                "aud https://graph.microsoft.com is the requested resource"
            ),
            Finding::ok(
                CheckId::TokenTenant,
                format!("tid {TENANT_ID} is the tenant")
            ),
            Finding::ok(
                CheckId::TokenClient,
                format!("appid {CLIENT_ID} is the client id")
            ),
            Finding::ok(CheckId::Roles, "roles User.Read.All, Mail.Send"),
            Finding::ok(
                CheckId::TokenLifetime,
                "issued 2026-12-03T17:45:00Z, expires 2026-12-03T18:45:00Z (in 59 min)"
            ),
        ]
    );
    let shown = render(&findings);
    assert!(!shown.contains(&token) && !shown.contains("c2lnbmF0dXJl"));
}

#[test]
fn a_token_without_roles_warns_with_the_admin_consent_url() {
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove("roles");
    let findings = check_claims(
        &jwt(claims),
        &expected(
            "https://graph.microsoft.com/.default",
            Some("contoso.onmicrosoft.com"),
        ),
        NOW_MS,
    );
    assert_eq!(
        findings[3],
        Finding::warn(
            CheckId::Roles,
            "the token has no roles: no application permission has been granted, so APIs such as Graph answer \"Insufficient privileges to complete the operation\"",
            format!("an administrator must grant the app's application permissions (API permissions → Grant admin consent), or open https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id={CLIENT_ID}"),
        )
    );
    // A domain tenant is not compared offline, unless discovery resolved its id.
    assert_eq!(
        findings[1],
        Finding::ok(CheckId::TokenTenant, format!("tid {TENANT_ID} (the tenant is configured as contoso.onmicrosoft.com, which cannot be compared offline)"))
    );
    let mut resolved = expected(
        "https://graph.microsoft.com/.default",
        Some("contoso.onmicrosoft.com"),
    );
    resolved.tenant_id = Some(TENANT_ID.into());
    assert_eq!(
        check_claims(&jwt(good_claims()), &resolved, NOW_MS)[1].status,
        Status::Ok
    );
    resolved.tenant_id = Some("00000000-0000-0000-0000-000000000000".into());
    assert_eq!(
        check_claims(&jwt(good_claims()), &resolved, NOW_MS)[1].status,
        Status::Fail
    );
}

#[test]
fn wrong_audience_tenant_and_client_fail() {
    let claims = json!({"aud": "api://other", "tid": "00000000-0000-0000-0000-000000000001", "azp": "99999999-2222-3333-4444-555555555555", "roles": ["r"], "exp": 1_796_323_500});
    let findings = check_claims(
        &jwt(claims),
        &expected("api://mine/.default", Some(TENANT_ID)),
        NOW_MS,
    );
    assert_eq!(
        findings[0],
        Finding::fail(CheckId::Audience, ExitClass::Refused, "aud api://other is not the requested resource api://mine", "the API would refuse this token: request the scope \"api://mine/.default\" for the API you call")
    );
    assert_eq!(
        findings[1],
        Finding::fail(CheckId::TokenTenant, ExitClass::Refused, format!("tid 00000000-0000-0000-0000-000000000001 is not the tenant {TENANT_ID}"), "the token was issued by another tenant: check the authority (tenant id) the client uses")
    );
    assert_eq!(
        findings[2],
        Finding::fail(CheckId::TokenClient, ExitClass::Configuration, format!("azp 99999999-2222-3333-4444-555555555555 is not the client id {CLIENT_ID}"), "the token was issued to another application: check the clientId the credential belongs to")
    );
    assert_eq!(
        findings[4],
        Finding::ok(
            CheckId::TokenLifetime,
            "expires 2026-12-03T18:45:00Z (in 59 min)"
        )
    );
}

#[test]
fn audience_rule_accepts_graphs_app_id_and_flags_other_guids() {
    let scope = "api://mine/.default";
    let with_aud = |aud: serde_json::Value, scope: &str| {
        check_claims(&jwt(json!({"aud": aud})), &expected(scope, None), NOW_MS).remove(0)
    };
    assert_eq!(
        with_aud(
            json!("00000003-0000-0000-c000-000000000000"),
            "https://graph.microsoft.com//.default"
        )
        .status,
        Status::Ok
    );
    assert_eq!(
        with_aud(json!(["x", "API://MINE/"]), scope).status,
        Status::Ok
    );
    assert_eq!(
        with_aud(json!("aaaaaaaa-2222-3333-4444-555555555555"), scope),
        Finding::warn(CheckId::Audience, "aud aaaaaaaa-2222-3333-4444-555555555555 is an application id; the resource was requested as api://mine", "check that aaaaaaaa-2222-3333-4444-555555555555 is the Application (client) ID of the API behind api://mine (App registrations → the API → Overview)")
    );
    assert_eq!(
        with_aud(
            json!("aaaaaaaa-2222-3333-4444-555555555555"),
            "AAAAAAAA-2222-3333-4444-555555555555/.default"
        )
        .status,
        Status::Ok
    );
    assert_eq!(
        with_aud(json!(7), scope).summary,
        "the token has no aud claim"
    );
    let long = "x".repeat(500);
    assert!(with_aud(json!(long), scope).summary.chars().count() < 200);
}

#[test]
fn graphs_two_names_match_only_each_other() {
    const GRAPH_ID: &str = "00000003-0000-0000-c000-000000000000";
    const OTHER_ID: &str = "bbbbbbbb-2222-3333-4444-555555555555";
    let status = |aud: &str, scope: &str| {
        check_claims(&jwt(json!({ "aud": aud })), &expected(scope, None), NOW_MS)
            .remove(0)
            .status
    };
    let graph = "https://graph.microsoft.com/.default";
    assert_eq!(status(GRAPH_ID, graph), Status::Ok);
    assert_eq!(
        status(
            "https://graph.microsoft.com",
            &format!("{GRAPH_ID}/.default")
        ),
        Status::Ok
    );
    // Graph's id is no other resource, and Graph is no other id or URL.
    assert_eq!(
        status(GRAPH_ID, "https://contoso.example/.default"),
        Status::Warn
    );
    assert_eq!(status("https://other.example", graph), Status::Fail);
    assert_eq!(
        status(
            "https://graph.microsoft.com",
            &format!("{OTHER_ID}/.default")
        ),
        Status::Fail
    );
    assert_eq!(
        status(OTHER_ID, &format!("{GRAPH_ID}/.default")),
        Status::Fail
    );
    assert_eq!(status("api://other", "api://mine/.default"), Status::Fail);
}

#[test]
fn opaque_and_malformed_tokens_warn_once() {
    let not_jwt = vec![Finding::warn(
        CheckId::Claims,
        "the access token is not a JWT (opaque or encrypted), so its claims cannot be checked",
        "nothing to fix if the API accepts it: some servers issue opaque tokens; call the API to check it",
    )];
    for token in [
        "opaque-token",
        "a.b",
        "a.!!.c",
        "a.b.c.d.e",
        "",
        "a.WzFd.c",
        "....",
    ] {
        assert_eq!(
            check_claims(token, &expected("x/.default", None), NOW_MS),
            not_jwt,
            "{token}"
        );
    }
    let expired = check_claims(
        &jwt(json!({"exp": 1_700_000_000, "iat": 1_699_996_400})),
        &expected("x/.default", None),
        NOW_MS,
    );
    assert_eq!(expired[4].status, Status::Warn);
    assert_eq!(
        expired[4].summary,
        "issued 2023-11-14T21:13:20Z, expired 2023-11-14T22:13:20Z (1114 days ago)"
    );
    assert_eq!(expired[3].fix.as_deref(), Some("an administrator must grant the app's application permissions (API permissions → Grant admin consent)"));
    assert_eq!(
        expired[1],
        Finding::ok(
            CheckId::TokenTenant,
            "no tid claim and no tenant configured: nothing to compare"
        )
    );
}

fn discovery(status: u16, body: serde_json::Value, tenant: &str) -> TenantDiscovery {
    check_tenant_discovery(&DiscoveryInput {
        status,
        body: body.to_string(),
        token_endpoint: format!("{HOST}/{tenant}/oauth2/v2.0/token"),
        tenant: tenant.into(),
        authority_host: HOST.into(),
    })
}

#[test]
fn discovery_confirms_the_tenant_and_resolves_a_domain() {
    let configuration = json!({"token_endpoint": format!("{HOST}/{TENANT_ID}/oauth2/v2.0/token")});
    assert_eq!(
        discovery(200, configuration.clone(), TENANT_ID),
        TenantDiscovery {
            finding: Finding::ok(CheckId::Tenant, format!("tenant {TENANT_ID} exists; token endpoint {HOST}/{TENANT_ID}/oauth2/v2.0/token")),
            tenant_id: Some(TENANT_ID.into()),
        }
    );
    assert_eq!(
        discovery(200, configuration, "contoso.onmicrosoft.com").finding,
        Finding::ok(CheckId::Tenant, format!("tenant contoso.onmicrosoft.com exists as {TENANT_ID}; token endpoint {HOST}/{TENANT_ID}/oauth2/v2.0/token"))
    );
}

#[test]
fn discovery_fails_for_a_missing_tenant_or_another_endpoint() {
    // What Entra answers for a tenant that does not exist.
    let body = json!({"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'nope.onmicrosoft.com' not found.","error_codes":[90002]});
    assert_eq!(
        discovery(400, body, "nope.onmicrosoft.com").finding,
        Finding::fail(CheckId::Tenant, ExitClass::Configuration, "tenant nope.onmicrosoft.com was not found at https://login.microsoftonline.com (AADSTS90002)", "tenant nope.onmicrosoft.com does not exist in this cloud: check the tenant id or domain, and the authority host (public cloud, US Gov login.microsoftonline.us, China login.chinacloudapi.cn)")
    );
    let elsewhere =
        json!({"token_endpoint": "https://login.microsoftonline.us/x/oauth2/v2.0/token"});
    assert_eq!(
        discovery(200, elsewhere, TENANT_ID).finding,
        Finding::fail(CheckId::Tenant, ExitClass::Configuration, format!("the client posts to {HOST}/{TENANT_ID}/oauth2/v2.0/token, but the authority's configuration names https://login.microsoftonline.us/x/oauth2/v2.0/token"), "use the authority (tenant and host) the token endpoint belongs to, or set tokenEndpoint to the one the configuration names")
    );
    assert_eq!(
        discovery(503, json!({}), TENANT_ID).finding.status,
        Status::Warn
    );
    assert_eq!(
        discovery(403, json!("x"), TENANT_ID).finding.summary,
        format!("the authority's OpenID configuration for {TENANT_ID} answered HTTP 403")
    );
    // No configuration at Entra's path: another kind of server (AD FS, a custom authority).
    assert_eq!(
        discovery(404, json!("x"), TENANT_ID).finding,
        Finding::skipped(CheckId::Tenant, format!("tenant: skipped: {HOST} publishes no OpenID configuration at Entra's path (HTTP 404), so it is not an Entra ID authority and the tenant cannot be checked"))
    );
    assert_eq!(
        discovery(200, json!([]), TENANT_ID).finding.status,
        Status::Warn
    );
}

#[test]
fn token_errors_read_as_the_cli_prints_them() {
    let refused = Error::identity_provider(
        "invalid_client",
        "AADSTS700027: Client assertion failed signature validation.",
        IdpErrorDetails {
            status: 401,
            aadsts: vec![700027],
            trace_id: Some("t-1".into()),
            ..Default::default()
        },
    )
    .with_correlation_id("c-1")
    .with_hint("upload the certificate");
    assert_eq!(
        check_token_error(&refused),
        Finding::fail(
            CheckId::Token,
            ExitClass::Refused,
            "no token: invalid_client: AADSTS700027: Client assertion failed signature validation.",
            "upload the certificate"
        )
        .with_details(vec![
            "AADSTS: 700027".into(),
            "correlation id: c-1".into(),
            "trace id: t-1".into()
        ])
    );
    let throttled = Error::new(ErrorKind::Throttled, "slow down").with_retry_after_ms(1_500);
    let finding = check_token_error(&throttled);
    assert_eq!(
        (finding.exit, finding.details.clone()),
        (
            Some(ExitClass::Transient),
            vec!["retry after: 2 s".to_owned()]
        )
    );
    assert_eq!(
        finding.fix.as_deref(),
        Some("try again later: nothing needs to change on this side")
    );
    assert_eq!(
        exit_class(&Error::invalid_config("clientId", "missing")),
        ExitClass::Configuration
    );
    assert_eq!(
        exit_class(&Error::crypto("no key")),
        ExitClass::Configuration
    );
    assert_eq!(exit_class(&Error::network("reset")), ExitClass::Transient);
    assert_eq!(
        exit_class(&Error::invalid_response("no access_token")),
        ExitClass::Refused
    );
    assert_eq!(exit_code(&[check_token_error(&Error::network("reset"))]), 4);
    assert_eq!(
        token_acquired("https://graph.microsoft.com/.default", 3_599_000),
        Finding::ok(
            CheckId::Token,
            "token acquired for https://graph.microsoft.com/.default (expires in 59 min)"
        )
    );
}

#[test]
fn issued_at_is_read_from_iat_in_milliseconds() {
    assert_eq!(
        super::issued_at_ms(&jwt(json!({ "iat": 1_796_319_958 }))),
        Some(1_796_319_958_000)
    );
    assert_eq!(super::issued_at_ms(&jwt(json!({ "iat": "soon" }))), None);
    assert_eq!(super::issued_at_ms(&jwt(json!({ "iat": -5 }))), None);
    assert_eq!(super::issued_at_ms("opaque"), None);
    assert_eq!(super::issued_at_ms(&jwt(json!({ "iat": u64::MAX }))), None);
}

#[test]
fn a_token_not_valid_yet_warns_from_the_millisecond_after_nbf() {
    let now_s = NOW_MS / 1000;
    let lifetime = |nbf: u64| {
        let token = jwt(json!({ "nbf": nbf, "exp": now_s + 3600 }));
        check_claims(&token, &expected("api://x/.default", None), NOW_MS).remove(4)
    };
    let later = lifetime(now_s + 60);
    assert_eq!(later.status, Status::Warn);
    assert_eq!(
        later.summary,
        "expires 2026-12-03T18:45:58Z (in 60 min); not valid before 2026-12-03T17:46:58Z"
    );
    assert_eq!(
        later.fix.as_deref(),
        Some("the token is not valid yet by this machine's clock: check the clock (NTP)")
    );
    assert_eq!(lifetime(now_s).status, Status::Ok, "valid from nbf itself");
    assert_eq!(lifetime(now_s - 60).status, Status::Ok);
}

#[test]
fn discovery_needs_the_same_host_path_and_tenant() {
    let endpoint_of = |configured: String, tenant: &str| {
        discovery(200, json!({ "token_endpoint": configured }), tenant)
            .finding
            .status
    };
    let other_id = "bbbbbbbb-2222-3333-4444-555555555555";
    // Same tenant, another cloud; same tenant and host, another path (v1's endpoint).
    assert_eq!(
        endpoint_of(
            format!("https://login.microsoftonline.us/{TENANT_ID}/oauth2/v2.0/token"),
            TENANT_ID
        ),
        Status::Fail
    );
    assert_eq!(
        endpoint_of(format!("{HOST}/{TENANT_ID}/oauth2/token"), TENANT_ID),
        Status::Fail
    );
    // A tenant id is never "resolved" to another id, nor a domain to another domain.
    assert_eq!(
        endpoint_of(format!("{HOST}/{other_id}/oauth2/v2.0/token"), TENANT_ID),
        Status::Fail
    );
    assert_eq!(
        endpoint_of(
            format!("{HOST}/fabrikam.com/oauth2/v2.0/token"),
            "contoso.com"
        ),
        Status::Fail
    );
    assert_eq!(
        endpoint_of(
            format!("{HOST}/{TENANT_ID}/oauth2/v2.0/token"),
            "contoso.com"
        ),
        Status::Ok
    );
}

#[test]
fn either_mark_of_a_missing_tenant_is_enough() {
    let not_found = |body: serde_json::Value| {
        discovery(400, body, "nope.onmicrosoft.com")
            .finding
            .summary
            .ends_with("(AADSTS90002)")
    };
    assert!(not_found(
        json!({"error": "invalid_request", "error_codes": [90002]})
    ));
    assert!(not_found(json!({"error": "invalid_tenant"})));
    assert!(!not_found(
        json!({"error": "invalid_request", "error_codes": [90001]})
    ));
}

/// A token is untrusted input: an `exp`, `iat` or `nbf` at the ends of i64 must give a
/// finding, not an overflow (a panic in debug builds, nonsense in release).
#[test]
fn hostile_times_in_claims_do_not_overflow() {
    for exp in [i64::MIN, i64::MIN / 1000, -1, i64::MAX / 1000, i64::MAX] {
        for now_ms in [0, NOW_MS, u64::MAX] {
            let token = jwt(json!({ "exp": exp, "iat": exp, "nbf": exp }));
            let findings = check_claims(&token, &expected("api://x/.default", None), now_ms);
            let lifetime = findings
                .iter()
                .find(|f| f.check == CheckId::TokenLifetime)
                .expect("a lifetime finding");
            assert_eq!(lifetime.status, Status::Warn, "exp {exp}, now {now_ms}");
        }
    }
    let far_future = jwt(json!({ "exp": i64::MAX }));
    let finding = check_claims(&far_future, &expected("api://x/.default", None), NOW_MS);
    assert!(finding.iter().any(|f| f.check == CheckId::TokenLifetime));
}
