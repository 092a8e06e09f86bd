//! The `--call <url>` check: what the protected API's answer to a GET with the token means.
//! A 401 with a claims challenge (Conditional Access, continuous access evaluation), a 403
//! `Authorization_RequestDenied` (the app lacks an application permission: admin consent),
//! or the API accepting the token.

use super::finding::{printable, CheckId, ExitClass, Finding};
use crate::authority::is_loopback_host;
use crate::challenge::{claims_from_challenge, is_insufficient_privileges};
use crate::troubleshooting::admin_consent_url;

/// Longest part of a reply (claims, error description) shown.
const MAX_SHOWN_CHARS: usize = 200;

/// A URL as the runtime's WHATWG `URL` parser split it: the parts that may be shown and
/// whether it carries what must not be (a user name or password).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UrlView {
    /// The scheme without its colon, lower case: `https`.
    pub scheme: String,
    /// Whether the URL has a user name or password (`user:pw@`).
    pub has_credentials: bool,
    /// The host with its port, IPv6 in brackets: `api.example:8443`, `[::1]`.
    pub host: String,
    /// The path, percent-encoded: `/v1.0/users`.
    pub path: String,
}

impl UrlView {
    /// `scheme://host[:port]/path`: no user, password, query or fragment (a query may carry
    /// a signature or key).
    pub fn shown(&self) -> String {
        printable(
            &format!("{}://{}{}", self.scheme, self.host, self.path),
            MAX_SHOWN_CHARS,
        )
    }
}

impl std::fmt::Debug for UrlView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

/// The API's answer and what the admin-consent URL needs.
#[derive(Clone, Default)]
pub struct CallInput {
    /// The URL called, as shown ([`UrlView::shown`]).
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The `WWW-Authenticate` header, if any.
    pub www_authenticate: Option<String>,
    /// For a 3xx, where the `Location` header points, as shown ([`UrlView::shown`]).
    pub location: Option<String>,
    /// The body (only searched for `Authorization_RequestDenied`, never printed).
    pub body: String,
    /// The authority host, for the admin-consent URL (Entra only).
    pub authority_host: Option<String>,
    /// The tenant, for the admin-consent URL (Entra only).
    pub tenant: Option<String>,
    /// The client id, for the admin-consent URL.
    pub client_id: String,
}

/// Shows the URL without its query and the reply without its body.
impl std::fmt::Debug for CallInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallInput")
            .field("url", &shown_url(&self.url))
            .field("status", &self.status)
            .field("location", &self.location.as_deref().map(shown_url))
            .field("body_chars", &self.body.chars().count())
            .finish_non_exhaustive()
    }
}

/// `url` without user, password, query or fragment, printable: a defence in depth, since
/// [`CallInput::url`] is already shown form.
fn shown_url(url: &str) -> String {
    let base = url.split(['?', '#']).next().unwrap_or_default();
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{host}{path}")
        }
        None => base.to_owned(),
    };
    printable(&base, MAX_SHOWN_CHARS)
}

/// Whether `--call`'s URL may be sent the token: `Ok` with how it is shown, or a
/// configuration ✗ that never quotes the URL. `None` is a URL the runtime could not parse.
/// Refused: unparsable URLs, schemes other than http(s), a user name or password in the URL
/// (it would be printed, logged and sent), and plain http to a host that is not loopback
/// (the token would cross the network in clear): the authority's rule.
pub fn check_call_target(target: Option<&UrlView>) -> Result<String, Finding> {
    let refuse = |summary: &str, fix: &str| {
        Err(Finding::fail(
            CheckId::Call,
            ExitClass::Configuration,
            format!("--call: {summary}"),
            fix,
        ))
    };
    let Some(target) = target else {
        return refuse(
            "the URL cannot be parsed (it is not shown: it may carry a key)",
            "pass an absolute URL: --call https://api.example/path",
        );
    };
    if target.has_credentials {
        return refuse(
            "the URL has a user name or password in it (not shown); the doctor calls with the token only",
            "remove user:password@ from the URL",
        );
    }
    match target.scheme.as_str() {
        "https" => Ok(target.shown()),
        "http" if is_loopback_host(&target.host) => Ok(target.shown()),
        "http" => refuse(
            &format!(
                "{} uses plain http: the token would cross the network in clear",
                target.shown()
            ),
            "use https (plain http is only allowed to loopback hosts: 127.0.0.1, localhost, [::1])",
        ),
        _ => refuse(
            "only http and https URLs can be called",
            "pass an https URL: --call https://api.example/path",
        ),
    }
}

/// The API could not be reached: a ✗ of the network class. `url` is the shown URL and
/// `cause` a code or kind (`ECONNREFUSED`, `no answer within 30 s`), never a fetch error's
/// message, which may quote the whole URL.
pub fn check_call_unreachable(url: &str, cause: &str) -> Finding {
    Finding::fail(
        CheckId::Call,
        ExitClass::Transient,
        format!(
            "GET {} failed: {}",
            shown_url(url),
            printable(cause, MAX_SHOWN_CHARS)
        ),
        "check the URL, the network and any proxy between here and the API",
    )
}

