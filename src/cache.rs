//! The token cache: tokens per scope set in memory (bounded, least recently used evicted),
//! the freshness rules every tier shares, a versioned JSON form for persistence, and the
//! [`TokenStore`] trait for a shared tier beneath memory (the Worker's KV).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ports::LocalBoxFuture;
use crate::response::MAX_LIFETIME_S;
use crate::scope::{ScopeRules, ScopeSet};
use crate::secret::AccessToken;

/// How long before its expiry a cached token stops being served, as in MSAL: a caller that
/// receives a token can still use it for at least this long.
pub const DEFAULT_EXPIRY_BUFFER_MS: u64 = 5 * 60 * 1000;
/// Default bound on cached scope sets.
pub const DEFAULT_CACHE_CAPACITY: usize = 1000;
/// Tokens living at least this long get a refresh point at half their lifetime when the
/// server suggests none (as MSAL does).
const PROACTIVE_REFRESH_MIN_LIFETIME_MS: u64 = 2 * 3600 * 1000;
/// The version of [`TokenCache::serialize`]'s format.
const SERIALIZED_VERSION: u32 = 1;
/// The version of a serialized cache holding other tenants' tokens (entries with an
/// `authority`): a reader of version 1 ignores members it does not know, and would load
/// another tenant's token as the client's own, so it must refuse the blob instead.
const SERIALIZED_VERSION_TENANTS: u32 = 2;

/// What a client makes of another tenant's entry in a serialized cache (one with an
/// `authority`), in [`TokenCache::deserialize_tenants`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantEntry {
    /// A request naming the authority would be allowed to fetch the token, and the label is
    /// the one that request's cache key uses: the token is loaded.
    Load,
    /// Another client of the same app, with other rules (more `allowedAuthorityHosts`, no
    /// `assertionAudience`), may have written it for a tenant this client may not ask for:
    /// it is left out, and the other entries are still loaded.
    Skip,
    /// No client of this app could have written it (not a canonical authority of one tenant,
    /// or one naming this client's own endpoint): the blob is forged or corrupt, and refused.
    Refuse,
}

/// A token with its absolute times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The access token.
    pub access_token: AccessToken,
    /// The token type, e.g. `Bearer`.
    pub token_type: String,
    /// Expiry, in milliseconds since the Unix epoch.
    pub expires_on_ms: u64,
    /// Extended expiry (`ext_expires_in`), for when the identity provider is degraded.
    pub ext_expires_on_ms: u64,
    /// When to refresh in the background while still serving this token.
    pub refresh_on_ms: Option<u64>,
    /// Until when this copy may be served without asking its source again (a fleet
    /// coordinator's lease, see [`crate::coordinator`]); past it the copy is not fresh. It
    /// belongs to this copy, so it is never written to a store or serialized.
    pub lease_until_ms: Option<u64>,
}

impl CachedToken {
    /// A token issued for a request sent at `sent_at_ms`: expiry counts from the send time,
    /// as the token cannot have been issued earlier. `refresh_on` is `refresh_in` when the
    /// server gave one, else half the lifetime for tokens living two hours or more.
    pub fn issued(
        access_token: AccessToken,
        token_type: String,
        sent_at_ms: u64,
        expires_in_s: u64,
        ext_expires_in_s: Option<u64>,
        refresh_in_s: Option<u64>,
    ) -> Self {
        let lifetime_ms = expires_in_s.saturating_mul(1000);
        let expires_on_ms = sent_at_ms.saturating_add(lifetime_ms);
        let refresh_on_ms = match refresh_in_s {
            Some(seconds) => Some(sent_at_ms.saturating_add(seconds.saturating_mul(1000))),
            None if lifetime_ms >= PROACTIVE_REFRESH_MIN_LIFETIME_MS => {
                Some(sent_at_ms.saturating_add(lifetime_ms / 2))
            }
            None => None,
        };
        CachedToken {
            access_token,
            token_type,
            expires_on_ms,
            ext_expires_on_ms: ext_expires_in_s.map_or(expires_on_ms, |s| {
                sent_at_ms.saturating_add(s.saturating_mul(1000))
            }),
            refresh_on_ms,
            lease_until_ms: None,
        }
    }

