//! Sending the core's OAuth2-shaped answers ([`cctoken::broker::reply`]) as responses that no
//! cache keeps.

use cctoken::broker::reply::{token_body, ErrorReply};
use cctoken::AuthResult;
use worker::{Response, Result};

/// A successful token response; `expires_in` counts the seconds left from `now_ms`.
pub fn token_response(token: &AuthResult, now_ms: u64) -> Result<Response> {
    no_store(Response::from_json(&token_body(token, now_ms))?)
}

/// An OAuth2 error response. `description` must never contain a secret.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Result<Response> {
    error_reply(ErrorReply::new(status, error, description))
}

/// `reply` with its status and, when it has one, `Retry-After`.
pub fn error_reply(reply: ErrorReply) -> Result<Response> {
    let mut response = Response::from_json(&reply.body)?.with_status(reply.status);
    if let Some(seconds) = reply.retry_after_s {
        response
            .headers_mut()
            .set("retry-after", &seconds.to_string())?;
    }
    no_store(response)
}

fn no_store(mut response: Response) -> Result<Response> {
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}
