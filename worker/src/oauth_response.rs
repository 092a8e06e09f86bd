//! OAuth2-shaped JSON responses (RFC 6749 §5.1 and §5.2).

use cctoken::TokenSource;
use serde_json::{json, Value};
use worker::{Response, Result};

/// A successful token response; `expires_in` counts the seconds left from `now_ms`.
pub fn token_response(
    access_token: &str,
    token_type: &str,
    expires_on_ms: u64,
    now_ms: u64,
    source: TokenSource,
) -> Result<Response> {
    let cache = match source {
        TokenSource::Memory => "memory",
        TokenSource::Store => "kv",
        TokenSource::IdentityProvider => "idp",
    };
    let body = json!({
        "access_token": access_token,
        "token_type": token_type,
        "expires_in": expires_on_ms.saturating_sub(now_ms) / 1000,
        "expires_on": expires_on_ms / 1000,
        "cache": cache,
    });
    no_store(Response::from_json(&body)?)
}

/// An OAuth2 error response. `description` must never contain a secret.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Result<Response> {
    error_with(status, error, description, json!({}))
}

/// An OAuth2 error response with extra members (AADSTS codes, correlation ids).
pub fn error_with(status: u16, error: &str, description: &str, extra: Value) -> Result<Response> {
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
