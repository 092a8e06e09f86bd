//! The broker's answers as OAuth2 JSON (RFC 6749 §5.1 and §5.2), and how the core's errors map
//! to them. The Worker sends each as it is, with `cache-control: no-store`.

use serde_json::{json, Value};

use super::received_token_request::Refusal;
use super::settings::Misconfigured;
use crate::client::{AuthResult, TokenSource};
use crate::error::Error;

/// The body of a successful token response; `expires_in` counts the seconds left from
/// `now_ms`, `cache` says which tier served it.
pub fn token_body(token: &AuthResult, now_ms: u64) -> Value {
    let cache = match token.source {
        TokenSource::Memory => "memory",
        TokenSource::Store => "kv",
        TokenSource::Coordinator => "coordinator",
        TokenSource::IdentityProvider => "idp",
    };
    json!({
        "access_token": token.access_token.expose(),
        "token_type": token.token_type,
        "expires_in": token.expires_on_ms.saturating_sub(now_ms) / 1000,
        "expires_on": token.expires_on_ms / 1000,
        "cache": cache,
    })
}

/// An OAuth2 error response: status, JSON body, and the `Retry-After` seconds if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReply {
    /// The HTTP status.
    pub status: u16,
    /// `{"error": …, "error_description": …}` and any extra members.
    pub body: Value,
    /// Seconds for `Retry-After`.
    pub retry_after_s: Option<u64>,
}

impl ErrorReply {
    /// `status` with `error` and `description`, which must never contain a secret.
    pub fn new(status: u16, error: &str, description: &str) -> Self {
        ErrorReply {
            status,
            body: json!({ "error": error, "error_description": description }),
            retry_after_s: None,
        }
    }

    /// 429 `slow_down`, with the seconds until the caller's budget allows another request.
    pub fn slow_down(description: &str, retry_after_s: u64) -> Self {
        ErrorReply {
            retry_after_s: Some(retry_after_s),
            ..ErrorReply::new(429, "slow_down", description)
        }
    }

    /// The reply to a failed acquisition: the core error's code, its description, the
    /// provider's AADSTS numbers and trace id, the correlation id, and `Retry-After` when the
    /// provider asked to wait.
    pub fn acquisition_failed(error: &Error) -> Self {
        let mut reply = ErrorReply::new(reply_status(error), error.code(), &describe(error));
        reply.body["correlation_id"] = json!(error.correlation_id());
        if let Some(details) = error.idp_details() {
            reply.body["error_codes"] = json!(details.aadsts);
            reply.body["trace_id"] = json!(details.trace_id);
        }
        reply.retry_after_s = error.retry_after_ms().map(|ms| ms.div_ceil(1000));
        reply
    }
}

impl From<Refusal> for ErrorReply {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::TooLarge => {
                ErrorReply::new(413, "invalid_request", "the request body is over 16 KiB")
            }
            Refusal::UnsupportedMediaType => ErrorReply::new(
                415,
                "invalid_request",
                "send application/json ({\"scopes\": [...]}) or an application/x-www-form-urlencoded OAuth2 client-credentials request",
            ),
        }
    }
}

/// What `/token` answers anyone while the broker is misconfigured: the setting's name (and
/// entry) and fixed text, never the detail, which is for the log.
impl From<&Misconfigured> for ErrorReply {
    fn from(problem: &Misconfigured) -> Self {
        ErrorReply::new(
            500,
            "server_misconfigured",
            &format!("{}: {}", problem.name(), problem.public()),
        )
    }
}

/// `/healthz`'s body: the version, and whether the configuration is complete; if not, the
/// setting to fix (and which entry of it) with fixed text, as anyone may ask.
pub fn health_body(version: &str, problem: Option<&Misconfigured>) -> Value {
    let Some(problem) = problem else {
        return json!({ "version": version, "configured": true });
    };
    let mut body = json!({
        "version": version,
        "configured": false,
        "setting": problem.setting,
        "problem": problem.public(),
    });
    if let Some(index) = problem.index {
        body["index"] = json!(index);
    }
    body
}

