//! `BrokerClient`: a job's client for the cctoken Worker broker. The broker speaks the OAuth2
//! client-credentials form with HTTP Basic caller credentials, so this is the core client
//! pointed at it ([`ClientOptions::read_broker`]), with its cache, single-flight and retries.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::bindings::{build_client, to_js_result, JsConfidentialClient};
use super::to_js_error;
use crate::client_options::ClientOptions;
use crate::option_names::BROKER_REQUEST_FIELDS;

/// Tokens from a cctoken broker.
#[wasm_bindgen(js_name = BrokerClient)]
pub struct JsBrokerClient {
    inner: JsConfidentialClient,
}

#[wasm_bindgen(js_class = BrokerClient)]
impl JsBrokerClient {
    /// `new BrokerClient({ url, callerId, key, fetch? })`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsBrokerClient, JsValue> {
        let build = || {
            let (options, host) = ClientOptions::read_broker(&options)?;
            build_client(options, host).map(|inner| JsBrokerClient { inner })
        };
        build().map_err(|e| to_js_error(&e))
    }

    /// `acquireToken({ scopes, forceRefresh?, tenant?, abortSignal? })` → the same result
    /// shape as `ConfidentialClient.acquireTokenForClient`. `tenant` (named as in the broker's
    /// body) asks for another tenant than the broker app's own: sent as the form's `tenant`,
    /// its tokens cached and shared apart.
    #[wasm_bindgen(js_name = acquireToken)]
    pub fn acquire_token(&self, request: JsValue) -> Promise {
        let bridge = self.inner.bridge.clone();
        self.inner.acquire_then(
            &request,
            "acquireToken",
            BROKER_REQUEST_FIELDS,
            move |result| to_js_result(&bridge, &result),
        )
    }

    /// Forgets cached tokens.
    #[wasm_bindgen(js_name = clearCache)]
    pub fn clear_cache(&self) {
        self.inner.clear_cache();
    }
}
