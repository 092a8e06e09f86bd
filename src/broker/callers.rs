//! The broker's callers (`BROKER_CLIENTS`): who may ask, with which keys, for which scopes,
//! how often. Only SHA-256 hashes of keys are configured.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use subtle::{Choice, ConstantTimeEq};

use super::received_token_request::Presented;
use crate::assertion::decode_hex;
use crate::authority::TokenEndpoint;
use crate::ports::LocalBoxFuture;
use crate::scope::{ScopeRules, ScopeSet};

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
    /// Tenants besides the app's own it may ask for (`tenants`), in lowercase; none
    /// without the member.
    tenants: Vec<String>,
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
    /// "forceRefreshPerMinute": 6, "tenants": […]}}`; a `forceRefreshPerMinute` of 0 refuses
    /// forced refreshes; `tenants` (optional) lists the tenants besides the app's own that the
    /// caller may name per request.
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

    /// The caller that `presented` opens. `sha256` hashes a key (WebCrypto in the Worker;
    /// `None` when it cannot, which opens no caller), and each hash is compared with every
    /// configured hash in constant time, as [`Self::by_key`] and [`Self::by_id_and_key`] do.
    pub async fn authenticate(
        &self,
        presented: &Presented,
        sha256: impl for<'k> Fn(&'k [u8]) -> LocalBoxFuture<'k, Option<[u8; 32]>>,
    ) -> Option<&Caller> {
        match presented {
            Presented::Basic(readings) => {
                // Every usable reading is hashed and compared with every configured hash,
                // whether or not another matched, so neither the answer nor the work done
                // says which reading failed.
                let mut found = [None, None];
                for (slot, reading) in found
                    .iter_mut()
                    .zip([&readings.form_decoded, &readings.raw])
                {
                    if let Some((id, key)) = reading {
                        let hash = sha256(key.expose().as_bytes()).await?;
                        *slot = self.by_id_and_key(id, &hash);
                    }
                }
                match found {
                    // Each reading opens a different caller: neither is meant, so none is taken.
                    [Some(decoded), Some(raw)] if decoded.id != raw.id => None,
                    [Some(caller), _] | [None, Some(caller)] => Some(caller),
                    [None, None] => None,
                }
            }
            Presented::Key(key) => self.by_key(&sha256(key.expose().as_bytes()).await?),
            Presented::IdAndKey(id, key) => {
                self.by_id_and_key(id, &sha256(key.expose().as_bytes()).await?)
            }
            Presented::Nothing => None,
        }
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
    /// Whether the caller was granted `tenant` (another tenant than the app's own), compared
    /// ignoring case as Entra does. A caller configured without `tenants` has the app's own
    /// tenant only.
    pub fn may_use_tenant(&self, tenant: &str) -> bool {
        self.tenants.iter().any(|t| t.eq_ignore_ascii_case(tenant))
    }

    /// Whether every scope in `scopes` was granted to this caller.
    pub fn may_request(&self, scopes: &ScopeSet) -> bool {
        scopes
            .cache_key()
            .split(' ')
            .all(|scope| self.granted.iter().any(|g| g == scope))
    }
}

/// Exactly 64 hex digits, either case (no sign, prefix or space).
fn parse_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    decode_hex(hex)?.try_into().ok()
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
            "tenants",
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
            format!("{who} has an unknown member{named}: the members are keySha256, scopes, ratePerMinute, forceRefreshPerMinute and tenants"),
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
    let tenants = match members.get("tenants") {
        None => Vec::new(),
        Some(_) => {
            let listed = strings("tenants").ok_or_else(|| {
                at(index, format!("{who}: tenants must be a non-empty list of the tenant ids (or verified domains) the caller may ask for besides the app's own; leave it out for the app's tenant only"))
            })?;
            listed
                .iter()
                .enumerate()
                .map(|(i, tenant)| {
                    // The rules a request's tenant is held to (one tenant, not `common`).
                    TokenEndpoint::from_tenant(tenant, None)
                        .map(|_| tenant.to_ascii_lowercase())
                        .map_err(|_| at(index, format!("{who}: tenants[{i}] is not a tenant: give a tenant id (a GUID) or a verified domain such as contoso.onmicrosoft.com, never common or organizations")))
                })
                .collect::<Result<Vec<_>, _>>()?
        }
    };
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
        tenants,
    })
}

#[cfg(test)]
mod tests;
