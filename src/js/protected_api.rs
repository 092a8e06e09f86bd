//! `getAuthorizationHeader()` and `callApi()`: using the token on the protected web API, with
//! one retry on a claims challenge and a clear error when the app lacks permissions.

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::bindings::{aborted, JsConfidentialClient};
use super::fetch::describe_js_error;
use super::object::{bare_object, call, call_async, get, set};
use super::to_js_error;
use super::url_view::{shown_url, without_url};
use crate::challenge::{claims_from_challenge, is_insufficient_privileges};
use crate::client::AuthResult;
use crate::error::{Error, IdpErrorDetails};
use crate::option_names::{CALL_API_FIELDS, REQUEST_FIELDS};
use crate::option_value::required_text;
use crate::request_fields::HostRequest;
use crate::troubleshooting::admin_consent_url;

#[wasm_bindgen(js_class = ConfidentialClient)]
impl JsConfidentialClient {
    /// `getAuthorizationHeader({ scopes, … })` → `"Bearer eyJ…"`.
    #[wasm_bindgen(js_name = getAuthorizationHeader)]
    pub fn get_authorization_header(&self, request: JsValue) -> Promise {
        self.acquire_then(&request, "getAuthorizationHeader", REQUEST_FIELDS, bearer)
    }

    /// `callApi(url, { scopes, method?, headers?, body?, abortSignal? })` → the API's
    /// `Response`. Adds the token; on a 401 carrying a claims challenge, gets a token with
    /// those claims and retries once; a 403 for missing application permissions rejects with
    /// `insufficient_privileges`. The abort signal cancels the API call too.
    #[wasm_bindgen(js_name = callApi)]
    pub fn call_api(&self, url: JsValue, init: JsValue) -> Promise {
        let read = required_text(&url, "url", "the protected API's URL").and_then(|url| {
            let request = HostRequest::read(&init, "callApi", CALL_API_FIELDS, self.scope_rules());
            Ok((url, request?))
        });
        let (url, request) = match read {
            Ok(read) => read,
            Err(error) => return Promise::reject(&to_js_error(&error)),
        };
        let authorization = self.authorization_header(&request, None);
        let this = self.clone();
        let consent = self.consent_hint(&request);
        wasm_bindgen_futures::future_to_promise(async move {
            let header = JsFuture::from(authorization).await?;
            let mut response = send(&this.fetch_fn, &url, &request, &header).await?;
            if status(&response) == 401 {
                let challenge = header_value(&response, "www-authenticate");
                if let Some(claims) = challenge.as_deref().and_then(claims_from_challenge) {
                    let retry = this.authorization_header(&request, Some(claims));
                    let header = JsFuture::from(retry).await?;
                    response = send(&this.fetch_fn, &url, &request, &header).await?;
                }
            }
            if status(&response) == 403 {
                let body = text_of_clone(&response).await;
                if is_insufficient_privileges(403, &body) {
                    let error = Error::identity_provider(
                        "insufficient_privileges",
                        format!("{} answered 403: the app lacks the application permission this call needs", shown_url(&url)),
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
    /// The header for `request`, with `claims` when a challenge asked for them.
    fn authorization_header(
        &self,
        request: &HostRequest<JsValue>,
        claims: Option<String>,
    ) -> Promise {
        let mut token = request.token.clone();
        token.claims = claims.or(token.claims);
        self.start(Ok((token, request.signal.clone())), bearer)
    }

    /// The fix for a 403, naming the tenant the request's token came from.
    fn consent_hint(&self, request: &HostRequest<JsValue>) -> String {
        let config = self.client.config();
        // The request was read, and its authority is checked again before any token is
        // fetched: one the client refuses never reaches the API.
        let other = config
            .endpoint_for(request.token.authority.as_ref())
            .ok()
            .flatten();
        let endpoint = other.as_ref().unwrap_or(config.token_endpoint());
        match (endpoint.authority_host(), endpoint.tenant()) {
            (Some(host), Some(tenant)) => format!(
                "add the application permission (app role) to the app registration, then have an administrator grant it: {}",
                admin_consent_url(host, tenant, config.client_id())
            ),
            _ => "grant the app the permission (role or scope) this API requires".to_owned(),
        }
    }
}

/// The authorization header's value for `result`.
fn bearer(result: AuthResult) -> JsValue {
    JsValue::from(format!(
        "{} {}",
        result.token_type,
        result.access_token.expose()
    ))
}

/// Sends `request`'s `method`, `headers` and `body` to `url` as the caller gave them, with
/// the token in `authorization`; its signal cancels the call.
async fn send(
    fetch_fn: &Function,
    url: &str,
    request: &HostRequest<JsValue>,
    authorization: &JsValue,
) -> Result<JsValue, JsValue> {
    let init = bare_object();
    for key in ["method", "body"] {
        if let Some(value) = request.fields.get(key) {
            set(&init, key, value);
        }
    }
    if let Some(signal) = &request.signal {
        set(&init, "signal", signal);
    }
    let failed = |cause: &JsValue| match &request.signal {
        Some(signal) if get(signal, "aborted").is_truthy() => to_js_error(&aborted(None)),
        _ => network(url, cause),
    };
    let headers_ctor: Function = get(&js_sys::global(), "Headers").dyn_into()?;
    let args: Array = request.fields.get("headers").into_iter().collect();
    let headers = Reflect::construct(&headers_ctor, &args)?;
    call(
        &headers,
        "set",
        &["authorization".into(), authorization.clone()],
    )?;
    set(&init, "headers", &headers);
    let pending = fetch_fn
        .call2(&JsValue::UNDEFINED, &url.into(), &init)
        .map_err(|e| failed(&e))?;
    JsFuture::from(Promise::resolve(&pending))
        .await
        .map_err(|e| failed(&e))
}

fn network(url: &str, cause: &JsValue) -> JsValue {
    // Neither the URL nor the runtime's message quoting it shows a query: it may carry a
    // signature (SAS) or key.
    to_js_error(&Error::network(format!(
        "could not reach {}: {}",
        shown_url(url),
        without_url(&describe_js_error(cause), url)
    )))
}

fn status(response: &JsValue) -> u16 {
    get(response, "status").as_f64().unwrap_or(0.0) as u16
}

fn header_value(response: &JsValue, name: &str) -> Option<String> {
    call(&get(response, "headers"), "get", &[name.into()])
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
