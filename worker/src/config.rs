//! The broker's configuration, read from Worker vars, secrets and bindings. The core maps the
//! settings onto the client, the callers and the cache key ([`BrokerSettings`]); problems name
//! the setting, never its value.

use std::cell::RefCell;
use std::rc::Rc;

use cctoken::broker::settings::{BrokerSettings, Misconfigured};
use cctoken::js::WebCryptoSigner;
use cctoken::ports::Signer;
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use worker::{console_error, Env};

/// Everything the broker needs.
pub struct BrokerConfig {
    /// What the settings say: the app's client, the callers, the KV cache key.
    pub settings: BrokerSettings,
    /// The KV namespace binding.
    pub token_cache: JsValue,
}

impl BrokerConfig {
    /// The settings [`BrokerSettings::read`] names, with certificates signed by WebCrypto,
    /// and the KV binding `TOKEN_CACHE`.
    pub fn from_env(env: &Env) -> Result<Self, Misconfigured> {
        let make_signer = |key, algorithm| -> Result<Rc<dyn Signer>, cctoken::Error> {
            Ok(Rc::new(WebCryptoSigner::new(key, algorithm)?))
        };
        let settings = BrokerSettings::read(|name| setting(env, name), &make_signer)?;
        let token_cache = Reflect::get(env, &"TOKEN_CACHE".into()).unwrap_or(JsValue::UNDEFINED);
        if token_cache.is_undefined() || token_cache.is_null() {
            return Err(Misconfigured::missing("TOKEN_CACHE", "the KV binding TOKEN_CACHE is missing: add [[kv_namespaces]] binding = \"TOKEN_CACHE\" to wrangler.toml"));
        }
        Ok(BrokerConfig {
            settings,
            token_cache,
        })
    }
}

/// A var or secret as text, if set. A number var (wrangler.toml may give one) is read as JS
/// prints it.
fn setting(env: &Env, name: &str) -> Option<String> {
    let value = Reflect::get(env, &name.into()).ok()?;
    match value.as_string() {
        Some(text) => Some(text),
        None if value.as_f64().is_some() => js_sys::Number::from(value)
            .to_string_with_radix(10)
            .ok()
            .map(String::from),
        None => None,
    }
}

/// Logs `problem` once per isolate while it stays the same: anyone may ask `/healthz` or
/// `/token`, and each ask must not add a line to the operator's log.
pub fn log_once(problem: &Misconfigured) {
    let line = problem.log_line();
    LAST_LOGGED.with(|last| {
        let mut last = last.borrow_mut();
        if last.as_deref() != Some(line.as_str()) {
            console_error!("{line}");
            *last = Some(line);
        }
    });
}

thread_local! {
    static LAST_LOGGED: RefCell<Option<String>> = const { RefCell::new(None) };
}