    /// True while the token has more than `buffer_ms` left at `now_ms` and its lease (if any)
    /// has not run out. Every cache tier (memory, the Worker's KV) uses this one rule.
    pub fn is_fresh(&self, now_ms: u64, buffer_ms: u64) -> bool {
        self.expires_on_ms > now_ms.saturating_add(buffer_ms)
            && self.lease_until_ms.is_none_or(|until| now_ms < until)
    }

    /// True once the refresh point has passed.
    pub fn needs_refresh(&self, now_ms: u64) -> bool {
        self.refresh_on_ms.is_some_and(|at| now_ms >= at)
    }

    /// Serialises the token for an external store.
    pub fn to_json(&self) -> String {
        // Serialising strings and integers cannot fail.
        serde_json::to_string(&StoredToken::from(self)).unwrap_or_default()
    }

    /// Reads a token written by [`CachedToken::to_json`].
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str::<StoredToken>(json)
            .map(CachedToken::from)
            .map_err(|_| Error::invalid_response("a stored token is not in the expected format"))
    }
}

#[derive(Serialize, Deserialize)]
struct StoredToken {
    access_token: String,
    token_type: String,
    expires_on_ms: u64,
    #[serde(default)]
    ext_expires_on_ms: Option<u64>,
    #[serde(default)]
    refresh_on_ms: Option<u64>,
}

impl From<&CachedToken> for StoredToken {
    fn from(token: &CachedToken) -> Self {
        StoredToken {
            access_token: token.access_token.expose().to_owned(),
            token_type: token.token_type.clone(),
            expires_on_ms: token.expires_on_ms,
            ext_expires_on_ms: Some(token.ext_expires_on_ms),
            refresh_on_ms: token.refresh_on_ms,
        }
    }
}

impl From<StoredToken> for CachedToken {
    fn from(stored: StoredToken) -> Self {
        CachedToken {
            access_token: AccessToken::new(stored.access_token),
            token_type: stored.token_type,
            expires_on_ms: stored.expires_on_ms,
            ext_expires_on_ms: stored.ext_expires_on_ms.unwrap_or(stored.expires_on_ms),
            refresh_on_ms: stored.refresh_on_ms,
            lease_until_ms: None,
        }
    }
}

fn unusable_entry(index: usize, why: &str) -> Error {
    Error::invalid_config(
        "cache",
        format!("the serialized cache's tokens[{index}] cannot have come from serializeCache(): {why}; nothing was loaded"),
    )
}

/// A shared cache tier beneath the client's memory (Workers KV in the broker). Keys are
/// [`store_key`]s. Failures are the store's to log; a failed `get` is a miss.
pub trait TokenStore {
    /// The token stored under `key`, if any.
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Option<CachedToken>>;
    /// Stores `token` under `key`; the store may drop it once it is no longer fresh.
    fn put<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> LocalBoxFuture<'a, ()>;
}

/// The identity of a cached token across clients and processes: token endpoint, client id
/// and scope-set key, newline-separated (stores hash it).
pub fn store_key(token_endpoint: &str, client_id: &str, scope_key: &str) -> String {
    format!("{token_endpoint}\n{client_id}\n{scope_key}")
}

struct Entry {
    token: CachedToken,
    last_used: u64,
}

/// Tokens by key, served while fresh, at most `capacity` of them. A key is the scope-set key
/// for the client's own tenant, or another tenant's authority and the scope-set key on two
/// lines (scope keys hold no line break).
pub struct TokenCache {
    entries: HashMap<String, Entry>,
    expiry_buffer_ms: u64,
    capacity: usize,
    use_counter: u64,
}

#[derive(Serialize, Deserialize)]
struct SerializedCache {
    version: u32,
    token_endpoint: String,
    client_id: String,
    tokens: Vec<SerializedEntry>,
}

