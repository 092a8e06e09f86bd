//! The broker's callers (`BROKER_CLIENTS`): who may ask, with which keys, for which scopes,
//! how often. Only SHA-256 hashes of keys are configured.

use std::collections::HashMap;

use cctoken::{ScopeRules, ScopeSet};
use serde::Deserialize;
use subtle::{Choice, ConstantTimeEq};

/// One caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's id (its `client_id` on the OAuth2 form path).
    pub id: String,
    /// SHA-256 of each accepted key; several allow rotation.
    pub key_hashes: Vec<[u8; 32]>,
    /// Normalised keys of the scopes it may request.
    granted: Vec<String>,
    /// Requests allowed per minute.
    pub rate_per_minute: u32,
    /// Of those, requests with `forceRefresh` allowed per minute.
    pub force_refresh_per_minute: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CallerJson {
    key_sha256: Vec<String>,
    scopes: Vec<String>,
    #[serde(default = "default_rate")]
    rate_per_minute: u32,
    #[serde(default = "default_force_refresh_rate")]
    force_refresh_per_minute: u32,
}

fn default_rate() -> u32 {
    600
}

/// Every forced refresh is a request to the identity provider and a KV write, so one caller
/// looping on `forceRefresh` could otherwise spend the app's IdP quota (and KV's
/// one-write-per-second-per-key) for every caller. A job that needs a new token after a 401
/// needs one now and then, not six a minute.
fn default_force_refresh_rate() -> u32 {
    6
}

/// All callers, sorted by id.
#[derive(Debug, Clone, Default)]
pub struct Callers {
    callers: Vec<Caller>,
}