/// What the API's status means for the token.
pub fn check_call(input: &CallInput) -> Finding {
    let url = shown_url(&input.url);
    let status = input.status;
    let said = format!("GET {url} answered {status}");
    match status {
        200..=299 => Finding::ok(CheckId::Call, format!("{said}: the API accepted the token")),
        401 => unauthorized(input, &said),
        403 if is_insufficient_privileges(status, &input.body) => Finding::fail(
            CheckId::Call,
            ExitClass::Refused,
            format!("{said} Authorization_RequestDenied: the app lacks the application permission this call needs"),
            consent_fix(input),
        ),
        403 => Finding::fail(
            CheckId::Call,
            ExitClass::Refused,
            format!("{said}: the API accepted who the token names but does not allow this call"),
            "grant the app the application permission (app role) the API requires for this call",
        ),
        300..=399 => Finding::warn(
            CheckId::Call,
            match &input.location {
                Some(to) => format!("{said}: the API redirected to {} instead of answering", shown_url(to)),
                None => format!("{said}: the API redirected instead of answering"),
            },
            "call the URL the API answers at: the doctor does not follow redirects, so the token is never sent on to another host",
        ),
        404 => Finding::warn(
            CheckId::Call,
            format!("{said}: nothing at this URL (the token was not refused)"),
            "check the URL",
        ),
        429 | 500..=599 => Finding::warn(
            CheckId::Call,
            format!("{said}: the API is busy or failing; this says nothing about the token"),
            "try again later",
        ),
        _ => Finding::warn(
            CheckId::Call,
            said,
            "the API's documentation says what this status means for a GET",
        ),
    }
}

fn unauthorized(input: &CallInput, said: &str) -> Finding {
    let challenge = input.www_authenticate.as_deref().unwrap_or_default();
    if let Some(claims) = claims_from_challenge(challenge) {
        return Finding::fail(
            CheckId::Call,
            ExitClass::Refused,
            format!("{said} with a claims challenge: the API wants a token carrying more claims"),
            "Conditional Access or continuous access evaluation asked for these claims: the library's callApi() gets a token with them and retries by itself; from the shell, fix what the policy requires (e.g. a revoked session, a location) and run again",
        )
        .with_details(vec![format!("claims: {}", printable(&claims, MAX_SHOWN_CHARS))]);
    }
    Finding::fail(
        CheckId::Call,
        ExitClass::Refused,
        format!("{said}: the API did not accept the token"),
        "check that aud (above) is this API's, and that the API accepts tokens of this tenant and app",
    )
}

