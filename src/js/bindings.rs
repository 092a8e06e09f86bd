//! The API exported to the npm package: `ConfidentialClient`, `scopeForResource`,
//! `adminConsentUrl`.

use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::client_options::read_client_options;
use super::host_bridge::HostBridge;
use super::object::get;
use super::{to_js_error, JsFetch, JsHost, WebCryptoSigner};
use crate::client::{AuthResult, ConfidentialClient, TokenRequest};
use crate::client_options::{ClientOptions, Entry, HostFunctions};
use crate::error::{Error, ErrorKind};
use crate::option_names::REQUEST_FIELDS;
use crate::option_value::required_text;
use crate::ports::Signer;
use crate::request_fields::HostRequest;
use crate::scope::ScopeRules;

type Client = ConfidentialClient<JsHost>;

/// A confidential client application that acquires app-only tokens.
#[wasm_bindgen(js_name = ConfidentialClient)]
#[derive(Clone)]
pub struct JsConfidentialClient {
    pub(super) client: Client,
    /// The fetch function the client uses, for calls to protected APIs too.
    pub(super) fetch_fn: Function,
    /// The package's JS helpers, which build results and race abort signals.
    pub(super) bridge: HostBridge,
}

#[wasm_bindgen(js_class = ConfidentialClient)]
impl JsConfidentialClient {
    /// `new ConfidentialClient(options)`; see the package's type declarations.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsConfidentialClient, JsValue> {
        let build = || {
            let (options, host) = read_client_options(&options, Entry::CONSTRUCTOR)?;
            build_client(options, host)
        };
        build().map_err(|e| to_js_error(&e))
    }

    /// `acquireTokenForClient({ scopes, forceRefresh?, claims?, correlationId?,
    /// extraBodyParameters?, abortSignal? })`. Bad input rejects the promise rather than
    /// throwing, like every other failure of an async call.
    #[wasm_bindgen(js_name = acquireTokenForClient)]
    pub fn acquire_token_for_client(&self, request: JsValue) -> Promise {
        let bridge = self.bridge.clone();
        self.acquire_then(
            &request,
            "acquireTokenForClient",
            REQUEST_FIELDS,
            move |result| to_js_result(&bridge, &result),
        )
    }

    /// Forgets every cached token.
    #[wasm_bindgen(js_name = clearCache)]
    pub fn clear_cache(&self) {
        self.client.clear_cache();
    }

    /// The fresh cached tokens as versioned JSON. It holds access tokens: store it as a secret.
    #[wasm_bindgen(js_name = serializeCache)]
    pub fn serialize_cache(&self) -> String {
        self.client.serialize_cache()
    }

    /// Loads what `serializeCache()` wrote; returns how many fresh tokens were loaded.
    #[wasm_bindgen(js_name = deserializeCache)]
    pub fn deserialize_cache(&self, json: JsValue) -> Result<u32, JsValue> {
        let json = required_text(&json, "cache", "the string serializeCache() returned")
            .map_err(|e| to_js_error(&e))?;
        self.client
            .deserialize_cache(&json)
            .map(|count| count.min(u32::MAX as usize) as u32)
            .map_err(|e| to_js_error(&e))
    }
}

impl JsConfidentialClient {
    /// Acquires as `request` (a request of `method`, whose fields are `fields`) says and
    /// resolves with `finish(result)`, honouring its abort signal.
    pub(super) fn acquire_then(
        &self,
        request: &JsValue,
        method: &str,
        fields: &[&str],
        finish: impl FnOnce(AuthResult) -> JsValue + 'static,
    ) -> Promise {
        let read = HostRequest::read(request, method, fields, self.scope_rules());
        self.start(read.map(|read| (read.token, read.signal)), finish)
    }

    /// How the client's endpoint takes scopes.
    pub(super) fn scope_rules(&self) -> ScopeRules {
        self.client.config().token_endpoint().scope_rules()
    }

