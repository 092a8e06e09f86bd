//! The API exported to the npm package: `ConfidentialClient`, `scopeForResource`,
//! `adminConsentUrl`.

use std::rc::Rc;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;

use super::client_options::{read_client_options, HostOptions};
use super::host_bridge::HostBridge;
use super::options::{
    is_absent, member, optional_bool, optional_string, optional_string_map, own, refuse_unknown,
    require_object, require_string, require_string_array,
};
use super::{to_js_error, JsFetch, JsHost, WebCryptoSigner};
use crate::authority::TokenEndpoint;
use crate::client::{AuthResult, ConfidentialClient, TokenRequest};
use crate::client_options::ClientOptions;
use crate::error::{Error, ErrorKind};
use crate::option_names::ADMIN_CONSENT_OPTIONS;
/// The request fields, for `getAuthorizationHeader` too.
pub(super) use crate::option_names::REQUEST_FIELDS;
use crate::ports::Signer;

type Client = ConfidentialClient<JsHost>;

/// A confidential client application that acquires app-only tokens.
#[wasm_bindgen(js_name = ConfidentialClient)]
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
            let (options, host) = read_client_options(
                options,
                "options",
                "option",
                "{ clientId, authority, credential: { clientSecret } }",
            )?;
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
        let json = require_string(&json, "cache", "the string serializeCache() returned")
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
        self.start(parse_request(&self.client, request, method, fields), finish)
    }

    /// Runs a parsed request (or rejects with why it could not be parsed).
    pub(super) fn start(
        &self,
        parsed: Result<ParsedRequest, Error>,
        finish: impl FnOnce(AuthResult) -> JsValue + 'static,
    ) -> Promise {
        let (mut token_request, signal) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => return Promise::reject(&to_js_error(&error)),
        };
        // An aborted call names the request it gave up on: its correlation id is chosen here,
        // before the core would, so the abort error can carry it. A cache hit is answered at
        // once (nothing to abort), so the memory tier is looked up once either way.
        let mut aborted_error = aborted();
        if signal.is_some() {
            if token_request.correlation_id.is_none() {
                if let Some(hit) = self.client.acquire_from_memory(&token_request) {
                    return Promise::resolve(&finish(hit));
                }
                match crate::assertion::uuid_v4() {
                    Ok(id) => token_request.correlation_id = Some(id),
                    Err(error) => return Promise::reject(&to_js_error(&error)),
                }
            }
            if let Some(id) = &token_request.correlation_id {
                aborted_error = aborted_error.with_correlation_id(id.clone());
            }
        }
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
    let resource = require_string(
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
    let build = || -> Result<String, Error> {
        let options = require_object(options, "options", "{ tenant, clientId }")?;
        refuse_unknown(
            &options,
            "options",
            "adminConsentUrl option",
            ADMIN_CONSENT_OPTIONS,
            &[],
        )?;
        let tenant = require_string(
            &own(&options, "tenant"),
            "tenant",
            "the tenant id or domain",
        )?;
        let client_id = require_string(
            &own(&options, "clientId"),
            "clientId",
            "the Application (client) ID",
        )?;
        let host = optional_string(&own(&options, "authorityHost"), "authorityHost")?;
        // Validates tenant and host the way a client authority is validated.
        let endpoint = TokenEndpoint::from_tenant(&tenant, host.as_deref())?;
        Ok(crate::troubleshooting::admin_consent_url(
            endpoint.authority_host().unwrap_or_default(),
            &tenant,
            &client_id,
        ))
    };
    build().map_err(|e| to_js_error(&e))
}

/// A client from `options` (validated by the core) and the host's JS functions.
pub(super) fn build_client(
    options: ClientOptions,
    host: HostOptions,
) -> Result<JsConfidentialClient, Error> {
    let bridge = super::host_bridge::bridge();
    let config = options.into_config(&|key, algorithm| {
        Ok(Rc::new(WebCryptoSigner::new(key, algorithm)?) as Rc<dyn Signer>)
    })?;
    let fetch = if is_absent(&host.fetch) {
        JsFetch::global()?
    } else {
        JsFetch::with_function(host.fetch)?
    };
    let fetch_fn = fetch.function().clone();
    let client = ConfidentialClient::new(config, JsHost::new(fetch));
    if !is_absent(&host.on_refresh_error) {
        let handler: Function = host.on_refresh_error.dyn_into().map_err(|_| {
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

/// A request's core part and its abort signal, if it has one.
pub(super) type ParsedRequest = (TokenRequest, Option<JsValue>);

/// Reads a request of `method` whose fields are `fields` (own properties only; any other
/// field is refused, so a misspelt one is not silently ignored).
pub(super) fn parse_request(
    client: &Client,
    request: &JsValue,
    method: &str,
    fields: &[&str],
) -> Result<ParsedRequest, Error> {
    if !request.is_object() {
        return Err(Error::invalid_scope(format!(
            "{method} needs {{ scopes: [...] }}, e.g. {{ scopes: [\"https://graph.microsoft.com/.default\"] }}"
        )));
    }
    refuse_unknown(request, "request", &format!("{method} field"), fields, &[])?;
    let scopes = client.scopes(require_string_array(&own(request, "scopes"), "scopes")?)?;
    let signal = abort_signal(request)?;
    let token_request = TokenRequest {
        scopes,
        force_refresh: optional_bool(&own(request, "forceRefresh"), "forceRefresh")?,
        claims: optional_string(&own(request, "claims"), "claims")?,
        correlation_id: optional_string(&own(request, "correlationId"), "correlationId")?,
        extra_body: optional_string_map(
            &own(request, "extraBodyParameters"),
            "extraBodyParameters",
        )?,
    };
    if let Some(signal) = &signal {
        if member(signal, "aborted").is_truthy() {
            return Err(match &token_request.correlation_id {
                Some(id) => aborted().with_correlation_id(id.clone()),
                None => aborted(),
            });
        }
    }
    Ok((token_request, signal))
}

/// The request's `abortSignal`, or `signal` (the web platform's name for it; both may be
/// given only as the same signal).
pub(super) fn abort_signal(request: &JsValue) -> Result<Option<JsValue>, Error> {
    let given = [
        ("abortSignal", own(request, "abortSignal")),
        ("signal", own(request, "signal")),
    ];
    let mut chosen: Option<(&'static str, JsValue)> = None;
    for (name, value) in given {
        if is_absent(&value) {
            continue;
        }
        if let Some((_, first)) = &chosen {
            if !Object::is(first, &value) {
                return Err(Error::invalid_config(
                    "signal",
                    "abortSignal and signal are one option under two names (signal is the web platform's): pass one of them, or the same AbortSignal to both",
                ));
            }
            continue;
        }
        chosen = Some((name, value));
    }
    let Some((name, signal)) = chosen else {
        return Ok(None);
    };
    let listens = ["addEventListener", "removeEventListener"]
        .iter()
        .all(|method| member(&signal, method).is_function());
    if !listens {
        return Err(Error::invalid_config(
            name,
            format!("{name} must be an AbortSignal, e.g. AbortSignal.timeout(5000) or controller.signal"),
        ));
    }
    Ok(Some(signal))
}

pub(super) fn aborted() -> Error {
    Error::new(
        ErrorKind::Aborted,
        "the request was cancelled through its abort signal",
    )
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
