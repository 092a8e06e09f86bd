//! Workers KV as the shared, encrypted token store beneath each isolate's memory.
//!
//! KV keys are a SHA-256 of the core's store key (token endpoint, client id, scope set), so
//! they reveal no scope text; values are AES-256-GCM sealed with the KV key as associated
//! data, so a KV reader learns nothing. Freshness is the core's rule; KV's TTL only lets dead
//! entries disappear. Any KV failure is logged and read as a miss: the IdP still answers.

use cctoken::broker::kv_entry::{kv_key_for_hash, kv_ttl_s};
use cctoken::cache::{CachedToken, TokenStore};
use cctoken::js::describe_js_error;
use cctoken::js::object::{call_async, object};
use cctoken::js::webcrypto::sha256;
use cctoken::ports::LocalBoxFuture;
use wasm_bindgen::JsValue;
use worker::console_error;

use crate::kv_crypto::CacheCipher;

/// Encrypted tokens in the `TOKEN_CACHE` namespace.
pub struct KvTokenStore {
    namespace: JsValue,
    cipher: CacheCipher,
    expiry_buffer_ms: u64,
}

impl KvTokenStore {
    /// A store over the KV binding `namespace`.
    pub fn new(namespace: JsValue, cipher: CacheCipher, expiry_buffer_ms: u64) -> Self {
        KvTokenStore {
            namespace,
            cipher,
            expiry_buffer_ms,
        }
    }

    async fn kv_key(store_key: &str) -> Result<String, JsValue> {
        Ok(kv_key_for_hash(&sha256(store_key.as_bytes()).await?))
    }

    async fn read(&self, store_key: &str) -> Result<Option<CachedToken>, JsValue> {
        let kv_key = Self::kv_key(store_key).await?;
        let Some(sealed) = call_async(&self.namespace, "get", &[kv_key.as_str().into()])
            .await?
            .as_string()
        else {
            return Ok(None);
        };
        let plain = self.cipher.open(&sealed, kv_key.as_bytes()).await?;
        let json = String::from_utf8(plain).map_err(|_| JsValue::from_str("not UTF-8"))?;
        Ok(CachedToken::from_json(&json).ok())
    }

    async fn write(&self, store_key: &str, token: &CachedToken) -> Result<(), JsValue> {
        let now_ms = js_sys::Date::now() as u64;
        let Some(ttl_s) = kv_ttl_s(token.expires_on_ms, now_ms, self.expiry_buffer_ms) else {
            return Ok(());
        };
        let kv_key = Self::kv_key(store_key).await?;
        let sealed = self
            .cipher
            .seal(token.to_json().as_bytes(), kv_key.as_bytes())
            .await?;
        let options = object(&[("expirationTtl", JsValue::from_f64(ttl_s as f64))]);
        call_async(
            &self.namespace,
            "put",
            &[kv_key.as_str().into(), sealed.into(), options.into()],
        )
        .await
        .map(|_| ())
    }
}

impl TokenStore for KvTokenStore {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Option<CachedToken>> {
        Box::pin(async move {
            self.read(key).await.unwrap_or_else(|error| {
                console_error!(
                    "KV read failed, asking the identity provider instead: {}",
                    describe_js_error(&error)
                );
                None
            })
        })
    }

    fn put<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(error) = self.write(key, token).await {
                console_error!(
                    "KV write failed; the token was served but not shared: {}",
                    describe_js_error(&error)
                );
            }
        })
    }
}
