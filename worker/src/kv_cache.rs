//! The shared token cache in Workers KV.
//!
//! Keys are a SHA-256 of (token endpoint, client id, scope set), so they stay under KV's
//! 512-byte key limit whatever the scopes. Freshness uses the core's rule; KV's own TTL only
//! lets dead entries disappear.

use cctoken::cache::CachedToken;
use cctoken::{ClientConfig, ScopeSet};
use worker::console_error;
use worker::kv::KvStore;

use crate::digest::sha256_hex;

/// KV refuses TTLs under 60 seconds.
const MIN_KV_TTL_S: u64 = 60;

/// The KV key for a client's tokens of one scope set.
pub async fn key_for(client: &ClientConfig, scopes: &ScopeSet) -> worker::Result<String> {
    let identity = format!(
        "{}\n{}\n{}",
        client.token_endpoint().url(),
        client.client_id(),
        scopes.cache_key()
    );
    let hash = sha256_hex(&identity)
        .await
        .map_err(|_| worker::Error::RustError("crypto.subtle.digest failed".into()))?;
    Ok(format!("token:v1:{hash}"))
}

/// A fresh token under `key`, or `None`. KV failures are logged and read as a miss, so the
/// broker still answers through the identity provider.
pub async fn read_fresh(
    kv: &KvStore,
    key: &str,
    now_ms: u64,
    buffer_ms: u64,
) -> Option<CachedToken> {
    let stored = match kv.get(key).text().await {
        Ok(stored) => stored?,
        Err(error) => {
            console_error!("KV get failed, asking the identity provider instead: {error}");
            return None;
        }
    };
    CachedToken::from_json(&stored)
        .ok()
        .filter(|token| token.is_fresh(now_ms, buffer_ms))
}

/// Stores a token until it stops being fresh (at least KV's minimum TTL). Failures are
/// logged: the caller already has its token.
pub async fn write(kv: &KvStore, key: &str, token: &CachedToken, now_ms: u64, buffer_ms: u64) {
    let fresh_for_s = token
        .expires_on_ms
        .saturating_sub(now_ms.saturating_add(buffer_ms))
        / 1000;
    let result = match kv.put(key, token.to_json()) {
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
}
