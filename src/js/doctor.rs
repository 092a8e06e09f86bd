//! `cctoken doctor`'s wasm exports, for the CLI only (`pkg/bin/doctor.mjs`): not part of the
//! typed public API, hence their `doctor…` names. The checks are [`crate::doctor`]'s; this
//! file moves their inputs in and their findings out as JSON. The access token stays in
//! wasm as a [`crate::secret::AccessToken`]: JS gets findings and a lifetime, never the token itself.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::bindings::JsConfidentialClient;
use super::fetch::describe_js_error;
use super::object::{bare_object, call, call_async, get, object, set};
use super::to_js_error;
use crate::client::{AuthResult, TokenRequest};
use crate::credential::Credential;
use crate::doctor::{self, CallInput, CertificateInput, DiscoveryInput, ExpectedClaims};
use crate::error::Error;

/// Longest API reply body read, for the 403 check: a permission error is short.
const MAX_CALL_BODY_CHARS: usize = 64 * 1024;

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

    /// GETs `url` with the token and resolves with the [`doctor::check_call`] finding as
    /// JSON (a 403's admin-consent URL from the client's authority and id).
    pub fn call(&self, url: String) -> Promise {
        let context = CallInput {
            authority_host: self.expected.authority_host.clone(),
            tenant: self.expected.tenant.clone(),
            client_id: self.expected.client_id.clone(),
            ..CallInput::default()
        };
        let Ok(result) = &self.outcome else {
            return Promise::reject(&JsValue::from_str("no token to call with"));
        };
        let authorization = format!("{} {}", result.token_type, result.access_token.expose());
        let fetch_fn = self.fetch_fn.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let finding = match get_with(&fetch_fn, &url, authorization).await {
                Ok(answer) => doctor::check_call(&CallInput {
                    url,
                    ..answer.with(context)
                }),
                Err(cause) => doctor::check_call_unreachable(&url, &describe_js_error(&cause)),
            };
            Ok(JsValue::from(to_json(&finding)))
        })
    }
}

/// What the API answered.
struct Answer {
    status: u16,
    www_authenticate: Option<String>,
    body: String,
}

impl Answer {
    fn with(self, context: CallInput) -> CallInput {
        CallInput {
            status: self.status,
            www_authenticate: self.www_authenticate,
            body: self.body,
            ..context
        }
    }
}

/// `GET url` with `authorization`, through the client's `fetch`.
async fn get_with(
    fetch_fn: &Function,
    url: &str,
    authorization: String,
) -> Result<Answer, JsValue> {
    let headers = object(&[("authorization", JsValue::from(authorization))]);
    let init = bare_object();
    set(&init, "method", &"GET".into());
    set(&init, "headers", &headers);
    let pending = fetch_fn.call2(&JsValue::UNDEFINED, &url.into(), &init)?;
    let response = JsFuture::from(Promise::resolve(&pending)).await?;
    let status = get(&response, "status").as_f64().unwrap_or(0.0) as u16;
    let www_authenticate = call(
        &get(&response, "headers"),
        "get",
        &["www-authenticate".into()],
    )
    .ok()
    .and_then(|value| value.as_string());
    let body = call_async(&response, "text", &[])
        .await
        .ok()
        .and_then(|text| text.as_string())
        .map(|text| text.chars().take(MAX_CALL_BODY_CHARS).collect())
        .unwrap_or_default();
    Ok(Answer {
        status,
        www_authenticate,
        body,
    })
}
