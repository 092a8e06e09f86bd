//! HTTP through the host's `fetch` (Node 18+, Deno, Bun, Workers all have it), sent and read
//! by the host bridge's `send` in one crossing each way: aborted when the client stops
//! waiting, with the response body read up to a size limit.

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::host_bridge::bridge;
use super::object::{call, get};
use crate::error::Error;
use crate::ports::{HttpRequest, HttpResponse};

/// Sends requests with a JS `fetch` function: `globalThis.fetch` by default.
#[derive(Debug, Clone)]
pub struct JsFetch {
    fetch_fn: Function,
}

/// Aborts the request (its `AbortController`) when dropped armed: a timed-out or cancelled
/// attempt, or a body refused as too large, releases its connection instead of running on.
struct AbortOnDrop(Option<JsValue>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            let _ = call(&controller, "abort", &[]);
        }
    }
}

impl JsFetch {
    /// Uses `globalThis.fetch`, looked up now.
    pub fn global() -> Result<Self, Error> {
        let candidate = get(&js_sys::global(), "fetch");
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

    /// The fetch function requests go through.
    pub fn function(&self) -> &Function {
        &self.fetch_fn
    }

    /// Sends `request` and reads the whole response (up to its size limit), through the
    /// host bridge's `send`: one crossing out and one back.
    pub async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let header_lines = super::header_lines::encode(&request.headers)?;
        let started = bridge().send(
            &self.fetch_fn,
            &request.url,
            request.method,
            &header_lines,
            &request.body,
            request.max_response_bytes as f64,
        );
        let mut abort = AbortOnDrop(Some(started.get(1)));
        let reply: Array = JsFuture::from(Promise::resolve(&started.get(0)))
            .await
            .map_err(|e| network_error(&request.url, &e))?
            .unchecked_into();
        let body = reply.get(2);
        if body.is_null() {
            return Err(Error::invalid_response(format!(
                "the token endpoint's reply is larger than {} bytes; a token response is a few kilobytes",
                request.max_response_bytes
            )));
        }
        abort.0 = None;
        // The bridge hands back what fetch returned: a status within u16 and header lines.
        let status = reply.get(0).as_f64().unwrap_or(0.0) as u16;
        let headers = reply
            .get(1)
            .as_string()
            .map(|lines| super::header_lines::decode(&lines))
            .unwrap_or_default();
        Ok(HttpResponse::from_bytes(
            status,
            headers,
            Uint8Array::new(&body).to_vec(),
        ))
    }
}

fn network_error(url: &str, cause: &JsValue) -> Error {
    Error::network(format!(
        "could not reach the token endpoint {url}: {}",
        describe_js_error(cause)
    ))
}

/// The message of a JS error plus its `cause` (Node puts ECONNREFUSED and friends there).
pub fn describe_js_error(value: &JsValue) -> String {
    let message = |v: &JsValue| get(v, "message").as_string().or_else(|| v.as_string());
    let mut text = message(value).unwrap_or_else(|| "unknown error".to_owned());
    let cause = get(value, "cause");
    if let Some(detail) = get(&cause, "code").as_string().or_else(|| message(&cause)) {
        text.push_str(" (");
        text.push_str(&detail);
        text.push(')');
    }
    text
}