impl Callers {
    /// Parses `BROKER_CLIENTS`: `{"<id>": {"keySha256": ["<hex>"…], "scopes": […], "ratePerMinute": 600,
    /// "forceRefreshPerMinute": 6}}`; a `forceRefreshPerMinute` of 0 refuses forced refreshes.
    /// Errors describe the problem without quoting values.
    pub fn parse(json: &str, rules: ScopeRules) -> Result<Self, String> {
        let parsed: HashMap<String, CallerJson> = serde_json::from_str(json).map_err(|e| {
            format!(
                "BROKER_CLIENTS is not valid: expected {{\"<caller id>\": {{\"keySha256\": [\"<64 hex digits>\"], \"scopes\": [\"api://…/.default\"], \"ratePerMinute\": 600}}}} (JSON error at line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        if parsed.is_empty() {
            return Err("BROKER_CLIENTS names no caller".to_owned());
        }
        let mut callers = Vec::with_capacity(parsed.len());
        for (id, caller) in parsed {
            let key_hashes = caller
                .key_sha256
                .iter()
                .map(|hex| parse_sha256_hex(hex))
                .collect::<Option<Vec<_>>>()
                .filter(|hashes| !hashes.is_empty())
                .ok_or_else(|| {
                    format!(
                        "BROKER_CLIENTS[{id}].keySha256 must list SHA-256 hashes as 64 hex digits"
                    )
                })?;
            let granted = caller
                .scopes
                .iter()
                .map(|scope| {
                    ScopeSet::parse([scope], rules)
                        .map(|set| set.cache_key().to_owned())
                        .map_err(|e| format!("BROKER_CLIENTS[{id}].scopes: {}", e.message()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if granted.is_empty() || caller.rate_per_minute == 0 {
                return Err(format!(
                    "BROKER_CLIENTS[{id}] needs at least one scope and a ratePerMinute above 0"
                ));
            }
            callers.push(Caller {
                id,
                key_hashes,
                granted,
                rate_per_minute: caller.rate_per_minute,
                force_refresh_per_minute: caller.force_refresh_per_minute,
            });
        }
        callers.sort_by(|a, b| a.id.cmp(&b.id));
        // A key shared by two callers would make a bearer key's caller (and its grants)
        // depend on lookup order.
        for (i, caller) in callers.iter().enumerate() {
            let other = callers[i + 1..].iter().find(|other| {
                other
                    .key_hashes
                    .iter()
                    .any(|hash| caller.key_hashes.contains(hash))
            });
            if let Some(other) = other {
                return Err(format!(
                    "BROKER_CLIENTS[{}] and BROKER_CLIENTS[{}] list the same key hash: give each caller its own key",
                    caller.id, other.id
                ));
            }
        }
        Ok(Callers { callers })
    }

    /// The caller with `id` if `key_hash` is one of its keys.
    pub fn by_id_and_key(&self, id: &str, key_hash: &[u8; 32]) -> Option<&Caller> {
        self.find(key_hash, Some(id), hashes_equal)
    }

    /// The caller holding the key with this hash.
    pub fn by_key(&self, key_hash: &[u8; 32]) -> Option<&Caller> {
        self.find(key_hash, None, hashes_equal)
    }

    /// The one lookup behind both ways in: `key_hash` is compared with every key of every
    /// caller, through `eq`, whichever caller was named and whatever matches, so the work done
    /// (and the time taken) tells neither which caller a key belongs to, nor whether the named
    /// caller exists, nor how much of a hash matched. Only the verdict branches.
    fn find(
        &self,
        key_hash: &[u8; 32],
        id: Option<&str>,
        mut eq: impl FnMut(&[u8; 32], &[u8; 32]) -> Choice,
    ) -> Option<&Caller> {
        let mut found = None;
        for caller in &self.callers {
            let mut holds = Choice::from(0);
            for hash in &caller.key_hashes {
                holds |= eq(hash, key_hash);
            }
            if bool::from(holds) && id.is_none_or(|id| id == caller.id) {
                found = Some(caller);
            }
        }
        found
    }
}

/// Equality whose time does not depend on where the hashes differ (`subtle`, with an
/// optimisation barrier so the compiler cannot turn it into an early exit).
fn hashes_equal(configured: &[u8; 32], presented: &[u8; 32]) -> Choice {
    configured[..].ct_eq(&presented[..])
}

impl Caller {
    /// Whether every scope in `scopes` was granted to this caller.
    pub fn may_request(&self, scopes: &ScopeSet) -> bool {
        scopes
            .cache_key()
            .split(' ')
            .all(|scope| self.granted.iter().any(|g| g == scope))
    }
}

fn parse_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H1: &str = "0101010101010101010101010101010101010101010101010101010101010101";
    const H2: &str = "0202020202020202020202020202020202020202020202020202020202020202";

    fn callers() -> Callers {
        Callers::parse(
            &format!(r#"{{"jobs": {{"keySha256": ["{H1}", "{H2}"], "scopes": ["api://a/.default"], "ratePerMinute": 5, "forceRefreshPerMinute": 1}},
                         "web": {{"keySha256": ["{}"], "scopes": ["API://B/.default"]}}}}"#, "03".repeat(32)),
            ScopeRules::Entra,
        )
        .unwrap()
    }

    #[test]
    fn finds_callers_by_any_of_their_keys() {
        let callers = callers();
        assert_eq!(callers.by_key(&[1; 32]).unwrap().id, "jobs");
        assert_eq!(
            callers.by_key(&[2; 32]).unwrap().id,
            "jobs",
            "rotation: old and new key"
        );
        assert_eq!(callers.by_key(&[3; 32]).unwrap().id, "web");
        assert!(callers.by_key(&[4; 32]).is_none());
        assert!(
            callers.by_id_and_key("web", &[1; 32]).is_none(),
            "another caller's key"
        );
        assert_eq!(
            callers
                .by_id_and_key("jobs", &[2; 32])
                .unwrap()
                .rate_per_minute,
            5
        );
        let web = callers.by_id_and_key("web", &[3; 32]).unwrap();
        assert_eq!(web.rate_per_minute, 600);
        assert_eq!(web.force_refresh_per_minute, 6, "the default");
        assert_eq!(
            callers
                .by_id_and_key("jobs", &[2; 32])
                .unwrap()
                .force_refresh_per_minute,
            1
        );
    }

    /// Both ways in run one lookup, and it compares the presented hash with every configured
    /// hash, in the same order, whether the key matches, is one byte off, belongs to another
    /// caller than the one named, or the named caller does not exist.
    #[test]
    fn every_lookup_compares_every_configured_key_alike() {
        let callers = callers();
        let configured: Vec<[u8; 32]> = callers
            .callers
            .iter()
            .flat_map(|c| c.key_hashes.iter().copied())
            .collect();
        assert_eq!(configured.len(), 3);
        let mut one_byte_off = [1u8; 32];
        one_byte_off[31] ^= 0x80;
        for (key, id, expected) in [
            ([1; 32], None, Some("jobs")),
            ([3; 32], None, Some("web")),
            (one_byte_off, None, None),
            ([4; 32], None, None),
            ([2; 32], Some("jobs"), Some("jobs")),
            ([1; 32], Some("web"), None),
            ([1; 32], Some("nobody"), None),
            (one_byte_off, Some("jobs"), None),
        ] {
            let mut compared = Vec::new();
            let found = callers.find(&key, id, |configured, presented| {
                assert_eq!(presented, &key);
                compared.push(*configured);
                hashes_equal(configured, presented)
            });
            let case = format!("key {:02x}…{:02x}, id {id:?}", key[0], key[31]);
            assert_eq!(found.map(|c| c.id.as_str()), expected, "{case}");
            assert_eq!(compared, configured, "{case}: every key, same order");
            let production = match id {
                Some(id) => callers.by_id_and_key(id, &key),
                None => callers.by_key(&key),
            };
            assert_eq!(production.map(|c| c.id.as_str()), expected, "{case}");
        }
        assert!(bool::from(hashes_equal(&[7; 32], &[7; 32])));
        let mut first_byte_off = [7u8; 32];
        first_byte_off[0] = 8;
        assert!(!bool::from(hashes_equal(&[7; 32], &first_byte_off)));
    }

    #[test]
    fn refuses_a_key_shared_by_two_callers() {
        let error = Callers::parse(
            &format!(
                r#"{{"a": {{"keySha256": ["{H1}"], "scopes": ["api://a/.default"]}},
                    "b": {{"keySha256": ["{H2}", "{H1}"], "scopes": ["api://b/.default"]}}}}"#
            ),
            ScopeRules::Entra,
        )
        .unwrap_err();
        assert_eq!(
            error,
            "BROKER_CLIENTS[a] and BROKER_CLIENTS[b] list the same key hash: give each caller its own key"
        );
        let repeated = format!(
            r#"{{"a": {{"keySha256": ["{H1}", "{H1}"], "scopes": ["api://a/.default"]}}}}"#
        );
        assert!(
            Callers::parse(&repeated, ScopeRules::Entra).is_ok(),
            "one caller listing a hash twice is harmless"
        );
    }

    #[test]
    fn grants_only_configured_scopes() {
        let callers = callers();
        let jobs = callers.by_key(&[1; 32]).unwrap();
        let a = ScopeSet::parse(["api://a/.default"], ScopeRules::Entra).unwrap();
        let b = ScopeSet::parse(["api://b/.default"], ScopeRules::Entra).unwrap();
        assert!(jobs.may_request(&a));
        assert!(!jobs.may_request(&b));
        assert!(
            callers.by_key(&[3; 32]).unwrap().may_request(&b),
            "host case ignored"
        );
    }

    #[test]
    fn rejects_bad_configuration_without_quoting_it() {
        for json in [
            "not json",
            "{}",
            r#"{"x": {"keySha256": ["abc"], "scopes": ["api://a/.default"]}}"#,
            r#"{"x": {"keySha256": [], "scopes": ["api://a/.default"]}}"#,
            r#"{"x": {"keySha256": ["0101010101010101010101010101010101010101010101010101010101010101"], "scopes": []}}"#,
            r#"{"x": {"keySha256": ["0101010101010101010101010101010101010101010101010101010101010101"], "scopes": ["User.Read"]}}"#,
            r#"{"x": {"keySha256": ["0101010101010101010101010101010101010101010101010101010101010101"], "scopes": ["api://a/.default"], "extra": 1}}"#,
        ] {
            let error = Callers::parse(json, ScopeRules::Entra).unwrap_err();
            assert!(error.starts_with("BROKER_CLIENTS"), "{error}");
            assert!(!error.contains("0101010101"), "{error}");
        }
    }
}
