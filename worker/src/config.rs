//! The broker's configuration, read from Worker vars, secrets and bindings. Problems name the
//! setting, never its value.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cctoken::js::credential_from_combined_pem;
use cctoken::{ClientConfig, Credential, TokenEndpoint};
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::callers::Callers;
use crate::retry_settings::retry_policy;

/// Everything the broker needs.
pub struct BrokerConfig {
    /// The app's client configuration.
    pub client: ClientConfig,
    /// Who may call.
    pub callers: Callers,
    /// AES-256-GCM key for KV values.
    pub cache_key: [u8; 32],
    /// The KV namespace binding.
    pub token_cache: JsValue,
}

/// A missing or unusable setting.
#[derive(Debug, Clone)]
pub struct Misconfigured {
    /// The setting to fix, e.g. `CLIENT_SECRET`.
    pub setting: &'static str,
    /// What is wrong with it (no value quoted).
    pub description: String,
}

fn problem(setting: &'static str, description: impl Into<String>) -> Misconfigured {
    Misconfigured {
        setting,
        description: description.into(),
    }
}

/// A var or secret as text, if set and non-empty. A number var (wrangler.toml may give one)
/// is read as JS prints it.
fn setting(env: &Env, name: &str) -> Option<String> {
    let value = Reflect::get(env, &name.into()).ok()?;
    let text = match value.as_string() {
        Some(text) => text,
        None if value.as_f64().is_some() => js_sys::Number::from(value)
            .to_string_with_radix(10)
            .ok()?
            .into(),
        None => return None,
    };
    Some(text).filter(|v| !v.trim().is_empty())
}

impl BrokerConfig {
    /// Reads `TENANT_ID` (+ `AUTHORITY_HOST`) or `AUTHORITY` or `TOKEN_ENDPOINT`, `CLIENT_ID`,
    /// `CLIENT_SECRET` or `CLIENT_CERTIFICATE`, `BROKER_CLIENTS`, `CACHE_KEY`, the KV
    /// binding `TOKEN_CACHE`, and optionally `MAX_RETRIES`, `ATTEMPT_TIMEOUT_MS`,
    /// `TOTAL_TIMEOUT_MS`.
    pub fn from_env(env: &Env) -> Result<Self, Misconfigured> {
        let endpoint = match (
            setting(env, "TOKEN_ENDPOINT"),
            setting(env, "AUTHORITY"),
            setting(env, "TENANT_ID"),
        ) {
            (Some(url), None, None) => TokenEndpoint::generic(&url)
                .map_err(|e| problem("TOKEN_ENDPOINT", e.message()))?,
            (None, Some(authority), None) => TokenEndpoint::from_authority(&authority)
                .map_err(|e| problem("AUTHORITY", e.message()))?,
            (None, None, Some(tenant)) => {
                TokenEndpoint::from_tenant(&tenant, setting(env, "AUTHORITY_HOST").as_deref())
                    .map_err(|e| problem("TENANT_ID", e.message()))?
            }
            (None, None, None) => {
                return Err(problem(
                    "TENANT_ID",
                    "set TENANT_ID (and AUTHORITY_HOST outside the public cloud), AUTHORITY, or TOKEN_ENDPOINT",
                ))
            }
            _ => {
                return Err(problem(
                    "TENANT_ID",
                    "set only one of TENANT_ID, AUTHORITY and TOKEN_ENDPOINT",
                ))
            }
        };
        let client_id = setting(env, "CLIENT_ID").ok_or_else(|| {
            problem(
                "CLIENT_ID",
                "CLIENT_ID is missing: the app registration's Application (client) ID",
            )
        })?;
        let credential = match (setting(env, "CLIENT_SECRET"), setting(env, "CLIENT_CERTIFICATE")) {
            (Some(secret), None) => Credential::client_secret(secret)
                .map_err(|e| problem("CLIENT_SECRET", e.message()))?,
            (None, Some(pem)) => credential_from_combined_pem("CLIENT_CERTIFICATE", &pem, false)
                .map_err(|e| problem("CLIENT_CERTIFICATE", e.message()))?,
            (None, None) => {
                return Err(problem(
                    "CLIENT_SECRET",
                    "no app credential: `wrangler secret put CLIENT_SECRET`, or CLIENT_CERTIFICATE with a PEM holding the key and certificate",
                ))
            }
            (Some(_), Some(_)) => {
                return Err(problem("CLIENT_SECRET", "set CLIENT_SECRET or CLIENT_CERTIFICATE, not both"))
            }
        };
        let retry = retry_policy(|name| setting(env, name))
            .map_err(|(name, description)| problem(name, description))?;
        let client = ClientConfig::new(&client_id, endpoint, credential)
            .map_err(|e| problem("CLIENT_ID", e.message()))?
            .with_retry_policy(retry);
        let callers = setting(env, "BROKER_CLIENTS")
            .ok_or_else(|| problem("BROKER_CLIENTS", "BROKER_CLIENTS is missing: `wrangler secret put BROKER_CLIENTS` with the callers' key hashes and scopes"))
            .and_then(|json| {
                Callers::parse(&json, client.token_endpoint().scope_rules())
                    .map_err(|e| problem("BROKER_CLIENTS", e))
            })?;
        let cache_key = setting(env, "CACHE_KEY")
            .and_then(|b64| STANDARD.decode(b64.trim()).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| problem("CACHE_KEY", "CACHE_KEY must be 32 random bytes in base64: `openssl rand -base64 32 | wrangler secret put CACHE_KEY`"))?;
        let token_cache = Reflect::get(env, &"TOKEN_CACHE".into()).unwrap_or(JsValue::UNDEFINED);
        if token_cache.is_undefined() || token_cache.is_null() {
            return Err(problem("TOKEN_CACHE", "the KV binding TOKEN_CACHE is missing: add [[kv_namespaces]] binding = \"TOKEN_CACHE\" to wrangler.toml"));
        }
        Ok(BrokerConfig {
            client,
            callers,
            cache_key,
            token_cache,
        })
    }
}
