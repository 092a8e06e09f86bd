//! `cctoken doctor`'s wasm exports, for the CLI only (`pkg/bin/doctor.mjs`): not part of the
//! typed public API, hence their `doctor…` names. The checks are [`crate::doctor`]'s; this
//! file moves their inputs in and their findings out as JSON. The access token stays in
//! wasm as a [`crate::secret::AccessToken`]: JS gets findings and a lifetime, never the token itself.

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::bindings::JsConfidentialClient;
use super::object::{bare_object, call, call_async, get, object, set};
use super::to_js_error;
use super::url_view::parse_url;
use crate::client::{AuthResult, TokenRequest};
use crate::credential::Credential;
use crate::doctor::{self, CallInput, CertificateInput, DiscoveryInput, ExpectedClaims};
use crate::error::Error;

/// Most of an API reply's body read, for the 403 check: a permission error is short.
const MAX_CALL_BODY_BYTES: usize = 64 * 1024;

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Findings are plain strings and enums: serialising them cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// What the client was built with, without its credential: client id, token endpoint, Entra
/// tenant and authority host (absent for a generic endpoint) and the credential's kind.
#[wasm_bindgen(js_name = doctorClientFacts)]
pub fn doctor_client_facts(client: &JsConfidentialClient) -> String {
    let config = client.client.config();
    let endpoint = config.token_endpoint();
    let credential = match &config.credential {
        Credential::ClientSecret { .. } => "client secret",
        Credential::Certificate(_) => "certificate",
        Credential::Assertion(_) => "client assertion",
    };
    to_json(&serde_json::json!({
        "clientId": config.client_id().as_str(),
        "tokenEndpoint": endpoint.base_url(),
        "tenant": endpoint.tenant(),
        "authorityHost": endpoint.authority_host(),
        "credential": credential,
        "expiryBufferMs": config.expiry_buffer_ms(),
    }))
}

/// The first certificate's DER, for the CLI to digest (SHA-1, SHA-256) with WebCrypto.
#[wasm_bindgen(js_name = doctorCertificateDer)]
pub fn doctor_certificate_der(certificate_pem: &str) -> Result<Vec<u8>, JsValue> {
    doctor::leaf_certificate_der(certificate_pem).map_err(|e| to_js_error(&e))
}

/// The certificate's findings as a JSON array ([`doctor::check_certificate`]).
#[wasm_bindgen(js_name = doctorCheckCertificate)]
pub fn doctor_check_certificate(
    certificate_pem: String,
    private_key_pem: Option<String>,
    sha1_hex: Option<String>,
    sha256_hex: Option<String>,
    now_ms: f64,
) -> String {
    to_json(&doctor::check_certificate(&CertificateInput {
        certificate_pem,
        private_key_pem,
        sha1_hex,
        sha256_hex,
        now_ms: now_ms as u64,
    }))
}

/// [`doctor::check_key_matches_jwk`]'s finding as JSON.
#[wasm_bindgen(js_name = doctorCheckKeyMatchesJwk)]
pub fn doctor_check_key_matches_jwk(certificate_pem: &str, public_jwk_json: &str) -> String {
    to_json(&doctor::check_key_matches_jwk(
        certificate_pem,
        public_jwk_json,
    ))
}

/// [`doctor::check_tenant_discovery`] on the OpenID configuration reply (`status`, `body`)
/// for the client's Entra authority, as JSON; `null` for a generic endpoint.
#[wasm_bindgen(js_name = doctorCheckTenant)]
pub fn doctor_check_tenant(client: &JsConfidentialClient, status: u16, body: String) -> String {
    let endpoint = client.client.config().token_endpoint();
    let (Some(tenant), Some(host)) = (endpoint.tenant(), endpoint.authority_host()) else {
        return "null".to_owned();
    };
    to_json(&doctor::check_tenant_discovery(&DiscoveryInput {
        status,
        body,
        token_endpoint: endpoint.base_url().to_owned(),
        tenant: tenant.to_owned(),
        authority_host: host.to_owned(),
    }))
}

/// [`doctor::check_clock`]'s finding as JSON.
#[wasm_bindgen(js_name = doctorCheckClock)]
pub fn doctor_check_clock(date_header: Option<String>, now_ms: f64) -> String {
    to_json(&doctor::check_clock(date_header.as_deref(), now_ms as u64))
}