fn consent_fix(input: &CallInput) -> String {
    match (input.authority_host.as_deref(), input.tenant.as_deref()) {
        (Some(host), Some(tenant)) => format!(
            "add the application permission (app role) to the app registration, then have an administrator grant it: {}",
            admin_consent_url(host, tenant, &input.client_id)
        ),
        _ => "grant the app the permission (role or scope) this API requires".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;
    use base64::Engine;

    fn input(status: u16) -> CallInput {
        CallInput {
            url: "https://graph.example/v1.0/users?sig=SECRETVALUE".into(),
            status,
            authority_host: Some("https://login.microsoftonline.com".into()),
            tenant: Some("contoso.onmicrosoft.com".into()),
            client_id: "00000000-0000-4000-8000-0000000000c1".into(),
            ..CallInput::default()
        }
    }

    #[test]
    fn success_is_ok_and_the_query_is_never_shown() {
        let finding = check_call(&input(200));
        assert_eq!(
            finding,
            Finding::ok(
                CheckId::Call,
                "GET https://graph.example/v1.0/users answered 200: the API accepted the token"
            )
        );
        assert_eq!(check_call(&input(204)).status, Status::Ok);
        assert_eq!(check_call(&input(300)).status, Status::Warn);
        assert_eq!(check_call(&input(199)).status, Status::Warn);
    }

    #[test]
    fn a_claims_challenge_is_named_with_its_claims() {
        let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#;
        let mut answer = input(401);
        answer.www_authenticate = Some(format!(
            "Bearer error=\"insufficient_claims\", claims=\"{}\"",
            base64::engine::general_purpose::STANDARD.encode(claims)
        ));
        let finding = check_call(&answer);
        assert_eq!(finding.status, Status::Fail);
        assert_eq!(finding.exit, Some(ExitClass::Refused));
        assert!(
            finding.summary.ends_with(
                "answered 401 with a claims challenge: the API wants a token carrying more claims"
            ),
            "{}",
            finding.summary
        );
        assert_eq!(finding.details, vec![format!("claims: {claims}")]);
        answer.www_authenticate = Some("Bearer realm=\"x\"".into());
        let plain = check_call(&answer);
        assert!(plain
            .summary
            .ends_with("answered 401: the API did not accept the token"));
        assert!(plain.details.is_empty());
    }

    #[test]
    fn a_403_for_missing_permissions_gives_the_admin_consent_url() {
        let mut answer = input(403);
        answer.body = r#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#.into();
        let finding = check_call(&answer);
        assert_eq!(finding.exit, Some(ExitClass::Refused));
        assert_eq!(finding.fix.as_deref(), Some("add the application permission (app role) to the app registration, then have an administrator grant it: https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=00000000-0000-4000-8000-0000000000c1"));
        answer.tenant = None;
        assert_eq!(
            check_call(&answer).fix.as_deref(),
            Some("grant the app the permission (role or scope) this API requires")
        );
        answer.body = "{}".into();
        let other = check_call(&answer);
        assert!(other.summary.ends_with("does not allow this call"));
        assert_eq!(other.status, Status::Fail);
    }

    #[test]
    fn not_found_and_busy_warn_and_unreachable_is_network() {
        let said = "GET https://graph.example/v1.0/users answered";
        let not_found = check_call(&input(404));
        assert_eq!(not_found.status, Status::Warn);
        assert_eq!(
            not_found.summary,
            format!("{said} 404: nothing at this URL (the token was not refused)")
        );
        for status in [429, 500, 503, 599] {
            let busy = check_call(&input(status));
            assert_eq!(busy.status, Status::Warn);
            assert_eq!(
                busy.summary,
                format!("{said} {status}: the API is busy or failing; this says nothing about the token")
            );
        }
        let other = check_call(&input(418));
        assert_eq!(other.summary, format!("{said} 418"));
        assert_eq!(
            other.fix.as_deref(),
            Some("the API's documentation says what this status means for a GET")
        );
        let down = check_call_unreachable("http://127.0.0.1:9/x?k=v", "ECONNREFUSED\n");
        assert_eq!(
            down.summary,
            "GET http://127.0.0.1:9/x failed: ECONNREFUSED?"
        );
        assert_eq!(down.exit, Some(ExitClass::Transient));
    }

    fn view(scheme: &str, credentials: bool, host: &str) -> UrlView {
        UrlView {
            scheme: scheme.into(),
            has_credentials: credentials,
            host: host.into(),
            path: "/api/me".into(),
        }
    }

    #[test]
    fn call_targets_are_https_or_loopback_without_credentials() {
        assert_eq!(
            check_call_target(Some(&view("https", false, "graph.example:8443"))),
            Ok("https://graph.example:8443/api/me".to_owned())
        );
        for host in ["127.0.0.1:8080", "localhost", "[::1]:9"] {
            assert_eq!(
                check_call_target(Some(&view("http", false, host))),
                Ok(format!("http://{host}/api/me"))
            );
        }
        let refused = |target: Option<&UrlView>| {
            let finding = check_call_target(target).expect_err("refused");
            assert_eq!(finding.status, Status::Fail);
            assert_eq!(finding.exit, Some(ExitClass::Configuration));
            finding.summary
        };
        assert_eq!(
            refused(Some(&view("http", false, "api.example"))),
            "--call: http://api.example/api/me uses plain http: the token would cross the network in clear"
        );
        assert_eq!(
            refused(Some(&view("http", false, "127.0.0.2"))),
            "--call: http://127.0.0.2/api/me uses plain http: the token would cross the network in clear"
        );
        assert_eq!(
            refused(Some(&view("https", true, "api.example"))),
            "--call: the URL has a user name or password in it (not shown); the doctor calls with the token only"
        );
        assert_eq!(
            refused(Some(&view("ftp", false, "api.example"))),
            "--call: only http and https URLs can be called"
        );
        assert_eq!(
            refused(None),
            "--call: the URL cannot be parsed (it is not shown: it may carry a key)"
        );
    }

    #[test]
    fn a_redirect_warns_with_where_it_points_and_debug_hides_the_query() {
        let mut answer = input(302);
        answer.location = Some("https://elsewhere.example/login?next=SECRETVALUE".into());
        let finding = check_call(&answer);
        assert_eq!(finding.status, Status::Warn);
        assert_eq!(
            finding.summary,
            "GET https://graph.example/v1.0/users answered 302: the API redirected to https://elsewhere.example/login instead of answering"
        );
        answer.location = None;
        assert!(check_call(&answer)
            .summary
            .ends_with("answered 302: the API redirected instead of answering"));
        let mut leaky = input(200);
        leaky.url = "https://alice:PASSWORD@graph.example/v1.0/users?sig=SECRETVALUE".into();
        leaky.body = "BODYVALUE".into();
        let debug = format!("{leaky:?}");
        assert!(
            debug.contains("https://graph.example/v1.0/users"),
            "{debug}"
        );
        for secret in ["SECRETVALUE", "PASSWORD", "alice", "BODYVALUE"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(!check_call(&leaky).summary.contains("PASSWORD"));
        let view = view("https", true, "graph.example");
        assert_eq!(format!("{view:?}"), "https://graph.example/api/me");
    }
}