    /// Runs a request and its abort signal (or rejects with why it could not be read, or at
    /// once when its signal was already aborted).
    pub(super) fn start(
        &self,
        parsed: Result<(TokenRequest, Option<JsValue>), Error>,
        finish: impl FnOnce(AuthResult) -> JsValue + 'static,
    ) -> Promise {
        let (mut token_request, signal) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => return Promise::reject(&to_js_error(&error)),
        };
        if signal
            .as_ref()
            .is_some_and(|s| get(s, "aborted").is_truthy())
        {
            let error = aborted(token_request.correlation_id.as_ref());
            return Promise::reject(&to_js_error(&error));
        }
        // An aborted call names the request it gave up on: its correlation id is chosen here,
        // before the core would, so the abort error can carry it. A cache hit is answered at
        // once (nothing to abort), so the memory tier is looked up once either way.
        if signal.is_some() && token_request.correlation_id.is_none() {
            if let Some(hit) = self.client.acquire_from_memory(&token_request) {
                return Promise::resolve(&finish(hit));
            }
            match crate::assertion::uuid_v4() {
                Ok(id) => token_request.correlation_id = Some(id),
                Err(error) => return Promise::reject(&to_js_error(&error)),
            }
        }
        let aborted_error = aborted(token_request.correlation_id.as_ref());
        let client = self.client.clone();
        let acquisition = wasm_bindgen_futures::future_to_promise(async move {
            client
                .acquire_token_for_client(token_request)
                .await
                .map(finish)
                .map_err(|e| to_js_error(&e))
        });
        match signal {
            Some(signal) => {
                self.bridge
                    .race_abort(&acquisition, &signal, &to_js_error(&aborted_error))
            }
            None => acquisition,
        }
    }
}

/// `scopeForResource("https://database.windows.net/")` →
/// `"https://database.windows.net//.default"`.
#[wasm_bindgen(js_name = scopeForResource)]
pub fn scope_for_resource(resource: JsValue) -> Result<String, JsValue> {
    let resource = required_text(
        &resource,
        "resource",
        "e.g. \"https://graph.microsoft.com\"",
    )
    .map_err(|e| to_js_error(&e))?;
    crate::scope::scope_for_resource(&resource).map_err(|e| to_js_error(&e))
}

/// `adminConsentUrl({ tenant, clientId, authorityHost? })`: the URL an administrator opens
/// to grant the app's application permissions.
#[wasm_bindgen(js_name = adminConsentUrl)]
pub fn admin_consent_url(options: JsValue) -> Result<String, JsValue> {
    crate::request_fields::admin_consent_url(&options).map_err(|e| to_js_error(&e))
}

/// A client from `options` (validated by the core) and the host's JS functions.
pub(super) fn build_client(
    options: ClientOptions,
    host: HostFunctions<JsValue>,
) -> Result<JsConfidentialClient, Error> {
    let bridge = super::host_bridge::bridge();
    let config = options.into_config(&|key, algorithm| {
        Ok(Rc::new(WebCryptoSigner::new(key, algorithm)?) as Rc<dyn Signer>)
    })?;
    let fetch = match host.fetch {
        Some(fetch) => JsFetch::with_function(fetch)?,
        None => JsFetch::global()?,
    };
    let fetch_fn = fetch.function().clone();
    let client = ConfidentialClient::new(config, JsHost::new(fetch));
    if let Some(handler) = host.on_refresh_error {
        let handler: Function = handler.dyn_into().map_err(|_| {
            Error::invalid_config(
                "onRefreshError",
                "onRefreshError must be a function (error) => void",
            )
        })?;
        client.on_refresh_error(Some(Rc::new(move |error: &Error| {
            // A throwing handler must not break the refresh machinery.
            let _ = handler.call1(&JsValue::UNDEFINED, &to_js_error(error));
        })));
    }
    Ok(JsConfidentialClient {
        client,
        fetch_fn,
        bridge,
    })
}

/// The refusal of a request cancelled through its abort signal.
pub(super) fn aborted(correlation_id: Option<&String>) -> Error {
    let error = Error::new(
        ErrorKind::Aborted,
        "the request was cancelled through its abort signal",
    );
    match correlation_id {
        Some(id) => error.with_correlation_id(id.clone()),
        None => error,
    }
}

pub(super) fn to_js_result(bridge: &HostBridge, result: &AuthResult) -> JsValue {
    bridge.make_result(
        result.access_token.expose(),
        &result.token_type,
        result.expires_on_ms as f64,
        result.ext_expires_on_ms as f64,
        result.refresh_on_ms.map(|ms| ms as f64),
        &result.scopes.join(" "),
        result.from_cache(),
        result.correlation_id.clone(),
        result.tenant_id.clone(),
        result.served_as_is_until_ms as f64,
    )
}