/// Acquires a token for `scopes` and resolves with a [`DoctorToken`], whether the
/// acquisition worked or not: a failure is a finding, not a rejection.
#[wasm_bindgen(js_name = doctorAcquireToken)]
pub fn doctor_acquire_token(client: &JsConfidentialClient, scopes: Vec<String>) -> Promise {
    let config = client.client.config();
    let endpoint = config.token_endpoint();
    let expected = ExpectedClaims {
        scope: scopes.first().cloned().unwrap_or_default(),
        client_id: config.client_id().as_str().to_owned(),
        tenant: endpoint.tenant().map(str::to_owned),
        tenant_id: None,
        authority_host: endpoint.authority_host().map(str::to_owned),
    };
    let scope = scopes.join(" ");
    let expiry_buffer_ms = config.expiry_buffer_ms();
    let fetch_fn = client.fetch_fn.clone();
    let core = client.client.clone();
    wasm_bindgen_futures::future_to_promise(async move {
        let outcome = match core.scopes(&scopes) {
            // Always from the identity provider: a cached token (a persistent cache, say)
            // would not show whether the credential works today.
            Ok(scopes) => {
                let request = TokenRequest {
                    force_refresh: true,
                    ..TokenRequest::new(scopes)
                };
                core.acquire_token_for_client(request).await
            }
            Err(error) => Err(error),
        };
        Ok(DoctorToken {
            outcome,
            scope,
            expected,
            expiry_buffer_ms,
            fetch_fn,
        }
        .into())
    })
}

/// The outcome of [`doctor_acquire_token`]. Holds the token as a [`crate::secret::AccessToken`]; JS reads
/// findings and the lifetime, and `call` sends the token itself.
#[wasm_bindgen(js_name = DoctorToken)]
pub struct DoctorToken {
    outcome: Result<AuthResult, Error>,
    scope: String,
    /// What the claims should say, from the client's configuration.
    expected: ExpectedClaims,
    expiry_buffer_ms: u64,
    fetch_fn: Function,
}

#[wasm_bindgen(js_class = DoctorToken)]
impl DoctorToken {
    /// True when a token was acquired.
    #[wasm_bindgen(getter)]
    pub fn acquired(&self) -> bool {
        self.outcome.is_ok()
    }

    /// The token finding and, for a token, the claims findings, as a JSON array. `tenant_id`
    /// is the id the tenant check resolved a domain to, if it did.
    pub fn findings(&self, tenant_id: Option<String>, now_ms: f64) -> String {
        let now_ms = now_ms as u64;
        let result = match &self.outcome {
            Ok(result) => result,
            Err(error) => return to_json(&[doctor::check_token_error(error)]),
        };
        let expected = ExpectedClaims {
            tenant_id,
            ..self.expected.clone()
        };
        let mut findings = vec![doctor::token_acquired(
            &self.scope,
            result.expires_on_ms.saturating_sub(now_ms),
        )];
        findings.extend(doctor::check_claims(
            result.access_token.expose(),
            &expected,
            now_ms,
        ));
        to_json(&findings)
    }

    /// The token's time line as JSON: `issuedMs` (its `iat`, if it has one), `refreshOnMs`
    /// (if the client refreshes early), `expiryBufferMs`, `expiresOnMs`; `null` without a
    /// token.
    pub fn lifetime(&self) -> String {
        let Ok(result) = &self.outcome else {
            return "null".to_owned();
        };
        to_json(&serde_json::json!({
            "issuedMs": doctor::issued_at_ms(result.access_token.expose()),
            "refreshOnMs": result.refresh_on_ms,
            "expiryBufferMs": self.expiry_buffer_ms,
            "expiresOnMs": result.expires_on_ms,
        }))
    }

    /// GETs `url` with the token, giving up after `timeout_ms`, and resolves with the
    /// [`doctor::check_call`] finding as JSON (a 403's admin-consent URL from the client's
    /// authority and id). A URL [`doctor::check_call_target`] refuses is never fetched.
    /// Redirects are not followed: the token goes to this URL's host only.
    pub fn call(&self, url: String, timeout_ms: f64) -> Promise {
        let context = CallInput {
            authority_host: self.expected.authority_host.clone(),
            tenant: self.expected.tenant.clone(),
            client_id: self.expected.client_id.clone(),
            ..CallInput::default()
        };
        let Ok(result) = &self.outcome else {
            return Promise::reject(&JsValue::from_str("no token to call with"));
        };
        let parsed = parse_url(&url, None);
        let (shown, href) = match doctor::check_call_target(parsed.as_ref().map(|(view, _)| view)) {
            Ok(shown) => (shown, parsed.map(|(_, href)| href).unwrap_or_default()),
            Err(refused) => return Promise::resolve(&JsValue::from(to_json(&refused))),
        };
        let authorization = format!("{} {}", result.token_type, result.access_token.expose());
        let fetch_fn = self.fetch_fn.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let signal = timeout_signal(timeout_ms);
            let finding = match get_with(&fetch_fn, &href, authorization, &signal).await {
                Ok(answer) => doctor::check_call(&CallInput {
                    url: shown,
                    ..answer.with(context)
                }),
                Err(cause) => doctor::check_call_unreachable(
                    &shown,
                    &failure_kind(&cause, &signal, timeout_ms),
                ),
            };
            Ok(JsValue::from(to_json(&finding)))
        })
    }
}

