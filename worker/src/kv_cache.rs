//! Workers KV as the shared, encrypted token store beneath each isolate's memory.
//!
//! KV keys are a SHA-256 of the core's store key (token endpoint, client id, scope set), so
//! they reveal no scope text; values are AES-256-GCM sealed with the KV key as associated
//! data, so a KV reader learns nothing. Freshness is the core's rule; KV's TTL only lets dead
//! entries disappear. Any KV failure is logged and read as a miss: the IdP still answers.
//!
//! Each value records when it was sealed. With the fleet's coordinator, an isolate takes an
//! entry as a copy the coordinator vouched for then ([`leased`]): KV may lag a forced refresh
//! by a minute or more across locations, and the lease is what bounds how long anyone serves
//! the replaced token. Without a coordinator, entries serve until their refresh point.

use std::cell::Cell;

use cctoken::broker::kv_entry::{kv_key_for_hash, kv_plaintext, kv_ttl_s, read_kv_plaintext};
use cctoken::cache::{CachedToken, TokenStore};
use cctoken::coordinator::leased;
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
    leased: bool,
    /// Entries expiring before this are refused (see [`KvTokenStore::refuse_expiring_before`]).
    expiring_before_ms: Cell<u64>,
}

impl KvTokenStore {
    /// A store over the KV binding `namespace`; `leased` when a fleet coordinator vouches
    /// for tokens (entries are then leased from when they were sealed).
    pub fn new(
        namespace: JsValue,
        cipher: CacheCipher,
        expiry_buffer_ms: u64,
        leased: bool,
    ) -> Self {
        KvTokenStore {
            namespace,
            cipher,
            expiry_buffer_ms,
            leased,
            expiring_before_ms: Cell::new(0),
        }
    }

    /// Refuses entries that expire before `expires_on_ms`: older than a token its owner has
    /// already seen (a KV replica that lags, or a value replayed into KV).
    pub fn refuse_expiring_before(&self, expires_on_ms: u64) {
        self.expiring_before_ms
            .set(self.expiring_before_ms.get().max(expires_on_ms));
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
        let Some((token, sealed_at_ms)) = read_kv_plaintext(&json) else {
            return Ok(None);
        };
        if token.expires_on_ms < self.expiring_before_ms.get() {
            return Ok(None);
        }
        Ok(match (self.leased, sealed_at_ms) {
            (false, _) => Some(token),
            (true, Some(sealed_at_ms)) => Some(leased(token, sealed_at_ms)),
            // Sealed before entries said when: nothing vouches for it, the coordinator decides.
            (true, None) => None,
        })
    }

    async fn write(&self, store_key: &str, token: &CachedToken) -> Result<(), JsValue> {
        let now_ms = js_sys::Date::now() as u64;
        let Some(ttl_s) = kv_ttl_s(token.expires_on_ms, now_ms, self.expiry_buffer_ms) else {
            return Ok(());
        };
        let kv_key = Self::kv_key(store_key).await?;
        let sealed = self
            .cipher
            .seal(kv_plaintext(token, now_ms).as_bytes(), kv_key.as_bytes())
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
