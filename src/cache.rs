//! The in-memory token cache, keyed by scope set.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::secret::Secret;

/// How long before its expiry a cached token stops being served, as in MSAL: a caller that
/// receives a token can still use it for at least this long.
pub const DEFAULT_EXPIRY_BUFFER_MS: u64 = 5 * 60 * 1000;

/// A token with its absolute expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The access token.
    pub access_token: Secret,
    /// The token type, e.g. `Bearer`.
    pub token_type: String,
    /// Expiry, in milliseconds since the Unix epoch.
    pub expires_on_ms: u64,
}

impl CachedToken {
    /// True while the token has more than `buffer_ms` left at `now_ms`. Every cache tier
    /// (this map, the Worker's KV) uses this one rule.
    pub fn is_fresh(&self, now_ms: u64, buffer_ms: u64) -> bool {
        self.expires_on_ms > now_ms.saturating_add(buffer_ms)
    }

    /// Serialises the token for an external store, as
    /// `{"access_token","token_type","expires_on_ms"}`.
    pub fn to_json(&self) -> String {
        let stored = StoredToken {
            access_token: self.access_token.expose().into(),
            token_type: self.token_type.as_str().into(),
            expires_on_ms: self.expires_on_ms,
        };
        // Serialising strings and an integer cannot fail.
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// Reads a token written by [`CachedToken::to_json`].
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let stored: StoredToken<'_> = serde_json::from_str(json)
            .map_err(|_| Error::invalid_response("a stored token is not in the expected format"))?;
        Ok(CachedToken {
            access_token: Secret::new(stored.access_token),
            token_type: stored.token_type.into_owned(),
            expires_on_ms: stored.expires_on_ms,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct StoredToken<'a> {
    #[serde(borrow)]
    access_token: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    token_type: std::borrow::Cow<'a, str>,
    expires_on_ms: u64,
}

/// Tokens by cache key, served while they have more than the expiry buffer left.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: HashMap<String, CachedToken>,
    expiry_buffer_ms: u64,
}

impl TokenCache {
    /// An empty cache with the given expiry buffer.
    pub fn new(expiry_buffer_ms: u64) -> Self {
        TokenCache {
            entries: HashMap::new(),
            expiry_buffer_ms,
        }
    }

    /// The token under `key`, if it is still fresh at `now_ms`.
    pub fn get(&self, key: &str, now_ms: u64) -> Option<&CachedToken> {
        self.entries
            .get(key)
            .filter(|token| token.is_fresh(now_ms, self.expiry_buffer_ms))
    }

    /// Stores a token, replacing any older one under `key`, and drops every entry that is
    /// no longer fresh so the map cannot grow with dead tokens.
    pub fn put(&mut self, key: &str, token: CachedToken, now_ms: u64) {
        let buffer = self.expiry_buffer_ms;
        self.entries.retain(|_, held| held.is_fresh(now_ms, buffer));
        self.entries.insert(key.to_owned(), token);
    }

    /// Removes every token.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Number of entries held (fresh or not yet swept).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_on_ms: u64) -> CachedToken {
        CachedToken {
            access_token: Secret::new("t"),
            token_type: "Bearer".into(),
            expires_on_ms,
        }
    }

    #[test]
    fn serves_until_the_expiry_buffer() {
        let mut cache = TokenCache::new(1_000);
        cache.put("k", token(10_000), 0);
        assert!(cache.get("k", 8_999).is_some());
        assert!(cache.get("k", 9_000).is_none());
        assert!(cache.get("other", 0).is_none());
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let original = CachedToken {
            access_token: Secret::new("a\"b"),
            token_type: "Bearer".into(),
            expires_on_ms: 1_800_000_000_123,
        };
        let json = original.to_json();
        assert_eq!(
            json,
            r#"{"access_token":"a\"b","token_type":"Bearer","expires_on_ms":1800000000123}"#
        );
        assert_eq!(CachedToken::from_json(&json).unwrap(), original);
        assert!(CachedToken::from_json("{}").is_err());
        assert!(CachedToken::from_json("not json").is_err());
    }

    #[test]
    fn put_sweeps_stale_entries() {
        let mut cache = TokenCache::new(0);
        cache.put("old", token(100), 0);
        cache.put("new", token(10_000), 200);
        assert_eq!(cache.len(), 1);
        assert!(cache.get("new", 200).is_some());
        cache.clear();
        assert!(cache.is_empty());
    }
}
