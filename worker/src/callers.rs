//! The broker's callers (`BROKER_CLIENTS`): who may ask, with which keys, for which scopes,
//! how often. Only SHA-256 hashes of keys are configured.

use std::fmt;

use cctoken::{ScopeRules, ScopeSet};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use subtle::{Choice, ConstantTimeEq};

/// SHA-256 of the empty string: a caller "key" that anyone can present by sending nothing.
const EMPTY_KEY_SHA256: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

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

const DEFAULT_RATE: u32 = 600;

/// Every forced refresh is a request to the identity provider and a KV write, so one caller
/// looping on `forceRefresh` could otherwise spend the app's IdP quota (and KV's
/// one-write-per-second-per-key) for every caller. A job that needs a new token after a 401
/// needs one now and then, not six a minute.
const DEFAULT_FORCE_REFRESH_RATE: u32 = 6;

/// Why `BROKER_CLIENTS` is unusable. Whoever can reach the broker may read `index` (which
/// caller entry, counted from 0 in the order written); `detail` is for the Worker's log and
/// may name caller ids, fields and scopes, never a key, a hash or another value's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallersError {
    /// The entry at fault, when one is.
    pub index: Option<usize>,
    /// What is wrong, for the operator.
    pub detail: String,
}

fn at(index: usize, detail: impl Into<String>) -> CallersError {
    CallersError {
        index: Some(index),
        detail: detail.into(),
    }
}

const SHAPE: &str = "expected {\"<caller id>\": {\"keySha256\": [\"<64 hex digits>\"], \"scopes\": [\"api://…/.default\"], \"ratePerMinute\": 600, \"forceRefreshPerMinute\": 6}}";

/// The object's members in the order written, repeats included (a map would keep one).
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Entries;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an object of callers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

/// All callers, sorted by id.
#[derive(Debug, Clone, Default)]
pub struct Callers {
    callers: Vec<Caller>,
}

