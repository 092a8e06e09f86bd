//! JS helpers that a package entry may install (`pkg/src/host-bridge.mjs`) so the hot paths
//! cross the wasm boundary a few times instead of dozens: one call sends a request and reads
//! its reply (fetch, abort controller, headers, size-limited body), one call builds a result
//! object. Every JS value crossing costs a table slot and often a UTF-8 transcoding; on a cold
//! acquire they added up to more than the core's own work.
//!
//! The npm package's clients require it (each entry installs it before anything else runs).
//! The Worker, whose JS glue is generated, has none: its fetch goes through `Reflect` and
//! `fetch` directly, with the same limits and error mapping.

use std::cell::RefCell;

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The helper object; its shape is documented in `pkg/src/host-bridge.mjs`.
    #[derive(Clone)]
    pub type HostBridge;

    /// Starts `fetch` and returns `[promise, abortController]`. The promise resolves to
    /// `[status, headerLines, bodyBytes | null]`; `null` means the body passed `max_bytes`.
    /// Headers travel both ways as [`crate::header_lines`] strings.
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

    /// `acquisition`, or a rejection with `aborted_error` once `signal` fires; the listener is
    /// removed when the acquisition settles, so a long-lived signal collects none.
    #[wasm_bindgen(method, js_name = raceAbort)]
    pub fn race_abort(
        this: &HostBridge,
        acquisition: &js_sys::Promise,
        signal: &JsValue,
        aborted_error: &JsValue,
    ) -> js_sys::Promise;

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

thread_local! {
    static BRIDGE: RefCell<Option<HostBridge>> = const { RefCell::new(None) };
}

/// The installed bridge, if a package entry installed one.
pub fn installed() -> Option<HostBridge> {
    BRIDGE.with(|bridge| bridge.borrow().clone())
}

/// Installs the package's JS helpers; called once by each entry right after the wasm loads.
#[cfg(feature = "npm")]
#[wasm_bindgen(js_name = installHostBridge)]
pub fn install(bridge: JsValue) {
    let bridge = bridge.is_object().then(|| bridge.unchecked_into());
    BRIDGE.with(|slot| *slot.borrow_mut() = bridge);
}
