//! `getAuthorizationHeader()` and `callApi()`: using the token on the protected web API, with
//! one retry on a claims challenge and a clear error when the app lacks permissions.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::bindings::{abort_signal, aborted, JsConfidentialClient, REQUEST_FIELDS};
use super::fetch::describe_js_error;
use super::object::{bare_object, call, call_async, get, set};
use super::options::{is_absent, member, own, require_string};
use super::to_js_error;
use crate::challenge::{claims_from_challenge, is_insufficient_privileges};
use crate::error::{Error, IdpErrorDetails};
use crate::troubleshooting::admin_consent_url;

/// The `init` fields of `callApi`: a token request's, and what is sent to the API.
const CALL_API_FIELDS: &[&str] = &[
    "scopes",
    "forceRefresh",
    "claims",
    "correlationId",
    "extraBodyParameters",
    "abortSignal",
    "signal",
    "method",
    "headers",
    "body",
];

#[wasm_bindgen(js_class = ConfidentialClient)]
impl JsConfidentialClient {
    /// `getAuthorizationHeader({ scopes, … })` → `"Bearer eyJ…"`.
    #[wasm_bindgen(js_name = getAuthorizationHeader)]
    pub fn get_authorization_header(&self, request: JsValue) -> Promise {
        self.authorization_header(&request, "getAuthorizationHeader", REQUEST_FIELDS)
    }

    /// `callApi(url, { scopes, method?, headers?, body?, abortSignal? })` → the API's
    /// `Response`. Adds the token; on a 401 carrying a claims challenge, gets a token with
    /// those claims and retries once; a 403 for missing application permissions rejects with
    /// `insufficient_privileges`. The abort signal cancels the API call too.
    #[wasm_bindgen(js_name = callApi)]
    pub fn call_api(&self, url: JsValue, init: JsValue) -> Promise {
        let url = match require_string(&url, "url", "the protected API's URL") {
            Ok(url) => url,
            Err(error) => return Promise::reject(&to_js_error(&error)),
        };
        let authorization = self.authorization_header(&init, "callApi", CALL_API_FIELDS);
        let fetch_fn = self.fetch_fn.clone();
        let claims_retry = {
            let init = init.clone();
            let this = JsConfidentialClient {
                client: self.client.clone(),
                fetch_fn: self.fetch_fn.clone(),
                bridge: self.bridge.clone(),
            };
            move |claims: String| {
                let request = copy_object(&init);
                set(&request, "claims", &claims.into());
                this.authorization_header(&request.into(), "callApi", CALL_API_FIELDS)
            }
        };
        let consent = self.consent_hint();
        wasm_bindgen_futures::future_to_promise(async move {
            let header = JsFuture::from(authorization).await?;
            let mut response = send(&fetch_fn, &url, &init, &header).await?;
            if status(&response) == 401 {
                let challenge = header_value(&response, "www-authenticate");
                if let Some(claims) = challenge.as_deref().and_then(claims_from_challenge) {
                    let header = JsFuture::from(claims_retry(claims)).await?;
                    response = send(&fetch_fn, &url, &init, &header).await?;
                }
            }
            if status(&response) == 403 {
                let body = text_of_clone(&response).await;
                if is_insufficient_privileges(403, &body) {
                    let error = Error::identity_provider(
                        "insufficient_privileges",
                        format!("{url} answered 403: the app lacks the application permission this call needs"),
                        IdpErrorDetails { status: 403, ..IdpErrorDetails::default() },
                    )
                    .with_hint(consent);
                    return Err(to_js_error(&error));
                }
            }
            Ok(response)
        })
    }
}

impl JsConfidentialClient {
    fn authorization_header(&self, request: &JsValue, method: &str, fields: &[&str]) -> Promise {
        self.acquire_then(request, method, fields, |result| {
            JsValue::from(format!(
                "{} {}",
                result.token_type,
                result.access_token.expose()
            ))
        })
    }

    fn consent_hint(&self) -> String {
        let config = self.client.config();
        let endpoint = config.token_endpoint();
        match (endpoint.authority_host(), endpoint.tenant()) {
            (Some(host), Some(tenant)) => format!(
                "add the application permission (app role) to the app registration, then have an administrator grant it: {}",
                admin_consent_url(host, tenant, config.client_id())
            ),
            _ => "grant the app the permission (role or scope) this API requires".to_owned(),
        }
    }
}

async fn send(
    fetch_fn: &Function,
    url: &str,
    init: &JsValue,
    authorization: &JsValue,
) -> Result<JsValue, JsValue> {
    let request = bare_object();
    for key in ["method", "body"] {
        let value = own(init, key);
        if !is_absent(&value) {
            set(&request, key, &value);
        }
    }
    // Checked when the token was acquired; a caller cancelling stops the API call as well.
    let signal = abort_signal(init).ok().flatten();
    if let Some(signal) = &signal {
        set(&request, "signal", signal);
    }
    let failed = |cause: &JsValue| match &signal {
        Some(signal) if member(signal, "aborted").is_truthy() => to_js_error(&aborted()),
        _ => network(url, cause),
    };
    let headers_ctor: Function = get(&js_sys::global(), "Headers").dyn_into()?;
    let given = own(init, "headers");
    let args: Array = if is_absent(&given) {
        Array::new()
    } else {
        [given].into_iter().collect()
    };
    let headers = Reflect::construct(&headers_ctor, &args)?;
    call(
        &headers,
        "set",
        &["authorization".into(), authorization.clone()],
    )?;
    set(&request, "headers", &headers);
    let pending = fetch_fn
        .call2(&JsValue::UNDEFINED, &url.into(), &request)
        .map_err(|e| failed(&e))?;
    JsFuture::from(Promise::resolve(&pending))
        .await
        .map_err(|e| failed(&e))
}

fn network(url: &str, cause: &JsValue) -> JsValue {
    to_js_error(&Error::network(format!(
        "could not reach {url}: {}",
        describe_js_error(cause)
    )))
}

fn status(response: &JsValue) -> u16 {
    member(response, "status").as_f64().unwrap_or(0.0) as u16
}

fn header_value(response: &JsValue, name: &str) -> Option<String> {
    call(&member(response, "headers"), "get", &[name.into()])
        .ok()?
        .as_string()
}

/// The body of a copy of `response`, so the caller can still read the original.
async fn text_of_clone(response: &JsValue) -> String {
    let read = async { call_async(&call(response, "clone", &[])?, "text", &[]).await };
    read.await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn copy_object(source: &JsValue) -> Object {
    let target = Object::new();
    if source.is_object() {
        let _ = Object::assign(&target, &Object::from(source.clone()));
    }
    target
}
