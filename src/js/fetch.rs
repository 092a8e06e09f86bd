//! HTTP through the host's `fetch` (Node 18+, Deno, Bun, Workers all have it).

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::Error;
use crate::ports::{Fetch, HttpRequest, HttpResponse};

#[wasm_bindgen]
extern "C" {
    /// The subset of the Fetch API `Response` the client reads.
    type FetchResponse;
    #[wasm_bindgen(method, getter)]
    fn status(this: &FetchResponse) -> u16;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, catch)]
    fn text(this: &FetchResponse) -> Result<Promise, JsValue>;
}

/// Sends requests with a JS `fetch` function: `globalThis.fetch` by default.
#[derive(Debug, Clone)]
pub struct JsFetch {
    fetch_fn: Function,
}

impl JsFetch {
    /// Uses `globalThis.fetch`, looked up now.
    pub fn global() -> Result<Self, Error> {
        let candidate = Reflect::get(&js_sys::global(), &"fetch".into()).unwrap_or_default();
        Self::with_function(candidate).map_err(|_| {
            Error::invalid_config(
                "fetch",
                "this JavaScript runtime has no global fetch: use Node 18 or newer, Deno, Bun or Workers, or pass a fetch function",
            )
        })
    }

    /// Uses a caller-supplied fetch-compatible function.
    pub fn with_function(candidate: JsValue) -> Result<Self, Error> {
        candidate
            .dyn_into::<Function>()
            .map(|fetch_fn| JsFetch { fetch_fn })
            .map_err(|_| Error::invalid_config("fetch", "fetch must be a function"))
    }
}

impl Fetch for JsFetch {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let init = Object::new();
        let headers = Object::new();
        for (name, value) in &request.headers {
            Reflect::set(&headers, &name.into(), &value.into()).map_err(host_error)?;
        }
        Reflect::set(&init, &"method".into(), &request.method.into()).map_err(host_error)?;
        Reflect::set(&init, &"headers".into(), &headers).map_err(host_error)?;
        Reflect::set(&init, &"body".into(), &request.body.into()).map_err(host_error)?;
        // Token requests must never be served from an HTTP cache or follow redirects with
        // the credential in the body.
        Reflect::set(&init, &"redirect".into(), &"manual".into()).map_err(host_error)?;

        let pending = self
            .fetch_fn
            .call2(&JsValue::UNDEFINED, &request.url.as_str().into(), &init)
            .map_err(|e| network_error(&request.url, &e))?;
        let response: FetchResponse = JsFuture::from(Promise::resolve(&pending))
            .await
            .map_err(|e| network_error(&request.url, &e))?
            .unchecked_into();
        let status = response.status();
        let headers = read_headers(&response.headers());
        let text_promise = response
            .text()
            .map_err(|e| network_error(&request.url, &e))?;
        let body = JsFuture::from(text_promise)
            .await
            .map_err(|e| network_error(&request.url, &e))?
            .as_string()
            .unwrap_or_default();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn read_headers(headers: &JsValue) -> Vec<(String, String)> {
    let Ok(Some(entries)) = js_sys::try_iter(headers) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pair: js_sys::Array = entry.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

fn network_error(url: &str, cause: &JsValue) -> Error {
    Error::network(format!(
        "could not reach the token endpoint {url}: {}",
        describe_js_error(cause)
    ))
}

fn host_error(cause: JsValue) -> Error {
    Error::network(format!(
        "could not build the fetch request: {}",
        describe_js_error(&cause)
    ))
}

/// The message of a JS error plus its `cause` (Node puts ECONNREFUSED and friends there).
fn describe_js_error(value: &JsValue) -> String {
    let message = |v: &JsValue| {
        Reflect::get(v, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| v.as_string())
    };
    let mut text = message(value).unwrap_or_else(|| "unknown error".to_owned());
    if let Ok(cause) = Reflect::get(value, &"cause".into()) {
        if !cause.is_undefined() && !cause.is_null() {
            let code = Reflect::get(&cause, &"code".into())
                .ok()
                .and_then(|c| c.as_string());
            if let Some(detail) = code.or_else(|| message(&cause)) {
                text.push_str(" (");
                text.push_str(&detail);
                text.push(')');
            }
        }
    }
    text
}
