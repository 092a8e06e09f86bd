//! OAuth2-shaped JSON responses (RFC 6749 §5.1 and §5.2).

use serde_json::json;
use worker::{Response, Result};

/// Where a served token came from.
#[derive(Debug, Clone, Copy)]
pub enum TokenOrigin {
    /// Workers KV, written earlier by this or another isolate.
    Kv,
    /// Freshly issued by the identity provider.
    Idp,
}

impl TokenOrigin {
    fn as_str(self) -> &'static str {
        match self {
            TokenOrigin::Kv => "kv",
            TokenOrigin::Idp => "idp",
        }
    }
}

/// A successful token response; `expires_in` counts the seconds left from `now_ms`.
pub fn token_response(
    access_token: &str,
    token_type: &str,
    expires_on_ms: u64,
    now_ms: u64,
    source: TokenOrigin,
) -> Result<Response> {
    let body = json!({
        "access_token": access_token,
        "token_type": token_type,
        "expires_in": expires_on_ms.saturating_sub(now_ms) / 1000,
        "expires_on": expires_on_ms / 1000,
        "cache": source.as_str(),
    });
    let mut response = Response::from_json(&body)?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}

/// An OAuth2 error response. `description` must never contain a secret.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Result<Response> {
    let body = json!({ "error": error, "error_description": description });
    let mut response = Response::from_json(&body)?.with_status(status);
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}
