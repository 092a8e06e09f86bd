//! The adapters' JS half (`host_bridge.mjs`, next to this file), so the hot paths cross the
//! wasm boundary a few times instead of dozens: one call sends a request and reads its reply
//! (fetch, abort controller, headers, size-limited body), one reads a capped body, one builds
//! a result object. Every JS value crossing costs a table slot and often a UTF-8 transcoding;
//! on a cold acquire they added up to more than the core's own work.
//!
//! It is a wasm-bindgen snippet: the generated glue imports it, so every artifact (the npm
//! module's ESM and CommonJS glue, the Worker) carries it and nothing has to install it.

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/js/host_bridge.mjs")]
extern "C" {
    /// The helper object; its shape is documented in `host_bridge.mjs`.
    #[derive(Clone)]
    pub type HostBridge;

    #[wasm_bindgen(thread_local_v2, js_name = hostBridge)]
    static BRIDGE: HostBridge;

    /// The class of the errors the package throws.
    #[wasm_bindgen(extends = js_sys::Error)]
    pub type ClientCredentialError;

    /// A `ClientCredentialError` with `message` (and no other property yet).
    #[wasm_bindgen(constructor)]
    pub fn new(message: &str) -> ClientCredentialError;

    /// The class itself, for the package's entries to export.
    #[wasm_bindgen(thread_local_v2, js_name = ClientCredentialError)]
    pub static ERROR_CLASS: JsValue;

    /// Starts `fetch` and returns `[promise, abortController]`. The promise resolves to
    /// `[status, headerLines, bodyBytes | null]`; `null` means the body passed `max_bytes`.
    /// Headers travel both ways as [`super::header_lines`] strings.
    #[wasm_bindgen(method)]
    pub fn send(
        this: &HostBridge,
        fetch: &Function,
        url: &str,
        method: &str,
        header_lines: &str,
        body: &str,
        max_bytes: f64,
    ) -> Array;

    /// The body of a fetch `Request` or `Response`: bytes, or `null` past `max_bytes`.
    #[wasm_bindgen(method, js_name = readCapped)]
    fn read_capped(this: &HostBridge, message: &JsValue, max_bytes: f64) -> Promise;

    /// `acquisition`, or a rejection with `aborted_error` once `signal` fires; the listener is
    /// removed when the acquisition settles, so a long-lived signal collects none.
    #[wasm_bindgen(method, js_name = raceAbort)]
    pub fn race_abort(
        this: &HostBridge,
        acquisition: &Promise,
        signal: &JsValue,
        aborted_error: &JsValue,
    ) -> Promise;

    /// A frozen-shape result object (see `AuthenticationResult` in `index.d.ts`).
    #[wasm_bindgen(method, js_name = makeResult)]
    #[allow(clippy::too_many_arguments)]
    pub fn make_result(
        this: &HostBridge,
        access_token: &str,
        token_type: &str,
        expires_on_ms: f64,
        ext_expires_on_ms: f64,
        refresh_on_ms: Option<f64>,
        space_separated_scopes: &str,
        from_cache: bool,
        correlation_id: Option<String>,
        tenant_id: Option<String>,
        served_as_is_until_ms: f64,
    ) -> JsValue;
}

/// The helpers, loaded with the glue.
pub fn bridge() -> HostBridge {
    BRIDGE.with(HostBridge::clone)
}

/// A body is longer than the reader's limit.
#[derive(Debug, PartialEq, Eq)]
pub struct BodyTooLarge;

/// The body of a fetch `Request` or `Response` (`message`), or [`BodyTooLarge`] once it is
/// known to pass `max` bytes; the reader's rules are in `host_bridge.mjs` (`readCapped`).
pub async fn read_capped(
    message: &JsValue,
    max: usize,
) -> Result<Result<Vec<u8>, BodyTooLarge>, JsValue> {
    let body = JsFuture::from(bridge().read_capped(message, max as f64)).await?;
    Ok(if body.is_null() {
        Err(BodyTooLarge)
    } else {
        Ok(Uint8Array::new(&body).to_vec())
    })
}
