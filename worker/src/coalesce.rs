//! Concurrent requests for the same token share one acquisition through a JS promise.
//!
//! The core already coalesces, but its waiters are woken from the task that fetched; in
//! workerd that task belongs to the first request, and code resumed there must not build
//! another request's response ("Cannot perform I/O on behalf of a different request"). A JS
//! promise does it right: each request resumes in its own context when the promise settles,
//! and what crosses over is plain data.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cctoken::{AuthResult, TokenRequest, TokenSource};
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::state::{Broker, InRequest, RequestScope};

thread_local! {
    static PENDING: RefCell<HashMap<String, Promise>> = RefCell::new(HashMap::new());
}

/// A token as plain data, safe to hand between requests.
pub struct Served {
    /// The access token.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Expiry, ms since the epoch.
    pub expires_on_ms: u64,
    /// Which tier served it.
    pub source: TokenSource,
}

/// Failures cross as the core error's parts.
pub struct Failed {
    /// HTTP status for the broker's reply.
    pub status: u16,
    /// OAuth2 error code.
    pub code: String,
    /// Description (message and hint; never a secret).
    pub description: String,
    /// AADSTS numbers, trace id, correlation id, as JSON members.
    pub extra: serde_json::Value,
    /// Seconds to wait, for throttling.
    pub retry_after_s: Option<u64>,
}

/// Acquires through `broker`, sharing the acquisition with concurrent requests for the same
/// scopes (and refresh flag). An acquisition this request starts runs in its `scope`, so the
/// fetch it spawns is kept alive by this request's `waitUntil`.
pub async fn acquire(
    broker: Rc<Broker>,
    request: TokenRequest,
    scope: Rc<RequestScope>,
) -> Result<Served, Failed> {
    let key = format!("{}\n{}", request.force_refresh, request.scopes.cache_key());
    let existing = PENDING.with(|pending| pending.borrow().get(&key).cloned());
    let promise = match existing {
        Some(promise) => promise,
        None => {
            let task_key = key.clone();
            let promise = future_to_promise(InRequest::new(scope, async move {
                let outcome = broker.client.acquire_token_for_client(request).await;
                PENDING.with(|pending| pending.borrow_mut().remove(&task_key));
                match outcome {
                    Ok(result) => Ok(served_to_js(&result)),
                    Err(error) => Err(failed_to_js(&error)),
                }
            }));
            PENDING.with(|pending| pending.borrow_mut().insert(key, promise.clone()));
            promise
        }
    };
    match JsFuture::from(promise).await {
        Ok(value) => Ok(served_from_js(&value)),
        Err(value) => Err(failed_from_js(&value)),
    }
}

fn set(target: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(target, &key.into(), &value);
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn served_to_js(result: &AuthResult) -> JsValue {
    let object = Object::new();
    set(&object, "accessToken", result.access_token.expose().into());
    set(&object, "tokenType", result.token_type.as_str().into());
    set(
        &object,
        "expiresOnMs",
        JsValue::from_f64(result.expires_on_ms as f64),
    );
    let source = match result.source {
        TokenSource::Memory => 0,
        TokenSource::Store => 1,
        TokenSource::IdentityProvider => 2,
    };
    set(&object, "source", source.into());
    object.into()
}

fn served_from_js(value: &JsValue) -> Served {
    Served {
        access_token: get(value, "accessToken").as_string().unwrap_or_default(),
        token_type: get(value, "tokenType").as_string().unwrap_or_default(),
        expires_on_ms: get(value, "expiresOnMs").as_f64().unwrap_or_default() as u64,
        source: match get(value, "source").as_f64() {
            Some(0.0) => TokenSource::Memory,
            Some(1.0) => TokenSource::Store,
            _ => TokenSource::IdentityProvider,
        },
    }
}

fn failed_to_js(error: &cctoken::Error) -> JsValue {
    let status = reply_status(error);
    let mut extra = serde_json::json!({ "correlation_id": error.correlation_id() });
    if let Some(details) = error.idp_details() {
        extra["error_codes"] = serde_json::json!(details.aadsts);
        extra["trace_id"] = serde_json::json!(details.trace_id);
    }
    let description = match error.hint() {
        Some(hint) => format!("{} (hint: {hint})", error.message()),
        None => error.message().to_owned(),
    };
    let object = Object::new();
    set(&object, "status", status.into());
    set(&object, "code", error.code().into());
    set(&object, "description", description.into());
    set(&object, "extra", extra.to_string().into());
    if let Some(ms) = error.retry_after_ms() {
        set(
            &object,
            "retryAfterS",
            JsValue::from_f64(ms.div_ceil(1000) as f64),
        );
    }
    object.into()
}

/// 503 (with the IdP's `Retry-After` passed on) while the identity provider is unreachable,
/// slow, throttling or says it is unavailable: worth trying again later. 502 for anything else
/// it answered: an OAuth2 refusal, a server error, a reply that is not a usable token.
fn reply_status(error: &cctoken::Error) -> u16 {
    use cctoken::ErrorKind;
    match (error.kind(), error.status()) {
        (ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Throttled, _) => 503,
        (_, Some(429 | 503)) => 503,
        _ => 502,
    }
}

fn failed_from_js(value: &JsValue) -> Failed {
    Failed {
        status: get(value, "status").as_f64().unwrap_or(502.0) as u16,
        code: get(value, "code")
            .as_string()
            .unwrap_or_else(|| "server_error".to_owned()),
        description: get(value, "description").as_string().unwrap_or_default(),
        extra: get(value, "extra")
            .as_string()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default(),
        retry_after_s: get(value, "retryAfterS").as_f64().map(|s| s as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cctoken::error::IdpErrorDetails;
    use cctoken::{Error, ErrorKind};

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

    #[test]
    fn unavailable_is_503_and_everything_else_502() {
        for error in [
            Error::network("connection reset"),
            Error::new(ErrorKind::Timeout, "no answer"),
            Error::new(ErrorKind::Throttled, "slow down"),
            from_idp(503, "temporarily_unavailable"),
            from_idp(429, "too_many_requests"),
        ] {
            assert_eq!(reply_status(&error), 503, "{error}");
        }
        for error in [
            from_idp(500, "server_error"),
            from_idp(502, "server_error"),
            from_idp(504, "server_error"),
            from_idp(401, "invalid_client"),
            Error::invalid_response("no access_token"),
        ] {
            assert_eq!(reply_status(&error), 502, "{error}");
        }
    }
}
