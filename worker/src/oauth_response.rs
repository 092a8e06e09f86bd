//! OAuth2-shaped JSON responses (RFC 6749 §5.1 and §5.2), and how the core's errors map to
//! them.

use cctoken::{AuthResult, Error, TokenSource};
use serde_json::{json, Value};
use worker::{Response, Result};

/// A successful token response; `expires_in` counts the seconds left from `now_ms`.
pub fn token_response(token: &AuthResult, now_ms: u64) -> Result<Response> {
    let cache = match token.source {
        TokenSource::Memory => "memory",
        TokenSource::Store => "kv",
        TokenSource::IdentityProvider => "idp",
    };
    let body = json!({
        "access_token": token.access_token.expose(),
        "token_type": token.token_type,
        "expires_in": token.expires_on_ms.saturating_sub(now_ms) / 1000,
        "expires_on": token.expires_on_ms / 1000,
        "cache": cache,
    });
    no_store(Response::from_json(&body)?)
}

/// An OAuth2 error response. `description` must never contain a secret.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Result<Response> {
    error_with(status, error, description, json!({}))
}

/// The reply to a failed acquisition: the core error's code, its description, the
/// provider's AADSTS numbers and trace id, the correlation id, and `Retry-After` when the
/// provider asked to wait.
pub fn acquisition_failed(error: &Error) -> Result<Response> {
    let mut extra = json!({ "correlation_id": error.correlation_id() });
    if let Some(details) = error.idp_details() {
        extra["error_codes"] = json!(details.aadsts);
        extra["trace_id"] = json!(details.trace_id);
    }
    let mut response = error_with(reply_status(error), error.code(), &describe(error), extra)?;
    if let Some(ms) = error.retry_after_ms() {
        response
            .headers_mut()
            .set("retry-after", &ms.div_ceil(1000).to_string())?;
    }
    Ok(response)
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

/// An OAuth2 error response with extra members (AADSTS codes, correlation ids).
fn error_with(status: u16, error: &str, description: &str, extra: Value) -> Result<Response> {
    let mut body = json!({ "error": error, "error_description": description });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    no_store(Response::from_json(&body)?.with_status(status))
}

fn no_store(mut response: Response) -> Result<Response> {
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cctoken::error::IdpErrorDetails;
    use cctoken::ErrorKind;

    fn from_idp(status: u16, code: &str) -> Error {
        Error::identity_provider(
            code,
            "refused",
            IdpErrorDetails {
                status,
                ..IdpErrorDetails::default()
            },
        )
    }

    /// Retrying may help: 503; the provider's considered answer or an unusable reply: 502.
    #[test]
    fn transient_is_503_and_everything_else_502() {
        for error in [
            Error::network("connection reset"),
            Error::new(ErrorKind::Timeout, "no answer"),
            Error::new(ErrorKind::Throttled, "slow down"),
            from_idp(503, "temporarily_unavailable"),
            from_idp(429, "too_many_requests"),
            from_idp(500, "server_error"),
            from_idp(502, "server_error"),
            from_idp(504, "server_error"),
        ] {
            assert_eq!(reply_status(&error), 503, "{error}");
        }
        for error in [
            from_idp(401, "invalid_client"),
            from_idp(503, "invalid_scope"),
            Error::invalid_response("no access_token"),
        ] {
            assert_eq!(reply_status(&error), 502, "{error}");
        }
    }
}
