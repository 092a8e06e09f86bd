//! The API exported to the npm package: `ConfidentialClient`, `scopeForResource`,
//! `adminConsentUrl`.

use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::fetch::describe_js_error;
use super::host_bridge::HostBridge;
use super::options::{
    is_absent, member, optional_bool, optional_count, optional_string, optional_string_map, own,
    refuse_unknown, require_object, require_string, require_string_array,
};
use super::{to_js_error, JsFetch, JsHost, WebCryptoSigner};
use crate::assertion::{thumbprint_from_hex, JwsAlgorithm};
use crate::authority::TokenEndpoint;
use crate::client::{AuthResult, ClientConfig, ConfidentialClient, TokenRequest};
use crate::credential::{
    AssertionSource, CertificateCredential, CertificateOptions, Credential, SecretAuthMethod,
};
use crate::error::{Error, ErrorKind};
use crate::pem::{parse_certificates, parse_private_key, KeyType};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

type Client = ConfidentialClient<JsHost>;

/// The options of `new ConfidentialClient(…)` (and of `fromEnvironment`'s overrides).
pub(super) const CLIENT_OPTIONS: &[&str] = &[
    "clientId",
    "authority",
    "tenantId",
    "authorityHost",
    "tokenEndpoint",
    "extraQueryParameters",
    "credential",
    "clientAuthMethod",
    "assertionAudience",
    "expiryBufferSeconds",
    "maxCacheEntries",
    "maxRetries",
    "attemptTimeoutMs",
    "totalTimeoutMs",
    "onRefreshError",
    "fetch",
];
/// The options of `credential`: one kind of credential each.
const CREDENTIAL_OPTIONS: &[&str] = &["clientSecret", "certificate", "clientAssertion"];
/// The same, as suggested when one is given at the top level by mistake.
pub(super) const CREDENTIAL_OPTIONS_DOTTED: &[&str] = &[
    "credential.clientSecret",
    "credential.certificate",
    "credential.clientAssertion",
];
/// The options of `credential.certificate`.
const CERTIFICATE_OPTIONS: &[&str] = &[
    "privateKeyPem",
    "certificatePem",
    "thumbprint",
    "thumbprintSha256",
    "sendX5c",
    "algorithm",
    "keyId",
];
/// The fields of `acquireTokenForClient` and `getAuthorizationHeader` requests. `signal` is
/// the web platform's name for `abortSignal`, accepted as the same field.
pub(super) const REQUEST_FIELDS: &[&str] = &[
    "scopes",
    "forceRefresh",
    "claims",
    "correlationId",
    "extraBodyParameters",
    "abortSignal",
    "signal",
];

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
        build_client(options).map_err(|e| to_js_error(&e))
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
            &["tenant", "clientId", "authorityHost"],
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

pub(super) fn build_client(options: JsValue) -> Result<JsConfidentialClient, Error> {
    build_client_with(options, |config| config)
}

