//! The broker's callers (`BROKER_CLIENTS`): who may ask, with which keys, for which scopes,
//! how often. Only SHA-256 hashes of keys are configured.

use std::collections::HashMap;

use cctoken::{ScopeRules, ScopeSet};
use serde::Deserialize;

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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CallerJson {
    key_sha256: Vec<String>,
    scopes: Vec<String>,
    #[serde(default = "default_rate")]
    rate_per_minute: u32,
}

fn default_rate() -> u32 {
    600
}

/// All callers by id.
#[derive(Debug, Clone, Default)]
pub struct Callers {
    by_id: HashMap<String, Caller>,
}

impl Callers {
    /// Parses `BROKER_CLIENTS`: `{"<id>": {"keySha256": ["<hex>"…], "scopes": […], "ratePerMinute": 600}}`.
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
        let mut by_id = HashMap::new();
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
            by_id.insert(
                id.clone(),
                Caller {
                    id,
                    key_hashes,
                    granted,
                    rate_per_minute: caller.rate_per_minute,
                },
            );
        }
        Ok(Callers { by_id })
    }

    /// The caller with `id` if `key_hash` is one of its keys.
    pub fn by_id_and_key(&self, id: &str, key_hash: &[u8; 32]) -> Option<&Caller> {
        self.by_id.get(id).filter(|caller| caller.accepts(key_hash))
    }

    /// The caller holding the key with this hash. Every caller's every key is compared, each
    /// in constant time, so timing does not tell which caller or how much matched.
    pub fn by_key(&self, key_hash: &[u8; 32]) -> Option<&Caller> {
        let mut found = None;
        for caller in self.by_id.values() {
            if caller.accepts(key_hash) && found.is_none() {
                found = Some(caller);
            }
        }
        found
    }
}

impl Caller {
    fn accepts(&self, key_hash: &[u8; 32]) -> bool {
        self.key_hashes
            .iter()
            .fold(false, |any, hash| any | constant_time_eq(hash, key_hash))
    }

    /// Whether every scope in `scopes` was granted to this caller.
    pub fn may_request(&self, scopes: &ScopeSet) -> bool {
        scopes
            .cache_key()
            .split(' ')
            .all(|scope| self.granted.iter().any(|g| g == scope))
    }
}

/// Equality that takes the same time wherever the first difference is.
pub fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
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
            &format!(r#"{{"jobs": {{"keySha256": ["{H1}", "{H2}"], "scopes": ["api://a/.default"], "ratePerMinute": 5}},
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
        assert_eq!(
            callers
                .by_id_and_key("web", &[3; 32])
                .unwrap()
                .rate_per_minute,
            600
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
