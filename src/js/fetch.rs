//! HTTP through the host's `fetch` (Node 18+, Deno, Bun, Workers all have it), aborted when
//! the client stops waiting, with the response body read up to a size limit.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::Error;
use crate::ports::{readable_body_length, HttpRequest, HttpResponse};

use super::host_bridge::HostBridge;

#[wasm_bindgen]
extern "C" {
    /// The subset of the Fetch API `Response` the client reads.
    type FetchResponse;
    #[wasm_bindgen(method, getter)]
    fn status(this: &FetchResponse) -> u16;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn body(this: &FetchResponse) -> JsValue;
}

/// Sends requests with a JS `fetch` function: `globalThis.fetch` by default.
#[derive(Debug, Clone)]
pub struct JsFetch {
    fetch_fn: Function,
}

/// Aborts the request when dropped before it finished: a timed-out or cancelled attempt
/// releases its connection instead of running on.
struct AbortOnDrop {
    controller: Option<JsValue>,
    done: bool,
}

impl AbortOnDrop {
    fn new() -> Self {
        let controller = Reflect::get(&js_sys::global(), &"AbortController".into())
            .ok()
            .and_then(|ctor| ctor.dyn_into::<Function>().ok())
            .and_then(|ctor| Reflect::construct(&ctor, &js_sys::Array::new()).ok());
        AbortOnDrop {
            controller,
            done: false,
        }
    }

    fn signal(&self) -> Option<JsValue> {
        let controller = self.controller.as_ref()?;
        Reflect::get(controller, &"signal".into()).ok()
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(controller) = &self.controller {
            if let Ok(abort) = Reflect::get(controller, &"abort".into()) {
                if let Ok(abort) = abort.dyn_into::<Function>() {
                    let _ = abort.call0(controller);
                }
            }
        }
    }
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

    /// The fetch function requests go through.
    pub fn function(&self) -> &Function {
        &self.fetch_fn
    }

    /// Sends `request` and reads the whole response (up to its size limit).
    pub async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let (status, headers, body) = match super::host_bridge::installed() {
            Some(bridge) => self.send_through_bridge(&bridge, &request).await,
            None => self.send_directly(&request).await,
        }?;
        let body = body.map_err(|e| match e {
            BodyError::TooLarge => Error::invalid_response(format!(
                "the token endpoint's reply is larger than {} bytes; a token response is a few kilobytes",
                request.max_response_bytes
            )),
            BodyError::Read(e) => network_error(&request.url, &e),
        })?;
        Ok(HttpResponse::from_bytes(status, headers, body))
    }

    async fn send_through_bridge(
        &self,
        bridge: &HostBridge,
        request: &HttpRequest,
    ) -> Result<Reply, Error> {
        let header_lines = crate::header_lines::encode(&request.headers)?;
        let started = bridge.send(
            &self.fetch_fn,
            &request.url,
            request.method,
            &header_lines,
            &request.body,
            request.max_response_bytes as f64,
        );
        let mut abort = AbortOnDrop {
            controller: Some(started.get(1)),
            done: false,
        };
        let reply = JsFuture::from(Promise::resolve(&started.get(0)))
            .await
            .map_err(|e| network_error(&request.url, &e))?;
        abort.done = true;
        let reply: Array = reply.unchecked_into();
        // The bridge hands back what fetch returned: a status within u16 and header lines.
        let status = reply.get(0).as_f64().unwrap_or(0.0) as u16;
        let headers = reply
            .get(1)
            .as_string()
            .map(|lines| crate::header_lines::decode(&lines))
            .unwrap_or_default();
        let body = reply.get(2);
        let body = if body.is_null() {
            Err(BodyError::TooLarge)
        } else {
            Ok(Uint8Array::new(&body).to_vec())
        };
        Ok((status, headers, body))
    }

    async fn send_directly(&self, request: &HttpRequest) -> Result<Reply, Error> {
        let mut abort = AbortOnDrop::new();
        let init = bare_object();
        let headers = Object::new();
        for (name, value) in &request.headers {
            set(&headers, name, &value.into());
        }
        set(&init, "method", &request.method.into());
        set(&init, "headers", &headers);
        set(&init, "body", &request.body.as_str().into());
        // The credential is in the body: never follow a redirect with it.
        set(&init, "redirect", &"manual".into());
        if let Some(signal) = abort.signal() {
            set(&init, "signal", &signal);
        }

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
        let body = match readable_body_length(&headers) {
            // A declared, acceptable length: one read instead of a chunk loop.
            Some(length) if length <= request.max_response_bytes => read_whole(&response).await,
            _ => read_body(&response.body(), request.max_response_bytes).await,
        };
        abort.done = body.is_ok();
        Ok((status, headers, body))
    }
}

/// Status, headers and the body (or why it could not be read).
type Reply = (u16, Vec<(String, String)>, Result<Vec<u8>, BodyError>);

enum BodyError {
    TooLarge,
    Read(JsValue),
}

/// The whole body via `arrayBuffer()`, for replies whose declared length is within the limit.
/// A body longer than declared is refused by the fetch implementation itself.
async fn read_whole(response: &FetchResponse) -> Result<Vec<u8>, BodyError> {
    let pending = call_method(response, "arrayBuffer", &[]).map_err(BodyError::Read)?;
    let buffer = JsFuture::from(Promise::resolve(&pending))
        .await
        .map_err(BodyError::Read)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Reads a `ReadableStream` to its end, failing once it passes `limit` bytes.
async fn read_body(stream: &JsValue, limit: usize) -> Result<Vec<u8>, BodyError> {
    if stream.is_null() || stream.is_undefined() {
        return Ok(Vec::new());
    }
    let reader = call_method(stream, "getReader", &[]).map_err(BodyError::Read)?;
    let mut body = Vec::new();
    loop {
        let next = call_method(&reader, "read", &[]).map_err(BodyError::Read)?;
        let chunk = JsFuture::from(Promise::resolve(&next))
            .await
            .map_err(BodyError::Read)?;
        let done = Reflect::get(&chunk, &"done".into())
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            return Ok(body);
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(BodyError::Read)?;
        let bytes = Uint8Array::new(&value);
        if body.len() + bytes.length() as usize > limit {
            let _ = call_method(&reader, "cancel", &[]);
            return Err(BodyError::TooLarge);
        }
        let start = body.len();
        body.resize(start + bytes.length() as usize, 0);
        bytes.copy_to(&mut body[start..]);
    }
}

fn call_method(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let method: Function = Reflect::get(target, &name.into())?.dyn_into()?;
    let args: js_sys::Array = args.iter().collect();
    Reflect::apply(&method, target, &args)
}

/// A fresh object without a prototype, for the init objects handed to `fetch`: fetch reads
/// every `RequestInit` member it knows (`dispatcher`, `redirect`, `credentials`…), and none
/// may come from a polluted `Object.prototype`.
pub(super) fn bare_object() -> Object {
    Object::create(JsValue::NULL.unchecked_ref())
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Plain data properties on fresh objects cannot fail to be set.
    let _ = Reflect::set(target, &key.into(), value);
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

/// The message of a JS error plus its `cause` (Node puts ECONNREFUSED and friends there).
pub fn describe_js_error(value: &JsValue) -> String {
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