/// One cached token in the serialized form. The token's fields are spelled out rather than
/// `#[serde(flatten)]`ed: flatten pulls serde's buffering deserializer into the wasm.
#[derive(Serialize, Deserialize)]
struct SerializedEntry {
    /// The tenant's authority, for a token of another tenant than the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authority: Option<String>,
    scopes: String,
    access_token: String,
    token_type: String,
    expires_on_ms: u64,
    #[serde(default)]
    ext_expires_on_ms: Option<u64>,
    #[serde(default)]
    refresh_on_ms: Option<u64>,
}

impl SerializedEntry {
    /// The entry of the token under `key` (see [`TokenCache`] for the keys).
    fn new(key: &str, token: &CachedToken) -> Self {
        let stored = StoredToken::from(token);
        let (authority, scopes) = match key.split_once('\n') {
            Some((authority, scopes)) => (Some(authority.to_owned()), scopes),
            None => (None, key),
        };
        SerializedEntry {
            authority,
            scopes: scopes.to_owned(),
            access_token: stored.access_token,
            token_type: stored.token_type,
            expires_on_ms: stored.expires_on_ms,
            ext_expires_on_ms: stored.ext_expires_on_ms,
            refresh_on_ms: stored.refresh_on_ms,
        }
    }

    /// The scope key and the token; the authority stays behind.
    fn into_token(self) -> (String, CachedToken) {
        let token = CachedToken::from(StoredToken {
            access_token: self.access_token,
            token_type: self.token_type,
            expires_on_ms: self.expires_on_ms,
            ext_expires_on_ms: self.ext_expires_on_ms,
            refresh_on_ms: self.refresh_on_ms,
        });
        (self.scopes, token)
    }
}

impl TokenCache {
    /// An empty cache.
    pub fn new(expiry_buffer_ms: u64, capacity: usize) -> Self {
        TokenCache {
            entries: HashMap::new(),
            expiry_buffer_ms,
            capacity: capacity.max(1),
            use_counter: 0,
        }
    }

    /// The token under `key`, if it is still fresh at `now_ms`; marks it recently used.
    pub fn get(&mut self, key: &str, now_ms: u64) -> Option<&CachedToken> {
        self.use_counter += 1;
        let counter = self.use_counter;
        let buffer = self.expiry_buffer_ms;
        let entry = self.entries.get_mut(key)?;
        if !entry.token.is_fresh(now_ms, buffer) {
            return None;
        }
        entry.last_used = counter;
        Some(&entry.token)
    }