/// [`build_client`], with `adjust` applied to the configuration built from `options`.
pub(super) fn build_client_with(
    options: JsValue,
    adjust: impl FnOnce(ClientConfig) -> ClientConfig,
) -> Result<JsConfidentialClient, Error> {
    let bridge = super::host_bridge::bridge();
    let options = require_object(
        options,
        "options",
        "{ clientId, authority, credential: { clientSecret } }",
    )?;
    refuse_unknown(
        &options,
        "options",
        "option",
        CLIENT_OPTIONS,
        CREDENTIAL_OPTIONS_DOTTED,
    )?;
    let client_id = require_string(
        &own(&options, "clientId"),
        "clientId",
        "the Application (client) ID from the app registration",
    )?;
    let endpoint = build_endpoint(&options)?.with_extra_query_parameters(&optional_string_map(
        &own(&options, "extraQueryParameters"),
        "extraQueryParameters",
    )?);
    let credential = build_credential(&options)?;
    let mut config = ClientConfig::new(&client_id, endpoint, credential)?;
    if let Some(audience) =
        optional_string(&own(&options, "assertionAudience"), "assertionAudience")?
    {
        config = config.with_assertion_audience(audience);
    }
    if let Some(seconds) = optional_count(
        &own(&options, "expiryBufferSeconds"),
        "expiryBufferSeconds",
        86_400,
    )? {
        config = config.with_expiry_buffer_ms(seconds * 1000);
    }
    if let Some(entries) = optional_count(
        &own(&options, "maxCacheEntries"),
        "maxCacheEntries",
        1_000_000,
    )? {
        config = config.with_cache_capacity(entries.max(1) as usize);
    }
    let defaults = RetryPolicy::default();
    let retry = RetryPolicy {
        max_retries: optional_count(&own(&options, "maxRetries"), "maxRetries", 10)?
            .map_or(defaults.max_retries, |n| n as u32),
        attempt_timeout_ms: optional_count(
            &own(&options, "attemptTimeoutMs"),
            "attemptTimeoutMs",
            600_000,
        )?
        .unwrap_or(defaults.attempt_timeout_ms)
        .max(1),
        total_timeout_ms: optional_count(
            &own(&options, "totalTimeoutMs"),
            "totalTimeoutMs",
            3_600_000,
        )?
        .unwrap_or(defaults.total_timeout_ms)
        .max(1),
        ..defaults
    };
    config = config.with_retry_policy(retry);

    let custom_fetch = own(&options, "fetch");
    let fetch = if is_absent(&custom_fetch) {
        JsFetch::global()?
    } else {
        JsFetch::with_function(custom_fetch)?
    };
    let fetch_fn = fetch.function().clone();
    let client = ConfidentialClient::new(adjust(config), JsHost::new(fetch));

    let on_refresh_error = own(&options, "onRefreshError");
    if !is_absent(&on_refresh_error) {
        let handler: Function = on_refresh_error.dyn_into().map_err(|_| {
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

fn build_endpoint(options: &JsValue) -> Result<TokenEndpoint, Error> {
    let authority = optional_string(&own(options, "authority"), "authority")?;
    let tenant_id = optional_string(&own(options, "tenantId"), "tenantId")?;
    let authority_host = optional_string(&own(options, "authorityHost"), "authorityHost")?;
    let token_endpoint = optional_string(&own(options, "tokenEndpoint"), "tokenEndpoint")?;
    match (authority, tenant_id, token_endpoint) {
        (Some(authority), None, None) if authority_host.is_none() => TokenEndpoint::from_authority(&authority),
        (None, Some(tenant), None) => TokenEndpoint::from_tenant(&tenant, authority_host.as_deref()),
        (None, None, Some(url)) if authority_host.is_none() => TokenEndpoint::generic(&url),
        (None, None, None) => Err(Error::invalid_config(
            "authority",
            "authority is required: pass authority (\"https://login.microsoftonline.com/<tenant>\"), tenantId (with optional authorityHost), or tokenEndpoint for another OAuth2 server",
        )),
        _ => Err(Error::invalid_config(
            "authority",
            "pass exactly one of authority, tenantId (authorityHost goes only with tenantId) or tokenEndpoint",
        )),
    }
}

fn build_credential(options: &JsValue) -> Result<Credential, Error> {
    let credential = require_object(
        own(options, "credential"),
        "credential",
        "{ clientSecret: process.env.AZURE_CLIENT_SECRET }",
    )?;
    refuse_unknown(
        &credential,
        "credential",
        "credential option",
        CREDENTIAL_OPTIONS,
        &[],
    )?;
    let secret = own(&credential, "clientSecret");
    let certificate = own(&credential, "certificate");
    let assertion = own(&credential, "clientAssertion");
    let given = [&secret, &certificate, &assertion]
        .iter()
        .filter(|v| !is_absent(v))
        .count();
    if given != 1 {
        return Err(Error::invalid_config(
            "credential",
            if given == 0 {
                "credential needs one of clientSecret, certificate or clientAssertion"
            } else {
                "credential takes exactly one of clientSecret, certificate or clientAssertion"
            },
        ));
    }
    if !is_absent(&secret) {
        let secret = require_string(
            &secret,
            "credential.clientSecret",
            "the client secret's value from the app registration",
        )?;
        let method = match optional_string(&own(options, "clientAuthMethod"), "clientAuthMethod")?.as_deref() {
            None | Some("client_secret_post") => SecretAuthMethod::Post,
            Some("client_secret_basic") => SecretAuthMethod::Basic,
            Some(_) => {
                return Err(Error::invalid_config(
                    "clientAuthMethod",
                    "clientAuthMethod must be \"client_secret_post\" (default) or \"client_secret_basic\"",
                ))
            }
        };
        return Credential::client_secret_with(secret, method);
    }
    if !is_absent(&certificate) {
        return build_certificate(certificate);
    }
    if assertion.is_function() {
        let callback: Function = assertion.unchecked_into();
        return Ok(Credential::Assertion(AssertionSource::Callback(Rc::new(
            move |context| {
                let callback = callback.clone();
                Box::pin(async move {
                    let argument = Object::new();
                    let _ = Reflect::set(&argument, &"clientId".into(), &context.client_id.into());
                    let _ = Reflect::set(
                        &argument,
                        &"tokenEndpoint".into(),
                        &context.token_endpoint.into(),
                    );
                    let returned = callback
                        .call1(&JsValue::UNDEFINED, &argument)
                        .map_err(|e| callback_error(&e))?;
                    let value = JsFuture::from(Promise::resolve(&returned))
                        .await
                        .map_err(|e| callback_error(&e))?;
                    value.as_string().map(Secret::new).ok_or_else(|| {
                        Error::invalid_config(
                        "credential.clientAssertion",
                        "the clientAssertion callback must return a string (or a promise of one)",
                    )
                    })
                })
            },
        ))));
    }
    let assertion = require_string(
        &assertion,
        "credential.clientAssertion",
        "a signed JWT, or a function returning one",
    )?;
    Credential::client_assertion(assertion)
}

fn callback_error(cause: &JsValue) -> Error {
    Error::new(
        ErrorKind::Crypto,
        format!(
            "the clientAssertion callback failed: {}",
            describe_js_error(cause)
        ),
    )
    .with_field("credential.clientAssertion")
}

fn build_certificate(certificate: JsValue) -> Result<Credential, Error> {
    let certificate = require_object(
        certificate,
        "credential.certificate",
        "{ privateKeyPem, certificatePem }",
    )?;
    refuse_unknown(
        &certificate,
        "credential.certificate",
        "certificate option",
        CERTIFICATE_OPTIONS,
        &[],
    )?;
    let key_pem = require_string(
        &own(&certificate, "privateKeyPem"),
        "credential.certificate.privateKeyPem",
        "the PEM private key (PKCS#8 \"BEGIN PRIVATE KEY\" or PKCS#1 \"BEGIN RSA PRIVATE KEY\")",
    )?;
    let key = parse_private_key("credential.certificate.privateKeyPem", &key_pem)?;
    let chain = match optional_string(
        &own(&certificate, "certificatePem"),
        "credential.certificate.certificatePem",
    )? {
        Some(pem) => parse_certificates("credential.certificate.certificatePem", &pem)?,
        // A combined PEM (key and certificate in one file) serves as both.
        None => {
            parse_certificates("credential.certificate.privateKeyPem", &key_pem).unwrap_or_default()
        }
    };
    let thumbprint_sha1 = optional_string(
        &own(&certificate, "thumbprint"),
        "credential.certificate.thumbprint",
    )?
    .map(|hex| thumbprint_from_hex("credential.certificate.thumbprint", &hex, 20))
    .transpose()?;
    let thumbprint_sha256 = optional_string(
        &own(&certificate, "thumbprintSha256"),
        "credential.certificate.thumbprintSha256",
    )?
    .map(|hex| thumbprint_from_hex("credential.certificate.thumbprintSha256", &hex, 32))
    .transpose()?;
    let algorithm = match optional_string(
        &own(&certificate, "algorithm"),
        "credential.certificate.algorithm",
    )? {
        Some(name) => JwsAlgorithm::parse("credential.certificate.algorithm", &name)?,
        None if key.key_type == KeyType::EcP256 => JwsAlgorithm::Es256,
        // A SHA-1 thumbprint alone identifies the key only in RS256 assertions (x5t).
        None if chain.is_empty() && thumbprint_sha256.is_none() && thumbprint_sha1.is_some() => {
            JwsAlgorithm::Rs256
        }
        None => JwsAlgorithm::Ps256,
    };
    let signer = WebCryptoSigner::new(key, algorithm)?;
    let credential = CertificateCredential::new(
        Rc::new(signer),
        CertificateOptions {
            certificate_chain: chain,
            thumbprint_sha256,
            thumbprint_sha1,
            send_x5c: optional_bool(
                &own(&certificate, "sendX5c"),
                "credential.certificate.sendX5c",
            )?,
            key_id: optional_string(&own(&certificate, "keyId"), "credential.certificate.keyId")?,
        },
    )?;
    Ok(Credential::Certificate(Rc::new(credential)))
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
