//! The `--call <url>` check: what the protected API's answer to a GET with the token means.
//! A 401 with a claims challenge (Conditional Access, continuous access evaluation), a 403
//! `Authorization_RequestDenied` (the app lacks an application permission: admin consent),
//! or the API accepting the token.

use super::finding::{printable, CheckId, ExitClass, Finding};
use crate::challenge::{claims_from_challenge, is_insufficient_privileges};
use crate::troubleshooting::admin_consent_url;

/// Longest part of a reply (claims, error description) shown.
const MAX_SHOWN_CHARS: usize = 200;

/// The API's answer and what the admin-consent URL needs.
#[derive(Debug, Clone, Default)]
pub struct CallInput {
    /// The URL called. Shown without its query: a query may carry a signature or key.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The `WWW-Authenticate` header, if any.
    pub www_authenticate: Option<String>,
    /// The body (only searched for `Authorization_RequestDenied`, never printed).
    pub body: String,
    /// The authority host, for the admin-consent URL (Entra only).
    pub authority_host: Option<String>,
    /// The tenant, for the admin-consent URL (Entra only).
    pub tenant: Option<String>,
    /// The client id, for the admin-consent URL.
    pub client_id: String,
}

/// `url` without query or fragment, printable.
fn shown_url(url: &str) -> String {
    printable(
        url.split(['?', '#']).next().unwrap_or_default(),
        MAX_SHOWN_CHARS,
    )
}

/// The API could not be reached: a ✗ of the network class.
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
}