    /// Stores a token under `key`, drops entries that are no longer fresh, and evicts the
    /// least recently used entries beyond the capacity.
    pub fn put(&mut self, key: &str, token: CachedToken, now_ms: u64) {
        self.use_counter += 1;
        let buffer = self.expiry_buffer_ms;
        self.entries
            .retain(|_, entry| entry.token.is_fresh(now_ms, buffer));
        self.entries.insert(
            key.to_owned(),
            Entry {
                token,
                last_used: self.use_counter,
            },
        );
        while self.entries.len() > self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| key.clone());
            match oldest {
                Some(key) => self.entries.remove(&key),
                None => break,
            };
        }
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

    /// The fresh tokens as versioned JSON, labelled with the client they belong to.
    pub fn serialize(&self, token_endpoint: &str, client_id: &str, now_ms: u64) -> String {
        let mut tokens: Vec<SerializedEntry> = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.token.is_fresh(now_ms, self.expiry_buffer_ms))
            .map(|(scopes, entry)| SerializedEntry::new(scopes, &entry.token))
            .collect();
        tokens.sort_by(|a, b| (&a.authority, &a.scopes).cmp(&(&b.authority, &b.scopes)));
        let tenants = tokens.iter().any(|entry| entry.authority.is_some());
        let cache = SerializedCache {
            version: if tenants {
                SERIALIZED_VERSION_TENANTS
            } else {
                SERIALIZED_VERSION
            },
            token_endpoint: token_endpoint.to_owned(),
            client_id: client_id.to_owned(),
            tokens,
        };
        // Plain strings and integers always serialise.
        serde_json::to_string(&cache).unwrap_or_default()
    }

    /// Loads tokens from [`TokenCache::serialize`]'s output, skipping expired ones; returns
    /// how many were loaded. A cache written for another client is refused, and so is the
    /// whole blob if any entry could not have come from `serialize` (a scope key that is not
    /// normalised under `rules`, a token type other than Bearer, an empty token). Lifetimes are
    /// capped at ten years from `now_ms`, as replies are.
    ///
    /// An entry of another tenant names its authority: this refuses it (and so the blob);
    /// [`Self::deserialize_tenants`] asks `tenant_entry` what to make of it (see
    /// [`TenantEntry`]).
    ///
    /// The blob is trusted for what it says: whoever can write it can make this client serve
    /// any token for any scope set. Keep it where only the app can write it, not merely where
    /// only the app can read it.
    pub fn deserialize(
        &mut self,
        json: &str,
        token_endpoint: &str,
        client_id: &str,
        rules: ScopeRules,
        now_ms: u64,
    ) -> Result<usize, Error> {
        self.deserialize_tenants(json, token_endpoint, client_id, rules, now_ms, &|_| {
            TenantEntry::Refuse
        })
    }

    /// [`Self::deserialize`] for a client that takes other tenants per request: an entry of
    /// another tenant is loaded, skipped or refused (with the blob) as `tenant_entry` says.
    pub fn deserialize_tenants(
        &mut self,
        json: &str,
        token_endpoint: &str,
        client_id: &str,
        rules: ScopeRules,
        now_ms: u64,
        tenant_entry: &dyn Fn(&str) -> TenantEntry,
    ) -> Result<usize, Error> {
        let cache: SerializedCache = serde_json::from_str(json).map_err(|_| {
            Error::invalid_config(
                "cache",
                "the serialized cache is not in the expected format: pass what serializeCache() returned",
            )
        })?;
        if cache.version != SERIALIZED_VERSION && cache.version != SERIALIZED_VERSION_TENANTS {
            return Err(Error::invalid_config(
                "cache",
                format!(
                    "the serialized cache has version {}, this cctoken reads versions {SERIALIZED_VERSION} and {SERIALIZED_VERSION_TENANTS}",
                    cache.version
                ),
            ));
        }
        if cache.token_endpoint != token_endpoint || cache.client_id != client_id {
            return Err(Error::invalid_config(
                "cache",
                "the serialized cache belongs to another client (token endpoint or client id differ)",
            ));
        }
        let latest_ms = now_ms.saturating_add(MAX_LIFETIME_S * 1000);
        let mut tokens = Vec::with_capacity(cache.tokens.len());
        for (index, entry) in cache.tokens.into_iter().enumerate() {
            let normalised = ScopeSet::parse(entry.scopes.split(' '), rules)
                .is_ok_and(|set| set.cache_key() == entry.scopes);
            if !normalised {
                return Err(unusable_entry(
                    index,
                    "its scopes are not a normalised scope key",
                ));
            }
            if !entry.token_type.eq_ignore_ascii_case("bearer") {
                return Err(unusable_entry(index, "its token type is not Bearer"));
            }
            if entry.access_token.is_empty() {
                return Err(unusable_entry(index, "its access token is empty"));
            }
            let prefix = match entry.authority.as_deref().map(tenant_entry) {
                None => None,
                Some(TenantEntry::Load) => entry.authority.clone(),
                Some(TenantEntry::Skip) => continue,
                Some(TenantEntry::Refuse) => {
                    return Err(unusable_entry(
                        index,
                        "its authority is not another tenant this client may ask for",
                    ))
                }
            };
            let (scopes, mut token) = entry.into_token();
            let scopes = match prefix {
                Some(authority) => format!("{authority}\n{scopes}"),
                None => scopes,
            };
            token.token_type = "Bearer".to_owned();
            token.expires_on_ms = token.expires_on_ms.min(latest_ms);
            token.ext_expires_on_ms = token.ext_expires_on_ms.min(latest_ms);
            token.refresh_on_ms = token.refresh_on_ms.map(|at| at.min(token.expires_on_ms));
            tokens.push((scopes, token));
        }
        let mut loaded = 0;
        for (scopes, token) in tokens {
            if token.is_fresh(now_ms, self.expiry_buffer_ms) {
                self.put(&scopes, token, now_ms);
                loaded += 1;
            }
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_on_ms: u64) -> CachedToken {
        CachedToken {
            access_token: AccessToken::new("t"),
            token_type: "Bearer".into(),
            expires_on_ms,
            ext_expires_on_ms: expires_on_ms,
            refresh_on_ms: None,
            lease_until_ms: None,
        }
    }

    #[test]
    fn serves_until_the_expiry_buffer() {
        let mut cache = TokenCache::new(1_000, 10);
        cache.put("k", token(10_000), 0);
        assert!(cache.get("k", 8_999).is_some());
        assert!(cache.get("k", 9_000).is_none());
        assert!(cache.get("other", 0).is_none());
    }

    #[test]
    fn refresh_on_comes_from_refresh_in_or_half_of_long_lifetimes() {
        let secret = || AccessToken::new("t");
        let hinted = CachedToken::issued(
            secret(),
            "Bearer".into(),
            1_000,
            3600,
            Some(7200),
            Some(600),
        );
        assert_eq!(hinted.expires_on_ms, 3_601_000);
        assert_eq!(hinted.ext_expires_on_ms, 7_201_000);
        assert_eq!(hinted.refresh_on_ms, Some(601_000));
        let long = CachedToken::issued(secret(), "Bearer".into(), 0, 86_400, None, None);
        assert_eq!(long.refresh_on_ms, Some(43_200_000));
        // From two hours on (README: "tokens living 2 hours or more").
        let two_hours = CachedToken::issued(secret(), "Bearer".into(), 0, 7_200, None, None);
        assert_eq!(two_hours.refresh_on_ms, Some(3_600_000));
        let just_under = CachedToken::issued(secret(), "Bearer".into(), 0, 7_199, None, None);
        assert_eq!(just_under.refresh_on_ms, None);
        assert_eq!(long.ext_expires_on_ms, long.expires_on_ms);
        let short = CachedToken::issued(secret(), "Bearer".into(), 0, 3599, None, None);
        assert_eq!(short.refresh_on_ms, None);
        assert!(!short.needs_refresh(u64::MAX));
        assert!(hinted.needs_refresh(601_000));
        assert!(!hinted.needs_refresh(600_999));
    }

    #[test]
    fn put_sweeps_stale_entries_and_evicts_the_least_recently_used() {
        let mut cache = TokenCache::new(0, 2);
        assert!(cache.is_empty());
        cache.put("old", token(100), 0);
        assert!(!cache.is_empty());
        cache.put("a", token(10_000), 200);
        assert_eq!(cache.len(), 1, "the stale entry is swept");
        cache.put("b", token(10_000), 200);
        assert!(
            cache.get("a", 200).is_some(),
            "a is now the most recently used"
        );
        cache.put("c", token(10_000), 200);
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b", 200).is_none(), "b was least recently used");
        assert!(cache.get("a", 200).is_some());
        assert!(cache.get("c", 200).is_some());
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn json_round_trip_keeps_every_field_and_reads_old_entries() {
        let original = CachedToken {
            access_token: AccessToken::new("a\"b"),
            token_type: "Bearer".into(),
            expires_on_ms: 1_800_000_000_123,
            ext_expires_on_ms: 1_800_000_100_000,
            refresh_on_ms: Some(1_700_000_000_000),
            lease_until_ms: None,
        };
        assert_eq!(
            CachedToken::from_json(&original.to_json()).unwrap(),
            original
        );
        let old = CachedToken::from_json(
            r#"{"access_token":"x","token_type":"Bearer","expires_on_ms":5}"#,
        )
        .unwrap();
        assert_eq!(old.ext_expires_on_ms, 5);
        assert!(CachedToken::from_json("{}").is_err());
        assert!(CachedToken::from_json("not json").is_err());
    }

    #[test]
    fn serialize_keeps_only_fresh_tokens_for_the_same_client() {
        let mut cache = TokenCache::new(1_000, 10);
        cache.put("a/.default", token(100_000), 0);
        cache.put("b/.default", token(50_000), 0);
        let json = cache.serialize("https://e/token", "app", 49_500);
        assert!(json.starts_with(r#"{"version":1,"token_endpoint":"https://e/token","client_id":"app","tokens":[{"scopes":"a/.default","access_token":"t""#), "{json}");
        assert!(!json.contains("b/.default"));

        let mut restored = TokenCache::new(1_000, 10);
        assert_eq!(
            restored
                .deserialize(&json, "https://e/token", "app", ScopeRules::Generic, 0)
                .unwrap(),
            1
        );
        assert!(restored.get("a/.default", 0).is_some());
        assert_eq!(
            restored
                .deserialize(&json, "https://e/token", "app", ScopeRules::Generic, 99_500)
                .unwrap(),
            0
        );

        for (input, endpoint, expected) in [
            (json.as_str(), "https://other/token", "another client"),
            ("[]", "https://e/token", "expected format"),
            (
                r#"{"version":3,"token_endpoint":"","client_id":"","tokens":[]}"#,
                "https://e/token",
                "version 3, this cctoken reads versions 1 and 2",
            ),
        ] {
            let error = restored
                .deserialize(input, endpoint, "app", ScopeRules::Generic, 0)
                .unwrap_err();
            assert!(error.message().contains(expected), "{error}");
        }
    }

    fn blob(entry: &str) -> String {
        format!(
            r#"{{"version":1,"token_endpoint":"https://e/token","client_id":"app","tokens":[{{"scopes":"a/.default","access_token":"t","token_type":"Bearer","expires_on_ms":9000000}},{entry}]}}"#
        )
    }

    #[test]
    fn deserialize_refuses_entries_serialize_cannot_write_and_caps_lifetimes() {
        for (entry, rules, expected) in [
            (
                r#"{"scopes":"b a","access_token":"t","token_type":"Bearer","expires_on_ms":9000000}"#,
                ScopeRules::Generic,
                "tokens[1]",
            ),
            (
                r#"{"scopes":"a  b","access_token":"t","token_type":"Bearer","expires_on_ms":9000000}"#,
                ScopeRules::Generic,
                "normalised",
            ),
            (
                r#"{"scopes":"","access_token":"t","token_type":"Bearer","expires_on_ms":9000000}"#,
                ScopeRules::Generic,
                "normalised",
            ),
            (
                r#"{"scopes":"HTTPS://X.example/.default","access_token":"t","token_type":"Bearer","expires_on_ms":9000000}"#,
                ScopeRules::Entra,
                "normalised",
            ),
            (
                r#"{"scopes":"b","access_token":"t","token_type":"pop","expires_on_ms":9000000}"#,
                ScopeRules::Generic,
                "not Bearer",
            ),
            (
                r#"{"scopes":"b","access_token":"","token_type":"Bearer","expires_on_ms":9000000}"#,
                ScopeRules::Generic,
                "empty",
            ),
        ] {
            let mut cache = TokenCache::new(1_000, 10);
            let error = cache
                .deserialize(&blob(entry), "https://e/token", "app", rules, 0)
                .unwrap_err();
            assert_eq!(error.field(), Some("cache"));
            assert!(error.message().contains(expected), "{entry}: {error}");
            assert!(cache.is_empty(), "nothing was loaded");
        }

        let mut cache = TokenCache::new(1_000, 10);
        let forever = blob(&format!(
            r#"{{"scopes":"b","access_token":"t","token_type":"bearer","expires_on_ms":{},"ext_expires_on_ms":{},"refresh_on_ms":{}}}"#,
            u64::MAX,
            u64::MAX,
            u64::MAX
        ));
        assert_eq!(
            cache
                .deserialize(&forever, "https://e/token", "app", ScopeRules::Generic, 5)
                .unwrap(),
            2
        );
        let token = cache.get("b", 5).unwrap();
        let ten_years_ms = MAX_LIFETIME_S * 1000;
        assert_eq!(token.expires_on_ms, 5 + ten_years_ms);
        assert_eq!(token.ext_expires_on_ms, 5 + ten_years_ms);
        assert_eq!(token.refresh_on_ms, Some(5 + ten_years_ms));
        assert_eq!(token.token_type, "Bearer");
    }
}
