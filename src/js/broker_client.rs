//! `BrokerClient`: a job's client for the cctoken Worker broker. The broker speaks the OAuth2
//! client-credentials form with HTTP Basic caller credentials, so this is the core client
//! pointed at it, with its cache, single-flight and retries.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::bindings::{build_client, parse_request, to_js_result, JsConfidentialClient};
use super::client_options::HostOptions;
use super::options::{own, refuse_unknown, require_object, require_string};
use super::to_js_error;
use crate::authority::TokenEndpoint;
use crate::client_options::{ClientOptions, CredentialOptions};
use crate::error::Error;
use crate::option_names::{BROKER_CLIENT_OPTIONS, BROKER_REQUEST_FIELDS};
use crate::secret::Secret;

/// The form field that carries `forceRefresh` to the broker's token route: skipping this
/// client's cache is not enough, the broker must skip its own caches too, or it hands back the
/// very token being replaced.
const FORCE_REFRESH_FIELD: (&str, &str) = ("force_refresh", "true");

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
        let build = || -> Result<JsBrokerClient, Error> {
            let options = require_object(options, "options", "{ url, callerId, key }")?;
            refuse_unknown(
                &options,
                "options",
                "BrokerClient option",
                BROKER_CLIENT_OPTIONS,
                &[],
            )?;
            let url = require_string(
                &own(&options, "url"),
                "url",
                "the broker's URL, e.g. https://cctoken-broker.example.workers.dev",
            )?;
            let caller_id = require_string(
                &own(&options, "callerId"),
                "callerId",
                "the caller id configured in BROKER_CLIENTS",
            )?;
            let key = require_string(&own(&options, "key"), "key", "the caller's broker key")?;
            let token_url = format!("{}/token", url.trim_end_matches('/'));
            // Checked here so a bad URL is reported as `url`, the option the caller set.
            TokenEndpoint::generic_named("url", &token_url)?;
            let client_options = ClientOptions {
                client_id: Some(caller_id),
                token_endpoint: Some(token_url),
                client_auth_method: Some("client_secret_basic".into()),
                credential: Some(CredentialOptions {
                    client_secret: Some(Secret::new(key)),
                    ..CredentialOptions::default()
                }),
                // The broker hands out tokens with at least its own buffer left; keep them
                // until a minute before expiry.
                expiry_buffer_seconds: Some(60),
                forced_refresh_parameter: Some((
                    FORCE_REFRESH_FIELD.0.into(),
                    FORCE_REFRESH_FIELD.1.into(),
                )),
                ..ClientOptions::default()
            };
            let host = HostOptions {
                fetch: own(&options, "fetch"),
                ..HostOptions::default()
            };
            Ok(JsBrokerClient {
                inner: build_client(client_options, host)?,
            })
        };
        build().map_err(|e| to_js_error(&e))
    }

    /// `acquireToken({ scopes, forceRefresh?, abortSignal? })` → the same result shape as
    /// `ConfidentialClient.acquireTokenForClient`.
    #[wasm_bindgen(js_name = acquireToken)]
    pub fn acquire_token(&self, request: JsValue) -> Promise {
        let parsed = parse_request(
            &self.inner.client,
            &request,
            "acquireToken",
            BROKER_REQUEST_FIELDS,
        );
        let bridge = self.inner.bridge.clone();
        self.inner
            .start(parsed, move |result| to_js_result(&bridge, &result))
    }

    /// Forgets cached tokens.
    #[wasm_bindgen(js_name = clearCache)]
    pub fn clear_cache(&self) {
        self.inner.clear_cache();
    }
}