/// The error's message and, when it has one, its hint (never a secret).
pub fn describe(error: &Error) -> String {
    match error.hint() {
        Some(hint) => format!("{} (hint: {hint})", error.message()),
        None => error.message().to_owned(),
    }
}

/// 503 (with the IdP's `Retry-After` passed on) when the same request may succeed later
/// ([`Error::is_transient`]: the identity provider is unreachable, slow, throttling or
/// answered 429 or 5xx): a gateway's "try again". 502 for anything else it answered: an
/// OAuth2 refusal, a reply that is not a usable token.
fn reply_status(error: &Error) -> u16 {
    if error.is_transient() {
        503
    } else {
        502
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::from_idp;

    /// The status follows the core's one classification (`Error::is_transient`, tested in
    /// `error.rs`): a case of each kind.
    #[test]
    fn transient_is_503_and_everything_else_502() {
        for (error, status) in [
            (Error::network("connection reset"), 503),
            (from_idp(500, "server_error"), 503),
            (from_idp(429, "too_many_requests"), 503),
            (from_idp(503, "invalid_scope"), 502),
            (from_idp(401, "invalid_client"), 502),
            (Error::invalid_response("no access_token"), 502),
        ] {
            assert_eq!(reply_status(&error), status, "{error}");
        }
    }

    #[test]
    fn a_failed_acquisition_carries_the_providers_details() {
        let reply = ErrorReply::acquisition_failed(&from_idp(401, "invalid_client"));
        assert_eq!(reply.status, 502);
        assert_eq!(reply.body["error"], "invalid_client");
        assert_eq!(reply.body["error_description"], "refused");
        assert_eq!(reply.body["error_codes"], json!([]));
        assert!(reply.body["trace_id"].is_null());
        assert!(reply.body["correlation_id"].is_null());
        assert_eq!(reply.retry_after_s, None);

        let network = ErrorReply::acquisition_failed(&Error::network("connection reset"));
        let mut members: Vec<_> = network.body.as_object().unwrap().keys().collect();
        members.sort();
        assert_eq!(
            members,
            ["correlation_id", "error", "error_description"],
            "no provider, no provider details"
        );
    }

    #[test]
    fn a_token_is_the_oauth2_body_with_its_tier() {
        let token = AuthResult {
            access_token: crate::AccessToken::new("tok"),
            token_type: "Bearer".into(),
            expires_on_ms: 3_600_999,
            ext_expires_on_ms: 3_600_999,
            refresh_on_ms: None,
            served_as_is_until_ms: 0,
            scopes: vec!["api://a/.default".into()],
            source: TokenSource::Store,
            correlation_id: None,
            tenant_id: None,
        };
        assert_eq!(
            token_body(&token, 1_000),
            json!({"access_token": "tok", "token_type": "Bearer", "expires_in": 3599, "expires_on": 3600, "cache": "kv"})
        );
    }

    #[test]
    fn slow_down_is_429_with_retry_after() {
        let reply = ErrorReply::slow_down("over budget", 7);
        assert_eq!(reply.status, 429);
        assert_eq!(
            reply.body,
            json!({ "error": "slow_down", "error_description": "over budget" })
        );
        assert_eq!(reply.retry_after_s, Some(7));
    }

    /// Unauthenticated answers carry the setting's name, its index and fixed text only.
    #[test]
    fn misconfiguration_shows_the_setting_and_fixed_text_only() {
        let problem = Misconfigured::refused("CLIENT_SECRET", "AADSTS detail with s3cret");
        let reply = ErrorReply::from(&problem);
        assert_eq!(reply.status, 500);
        assert_eq!(
            reply.body["error_description"],
            format!("CLIENT_SECRET: {}", problem.public())
        );
        let body = health_body("1.2.3", Some(&problem));
        assert_eq!(
            body,
            json!({"version": "1.2.3", "configured": false, "setting": "CLIENT_SECRET", "problem": problem.public()})
        );
        for shown in [reply.body.to_string(), body.to_string()] {
            assert!(!shown.contains("s3cret"), "{shown}");
        }
        assert_eq!(
            health_body("1.2.3", None),
            json!({"version": "1.2.3", "configured": true})
        );
    }
}
