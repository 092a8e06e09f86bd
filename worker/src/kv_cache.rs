//! Workers KV as the shared token store beneath each client's memory.
//!
//! KV keys are a SHA-256 of the core's store key (token endpoint, client id, scope set), so
//! they stay under KV's 512-byte limit and reveal no scope text. Freshness is the core's
//! rule; KV's own TTL only lets dead entries disappear.

use cctoken::cache::{CachedToken, TokenStore};
use cctoken::ports::LocalBoxFuture;
use worker::console_error;
use worker::kv::KvStore;

use crate::digest::sha256_hex;

/// KV refuses TTLs under 60 seconds.
const MIN_KV_TTL_S: u64 = 60;

/// Tokens in the `TOKEN_CACHE` namespace.
pub struct KvTokenStore {
    kv: KvStore,
    expiry_buffer_ms: u64,
}

impl KvTokenStore {
    /// A store over `kv`; entries expire from KV once tokens stop being served.
    pub fn new(kv: KvStore, expiry_buffer_ms: u64) -> Self {
        KvTokenStore {
            kv,
            expiry_buffer_ms,
        }
    }

    async fn kv_key(store_key: &str) -> Option<String> {
        match sha256_hex(store_key).await {
            Ok(hash) => Some(format!("token:v1:{hash}")),
            Err(_) => {
                console_error!("crypto.subtle.digest failed; the KV cache is skipped");
                None
            }
        }
    }
}

impl TokenStore for KvTokenStore {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Option<CachedToken>> {
        Box::pin(async move {
            let kv_key = Self::kv_key(key).await?;
            match self.kv.get(&kv_key).text().await {
                Ok(stored) => CachedToken::from_json(&stored?).ok(),
                Err(error) => {
                    console_error!("KV get failed, asking the identity provider instead: {error}");
                    None
                }
            }
        })
    }

    fn put<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(kv_key) = Self::kv_key(key).await else {
                return;
            };
            let now_ms = js_sys::Date::now() as u64;
            let fresh_for_s = token
                .expires_on_ms
                .saturating_sub(now_ms.saturating_add(self.expiry_buffer_ms))
                / 1000;
            let result = match self.kv.put(&kv_key, token.to_json()) {
                Ok(put) => {
                    put.expiration_ttl(fresh_for_s.max(MIN_KV_TTL_S))
                        .execute()
                        .await
                }
                Err(error) => Err(error),
            };
            if let Err(error) = result {
                console_error!("KV put failed; the token was served but not shared: {error}");
            }
        })
    }
}
