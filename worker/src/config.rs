//! The broker's configuration, read from Worker vars, secrets and bindings. Problems name the
//! setting, never its value.

use std::cell::RefCell;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cctoken::js::credential_from_combined_pem;
use cctoken::secret::{leaks, LEAK_WINDOW};
use cctoken::{ClientConfig, Credential, TokenEndpoint};
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use worker::{console_error, Env};

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

/// A missing or unusable setting. Anyone can read `/healthz` and the 500 on `/token`, so what
/// they show is the setting's name, an index into it, and fixed text ([`Self::public`]); the
/// rest ([`Self::detail`]) goes to the Worker's log only.
#[derive(Debug, Clone)]
pub struct Misconfigured {
    /// The setting to fix, e.g. `CLIENT_SECRET`.
    pub setting: &'static str,
    /// Which entry of a list setting (`BROKER_CLIENTS`), counted from 0 as written.
    pub index: Option<usize>,
    /// What to do, as fixed text: never built from any setting's value.
    public: &'static str,
    /// What is wrong, for the log: may name caller ids, fields and scopes, never a secret value.
    pub detail: String,
}

impl Misconfigured {
    /// `SETTING` or `SETTING[index]`.
    pub fn name(&self) -> String {
        match self.index {
            Some(index) => format!("{}[{index}]", self.setting),
            None => self.setting.to_owned(),
        }
    }

    /// The fixed text unauthenticated answers carry.
    pub fn public(&self) -> &'static str {
        self.public
    }

    /// The line for the Worker's log.
    pub fn log_line(&self) -> String {
        format!("broker misconfigured: {}: {}", self.name(), self.detail)
    }

    /// Logs [`Self::log_line`] once per isolate while it stays the same: anyone may ask
    /// `/healthz` or `/token`, and each ask must not add a line to the operator's log.
    pub fn log(&self) {
        let line = self.log_line();
        LAST_LOGGED.with(|last| {
            let mut last = last.borrow_mut();
            if last.as_deref() != Some(line.as_str()) {
                console_error!("{line}");
                *last = Some(line);
            }
        });
    }
}

thread_local! {
    static LAST_LOGGED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A setting that is missing or fails a fixed rule: the rule is both public and the detail.
fn problem(setting: &'static str, rule: &'static str) -> Misconfigured {
    Misconfigured {
        setting,
        index: None,
        public: rule,
        detail: rule.to_owned(),
    }
}

/// A setting whose value was refused with a description built from it (a core error, a
/// parser's complaint): that description goes to the log only.
pub fn refused(setting: &'static str, detail: impl Into<String>) -> Misconfigured {
    Misconfigured {
        setting,
        index: None,
        public: UNUSABLE,
        detail: detail.into(),
    }
}

const UNUSABLE: &str = "this setting is not usable; the Worker's log (`wrangler tail`) says why";

/// The core's description of a refused secret, unless it holds text of the secret itself
/// (a parser quoting what it could not read).
fn about_secret(secret: &str, description: &str) -> String {
    if quotes(description, secret) {
        "refused (the description quoted the value, so it is withheld)".to_owned()
    } else {
        description.to_owned()
    }
}

/// True when `text` holds 16 or more consecutive characters of `secret`'s material: of a
/// PEM, its base64 runs (the key), not the `-----BEGIN PRIVATE KEY-----` lines that messages
/// legitimately name; of any other secret, the value.
fn quotes(text: &str, secret: &str) -> bool {
    if !secret.contains("-----") {
        return leaks(text, secret.trim());
    }
    secret
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
        .filter(|run| run.len() >= LEAK_WINDOW)
        .any(|run| leaks(text, run))
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
                .map_err(|e| refused("TOKEN_ENDPOINT", e.message()))?,
            (None, Some(authority), None) => TokenEndpoint::from_authority(&authority)
                .map_err(|e| refused("AUTHORITY", e.message()))?,
            (None, None, Some(tenant)) => {
                TokenEndpoint::from_tenant(&tenant, setting(env, "AUTHORITY_HOST").as_deref())
                    .map_err(|e| refused("TENANT_ID", e.message()))?
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
            (Some(secret), None) => Credential::client_secret(secret.as_str())
                .map_err(|e| refused("CLIENT_SECRET", about_secret(&secret, e.message())))?,
            (None, Some(pem)) => credential_from_combined_pem("CLIENT_CERTIFICATE", &pem, false)
                .map_err(|e| refused("CLIENT_CERTIFICATE", about_secret(&pem, e.message())))?,
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
        let retry =
            retry_policy(|name| setting(env, name)).map_err(|(name, rule)| problem(name, rule))?;
        // The core names the option it refused; here that is one of two settings.
        let client = ClientConfig::new(&client_id, endpoint, credential)
            .map_err(|e| match e.field() {
                Some(field) if field.starts_with("credential") => {
                    refused("CLIENT_CERTIFICATE", e.message())
                }
                _ => refused("CLIENT_ID", e.message()),
            })?
            .with_retry_policy(retry);
        let callers = setting(env, "BROKER_CLIENTS")
            .ok_or_else(|| problem("BROKER_CLIENTS", "BROKER_CLIENTS is missing: `wrangler secret put BROKER_CLIENTS` with the callers' key hashes and scopes"))
            .and_then(|json| {
                Callers::parse(&json, client.token_endpoint().scope_rules()).map_err(|e| {
                    Misconfigured {
                        setting: "BROKER_CLIENTS",
                        index: e.index,
                        public: match e.index {
                            Some(_) => "this caller's entry is not usable; the Worker's log (`wrangler tail`) says why",
                            None => "must be a JSON object of callers: {\"<caller id>\": {\"keySha256\": [\"<64 hex digits>\"], \"scopes\": [\"…\"], \"ratePerMinute\": 600}}",
                        },
                        detail: e.detail,
                    }
                })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_quoting_a_secret_is_withheld() {
        let pem =
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n";
        for (description, withheld) in [
            ("CLIENT_CERTIFICATE holds no certificate", false),
            (
                "unknown label \"PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0\"",
                true,
            ),
            ("…ANBgkqhkiG9w0BAQEF…", true),
            ("…NBgkqhkiG9w0BAQ…", false),
            (
                "CLIENT_CERTIFICATE has a malformed BEGIN line: it must read \"-----BEGIN <LABEL>-----\" with five dashes on each side, e.g. \"-----BEGIN PRIVATE KEY-----\"",
                false,
            ),
        ] {
            let shown = about_secret(pem, description);
            assert_eq!(shown != description, withheld, "{description}");
        }
        assert_ne!(
            about_secret("hunter2", "the secret hunter2 is short"),
            "the secret hunter2 is short"
        );
    }

    #[test]
    fn public_text_is_fixed_and_names_the_entry() {
        let problem = Misconfigured {
            setting: "BROKER_CLIENTS",
            index: Some(3),
            public: UNUSABLE,
            detail: "caller \"jobs\" appears again".to_owned(),
        };
        assert_eq!(problem.name(), "BROKER_CLIENTS[3]");
        assert_eq!(problem.public(), UNUSABLE);
        assert_eq!(
            problem.log_line(),
            "broker misconfigured: BROKER_CLIENTS[3]: caller \"jobs\" appears again"
        );
        assert_eq!(
            refused("TENANT_ID", "tenant \"x y\" is not valid").public(),
            UNUSABLE
        );
    }
}