impl Callers {
    /// Parses `BROKER_CLIENTS`: `{"<id>": {"keySha256": ["<hex>"…], "scopes": […], "ratePerMinute": 600,
    /// "forceRefreshPerMinute": 6}}`; a `forceRefreshPerMinute` of 0 refuses forced refreshes.
    /// Refuses repeated caller ids, a key hash listed for two callers, and the hash of the
    /// empty key.
    pub fn parse(json: &str, rules: ScopeRules) -> Result<Self, CallersError> {
        // serde's own message can quote the text it choked on: only its position is kept.
        let Entries(entries) = serde_json::from_str(json).map_err(|e| CallersError {
            index: None,
            detail: format!(
                "not a JSON object of callers ({} error at line {}, column {}); {SHAPE}",
                match e.classify() {
                    serde_json::error::Category::Data => "type",
                    serde_json::error::Category::Eof => "end-of-input",
                    _ => "syntax",
                },
                e.line(),
                e.column()
            ),
        })?;
        if entries.is_empty() {
            return Err(CallersError {
                index: None,
                detail: format!("names no caller; {SHAPE}"),
            });
        }
        let mut callers: Vec<(usize, Caller)> = Vec::with_capacity(entries.len());
        for (index, (id, value)) in entries.into_iter().enumerate() {
            if let Some((earlier, _)) = callers.iter().find(|(_, c)| c.id == id) {
                return Err(at(
                    index,
                    format!("caller id {id:?} appears again (first at index {earlier}): each caller id may appear once"),
                ));
            }
            callers.push((index, caller(index, id, &value, rules)?));
        }
        // A key shared by two callers would make a bearer key's caller (and its grants)
        // depend on lookup order.
        for (i, (_, caller)) in callers.iter().enumerate() {
            let other = callers[i + 1..].iter().find(|(_, other)| {
                other
                    .key_hashes
                    .iter()
                    .any(|hash| caller.key_hashes.contains(hash))
            });
            if let Some((index, other)) = other {
                return Err(at(
                    *index,
                    format!(
                        "callers {:?} and {:?} list the same key hash: give each caller its own key",
                        caller.id, other.id
                    ),
                ));
            }
        }
        let mut callers: Vec<Caller> = callers.into_iter().map(|(_, caller)| caller).collect();
        callers.sort_by(|a, b| a.id.cmp(&b.id));
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

/// Exactly 64 hex digits (`from_str_radix` alone would take a sign: "+f" is 15).
fn parse_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(out)
}

/// One entry of `BROKER_CLIENTS`, checked member by member so that each problem is named
/// without quoting the value that caused it.
fn caller(
    index: usize,
    id: String,
    value: &Value,
    rules: ScopeRules,
) -> Result<Caller, CallersError> {
    let who = format!("caller {id:?}");
    let Some(members) = value.as_object() else {
        return Err(at(index, format!("{who} is not an object; {SHAPE}")));
    };
    if let Some(unknown) = members.keys().find(|name| {
        ![
            "keySha256",
            "scopes",
            "ratePerMinute",
            "forceRefreshPerMinute",
        ]
        .contains(&name.as_str())
    }) {
        // A short identifier is a typo worth naming; anything else may be pasted data.
        let named = if unknown.len() <= 32
            && unknown
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            format!(" {unknown:?}")
        } else {
            String::new()
        };
        return Err(at(
            index,
            format!("{who} has an unknown member{named}: the members are keySha256, scopes, ratePerMinute and forceRefreshPerMinute"),
        ));
    }
    let strings = |name: &str| -> Option<Vec<&str>> {
        members
            .get(name)?
            .as_array()?
            .iter()
            .map(Value::as_str)
            .collect::<Option<Vec<_>>>()
            .filter(|list| !list.is_empty())
    };
    let hex_list = strings("keySha256").ok_or_else(|| {
        at(index, format!("{who}: keySha256 must be a non-empty list of SHA-256 hashes of the caller's keys, as 64 hex digits"))
    })?;
    let mut key_hashes = Vec::with_capacity(hex_list.len());
    for (i, hex) in hex_list.iter().enumerate() {
        let hash = parse_sha256_hex(hex).ok_or_else(|| {
            at(index, format!("{who}: keySha256[{i}] is not 64 hex digits: give SHA-256 of the key, e.g. `printf %s \"$KEY\" | sha256sum`"))
        })?;
        if hash == EMPTY_KEY_SHA256 {
            return Err(at(
                index,
                format!("{who}: keySha256[{i}] is the SHA-256 of the empty string: an empty key is no key; generate one with `openssl rand -base64 32`"),
            ));
        }
        key_hashes.push(hash);
    }
    let scopes = strings("scopes").ok_or_else(|| {
        at(
            index,
            format!("{who}: scopes must be a non-empty list of the scopes the caller may request"),
        )
    })?;
    let granted = scopes
        .iter()
        .enumerate()
        .map(|(i, scope)| {
            ScopeSet::parse([scope], rules)
                .map(|set| set.cache_key().to_owned())
                .map_err(|e| at(index, format!("{who}: scopes[{i}]: {}", e.message())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rate = |name: &str, default: u32, min: u32| -> Result<u32, CallersError> {
        match members.get(name) {
            None => Ok(default),
            Some(value) => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n >= min)
                .ok_or_else(|| {
                    at(
                        index,
                        format!(
                            "{who}: {name} must be a whole number from {min} to {}",
                            u32::MAX
                        ),
                    )
                }),
        }
    };
    Ok(Caller {
        rate_per_minute: rate("ratePerMinute", DEFAULT_RATE, 1)?,
        force_refresh_per_minute: rate("forceRefreshPerMinute", DEFAULT_FORCE_REFRESH_RATE, 0)?,
        id,
        key_hashes,
        granted,
    })
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

    fn entry(hashes: &str, scopes: &str) -> String {
        format!(r#"{{"keySha256": [{hashes}], "scopes": [{scopes}]}}"#)
    }

    #[test]
    fn refuses_a_key_shared_by_two_callers() {
        let error = Callers::parse(
            &format!(
                r#"{{"a": {}, "b": {}}}"#,
                entry(&format!("\"{H1}\""), "\"api://a/.default\""),
                entry(&format!("\"{H2}\", \"{H1}\""), "\"api://b/.default\"")
            ),
            ScopeRules::Entra,
        )
        .unwrap_err();
        assert_eq!(error.index, Some(1));
        assert_eq!(
            error.detail,
            "callers \"a\" and \"b\" list the same key hash: give each caller its own key"
        );
        let repeated = format!(
            r#"{{"a": {{"keySha256": ["{H1}", "{H1}"], "scopes": ["api://a/.default"]}}}}"#
        );
        assert!(
            Callers::parse(&repeated, ScopeRules::Entra).is_ok(),
            "one caller listing a hash twice is harmless"
        );
    }

    /// A JSON object may repeat a member; a map would silently keep the last, so the caller
    /// configured first would lose its keys and grants without a word.
    #[test]
    fn refuses_a_repeated_caller_id_naming_its_index() {
        let json = format!(
            r#"{{"web": {}, "jobs": {}, "jobs": {}}}"#,
            entry(&format!("\"{}\"", "03".repeat(32)), "\"api://w/.default\""),
            entry(&format!("\"{H1}\""), "\"api://a/.default\""),
            entry(&format!("\"{H2}\""), "\"api://b/.default\"")
        );
        let error = Callers::parse(&json, ScopeRules::Entra).unwrap_err();
        assert_eq!(error.index, Some(2));
        assert_eq!(
            error.detail,
            "caller id \"jobs\" appears again (first at index 1): each caller id may appear once"
        );
    }

    /// `from_str_radix` takes a leading sign, so "+f" passed as a byte: 64 characters with
    /// signs in them are not a SHA-256 in hex.
    #[test]
    fn key_hashes_are_exactly_64_hex_digits() {
        assert_eq!(parse_sha256_hex(H1), Some([1; 32]));
        assert_eq!(
            parse_sha256_hex(&"AbCdEf".repeat(11)[..64]).map(|h| h[0]),
            Some(0xab),
            "either case"
        );
        for bad in [
            "+f".repeat(32),
            format!("+1{}", &H1[2..]),
            format!("-1{}", &H1[2..]),
            format!(" {}", &H1[1..]),
            format!("{H1} "),
            format!("0x{}", &H1[2..]),
            H1[..63].to_owned(),
            format!("{H1}0"),
            format!("{}é", &H1[..62]),
        ] {
            assert_eq!(parse_sha256_hex(&bad), None, "{bad:?}");
            let json = format!(
                r#"{{"x": {}}}"#,
                entry(&format!("{bad:?}"), "\"api://a/.default\"")
            );
            let error = Callers::parse(&json, ScopeRules::Entra).unwrap_err();
            assert_eq!(error.index, Some(0), "{bad:?}");
            assert!(
                error.detail.contains("keySha256[0] is not 64 hex digits"),
                "{}",
                error.detail
            );
        }
    }

    /// Anyone can present the empty key, so its hash must never open a caller.
    #[test]
    fn refuses_the_hash_of_the_empty_key() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        for hex in [empty.to_owned(), empty.to_uppercase()] {
            let json = format!(
                r#"{{"ok": {}, "x": {}}}"#,
                entry(&format!("\"{H1}\""), "\"api://a/.default\""),
                entry(&format!("\"{H2}\", \"{hex}\""), "\"api://a/.default\"")
            );
            let error = Callers::parse(&json, ScopeRules::Entra).unwrap_err();
            assert_eq!(error.index, Some(1));
            assert!(
                error
                    .detail
                    .starts_with("caller \"x\": keySha256[1] is the SHA-256 of the empty string"),
                "{}",
                error.detail
            );
        }
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
        let hash = "0101010101010101010101010101010101010101010101010101010101010101";
        let ok = format!(r#"{{"keySha256": ["{hash}"], "scopes": ["api://a/.default"]}}"#);
        for (json, index, detail) in [
            (
                "not json".to_owned(),
                None,
                "not a JSON object of callers (syntax error at line 1, column 2)",
            ),
            (
                format!(r#"["{hash}"]"#),
                None,
                "not a JSON object of callers (type error",
            ),
            (format!(r#"{{"x": {ok}"#), None, "(end-of-input error"),
            ("{}".to_owned(), None, "names no caller"),
            (
                format!(r#"{{"ok": {ok}, "x": "{hash}"}}"#),
                Some(1),
                "caller \"x\" is not an object",
            ),
            (
                r#"{"x": {"keySha256": ["abc"], "scopes": ["api://a/.default"]}}"#.to_owned(),
                Some(0),
                "caller \"x\": keySha256[0] is not 64 hex digits",
            ),
            (
                r#"{"x": {"keySha256": [], "scopes": ["api://a/.default"]}}"#.to_owned(),
                Some(0),
                "caller \"x\": keySha256 must be",
            ),
            (
                format!(r#"{{"x": {{"keySha256": "{hash}", "scopes": ["api://a/.default"]}}}}"#),
                Some(0),
                "caller \"x\": keySha256 must be",
            ),
            (
                format!(r#"{{"x": {{"keySha256": ["{hash}"], "scopes": []}}}}"#),
                Some(0),
                "caller \"x\": scopes must be",
            ),
            (
                format!(r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["User.Read"]}}}}"#),
                Some(0),
                "caller \"x\": scopes[0]: ",
            ),
            (
                format!(
                    r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "extra": 1}}}}"#
                ),
                Some(0),
                "caller \"x\" has an unknown member \"extra\"",
            ),
            (
                format!(
                    r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "{hash}": 1}}}}"#
                ),
                Some(0),
                "caller \"x\" has an unknown member: ",
            ),
            (
                format!(
                    r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "ratePerMinute": 0}}}}"#
                ),
                Some(0),
                "caller \"x\": ratePerMinute must be a whole number from 1",
            ),
            (
                format!(
                    r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "ratePerMinute": "{hash}"}}}}"#
                ),
                Some(0),
                "caller \"x\": ratePerMinute must be",
            ),
            (
                format!(
                    r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "forceRefreshPerMinute": -1}}}}"#
                ),
                Some(0),
                "caller \"x\": forceRefreshPerMinute must be a whole number from 0",
            ),
        ] {
            let error = Callers::parse(&json, ScopeRules::Entra).unwrap_err();
            assert_eq!(error.index, index, "{json}");
            assert!(error.detail.contains(detail), "{json}: {}", error.detail);
            assert!(!error.detail.contains("0101010101"), "{}", error.detail);
        }
        // A typo is named when it looks like an identifier (underscores included), and only then.
        for (member, named) in [
            ("rate_per_minute", true),
            ("rate-per-minute", false),
            ("key sha256", false),
            (&"x".repeat(33), false),
            (&"x".repeat(32), true),
        ] {
            let json = format!(
                r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "{member}": 1}}}}"#
            );
            let detail = Callers::parse(&json, ScopeRules::Entra).unwrap_err().detail;
            let expected = if named {
                format!("caller \"x\" has an unknown member \"{member}\": the members are ")
            } else {
                "caller \"x\" has an unknown member: the members are ".to_owned()
            };
            assert!(detail.starts_with(&expected), "{member}: {detail}");
        }
        let zero_forced = format!(
            r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "forceRefreshPerMinute": 0}}}}"#
        );
        let callers = Callers::parse(&zero_forced, ScopeRules::Entra).unwrap();
        assert_eq!(
            callers.by_key(&[1; 32]).unwrap().force_refresh_per_minute,
            0
        );
    }
}