/// What the API answered.
struct Answer {
    status: u16,
    www_authenticate: Option<String>,
    location: Option<String>,
    body: String,
}

impl Answer {
    fn with(self, context: CallInput) -> CallInput {
        CallInput {
            status: self.status,
            www_authenticate: self.www_authenticate,
            location: self.location,
            body: self.body,
            ..context
        }
    }
}

/// `AbortSignal.timeout(timeout_ms)`; `undefined` where the runtime has none.
fn timeout_signal(timeout_ms: f64) -> JsValue {
    call(
        &get(&js_sys::global(), "AbortSignal"),
        "timeout",
        &[JsValue::from(timeout_ms.max(1.0))],
    )
    .unwrap_or(JsValue::UNDEFINED)
}

/// Why the GET failed, as a code or kind only: a fetch error's message may quote the whole
/// URL, user, password and query included.
fn failure_kind(cause: &JsValue, signal: &JsValue, timeout_ms: f64) -> String {
    if get(signal, "aborted").is_truthy() {
        let ms = timeout_ms.max(1.0) as u64;
        return if ms.is_multiple_of(1000) {
            format!("no answer within {} s", ms / 1000)
        } else {
            format!("no answer within {ms} ms")
        };
    }
    let word = |value: JsValue| {
        value.as_string().filter(|text| {
            !text.is_empty()
                && text.len() <= 40
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
    };
    word(get(&get(cause, "cause"), "code"))
        .or_else(|| word(get(cause, "code")))
        .or_else(|| word(get(cause, "name")))
        .unwrap_or_else(|| "the request failed".to_owned())
}

/// `GET url` with `authorization`, through the client's `fetch`, redirects not followed;
/// the body is read (up to [`MAX_CALL_BODY_BYTES`]) only for a 403, the one status whose
/// body the checks look at.
async fn get_with(
    fetch_fn: &Function,
    url: &str,
    authorization: String,
    signal: &JsValue,
) -> Result<Answer, JsValue> {
    let headers = object(&[("authorization", JsValue::from(authorization))]);
    let init = bare_object();
    set(&init, "method", &"GET".into());
    set(&init, "headers", &headers);
    set(&init, "redirect", &"manual".into());
    if !signal.is_undefined() {
        set(&init, "signal", signal);
    }
    let pending = fetch_fn.call2(&JsValue::UNDEFINED, &url.into(), &init)?;
    let response = JsFuture::from(Promise::resolve(&pending)).await?;
    let status = get(&response, "status").as_f64().unwrap_or(0.0) as u16;
    let header = |name: &str| {
        call(&get(&response, "headers"), "get", &[name.into()])
            .ok()
            .and_then(|value| value.as_string())
    };
    let www_authenticate = header("www-authenticate");
    let location = header("location").map(|to| {
        parse_url(&to, Some(url)).map_or_else(
            || "a URL that cannot be parsed".to_owned(),
            |(view, _)| view.shown(),
        )
    });
    let body = if status == 403 {
        read_capped(&response, MAX_CALL_BODY_BYTES).await
    } else {
        discard_body(&response);
        String::new()
    };
    Ok(Answer {
        status,
        www_authenticate,
        location,
        body,
    })
}

/// Up to `max_bytes` of `response`'s body as text; the rest is never read.
async fn read_capped(response: &JsValue, max_bytes: usize) -> String {
    let Ok(reader) = call(&get(response, "body"), "getReader", &[]) else {
        return String::new();
    };
    let mut bytes = Vec::new();
    while bytes.len() < max_bytes {
        let Ok(chunk) = call_async(&reader, "read", &[]).await else {
            break;
        };
        if get(&chunk, "done").is_truthy() {
            break;
        }
        let Ok(value) = get(&chunk, "value").dyn_into::<Uint8Array>() else {
            break;
        };
        let room = max_bytes - bytes.len();
        let length = (value.length() as usize).min(room);
        bytes.extend_from_slice(&value.subarray(0, length as u32).to_vec());
    }
    if let Ok(pending) = call(&reader, "cancel", &[]) {
        ignore_rejection(&pending);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Lets go of a body that is not read, so the connection is not held open for it.
fn discard_body(response: &JsValue) {
    if let Ok(pending) = call(&get(response, "body"), "cancel", &[]) {
        ignore_rejection(&pending);
    }
}

fn ignore_rejection(pending: &JsValue) {
    if let Ok(promise) = pending.clone().dyn_into::<Promise>() {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(promise).await;
        });
    }
}
