//! `TokenCache` against a model: a list in recency order, with the same freshness rule and
//! capacity, driven by random gets, puts, clock advances, clears and serialize/deserialize
//! round trips.

use cctoken::cache::{CachedToken, TokenCache};
use cctoken::{AccessToken, ScopeRules};
use proptest::collection::vec;
use proptest::prelude::*;

const ENDPOINT: &str = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
const CLIENT_ID: &str = "app";

#[derive(Debug, Clone)]
enum Op {
    Get(usize),
    Put { key: usize, lifetime_ms: u64 },
    Advance(u64),
    Clear,
    RoundTrip,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..6usize).prop_map(Op::Get),
        4 => (0..6usize, 0..10_000u64).prop_map(|(key, lifetime_ms)| Op::Put { key, lifetime_ms }),
        3 => (0..4_000u64).prop_map(Op::Advance),
        1 => Just(Op::Clear),
        1 => Just(Op::RoundTrip),
    ]
}

/// Entries least recently used first.
struct Model {
    entries: Vec<(String, CachedToken)>,
    capacity: usize,
    buffer_ms: u64,
}

impl Model {
    fn is_fresh(&self, token: &CachedToken, now_ms: u64) -> bool {
        token.expires_on_ms > now_ms + self.buffer_ms
    }

    fn get(&mut self, key: &str, now_ms: u64) -> Option<CachedToken> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        if !self.is_fresh(&self.entries[at].1, now_ms) {
            return None;
        }
        let entry = self.entries.remove(at);
        self.entries.push(entry);
        self.entries.last().map(|(_, token)| token.clone())
    }

    fn put(&mut self, key: &str, token: CachedToken, now_ms: u64) {
        let entries = std::mem::take(&mut self.entries);
        self.entries = entries
            .into_iter()
            .filter(|(k, t)| k != key && self.is_fresh(t, now_ms))
            .collect();
        self.entries.push((key.to_owned(), token));
        while self.entries.len() > self.capacity {
            self.entries.remove(0);
        }
    }

    /// What a cache restored from `serialize` holds: the fresh entries, put in key order.
    fn round_trip(&mut self, now_ms: u64) {
        let mut fresh: Vec<(String, CachedToken)> = self
            .entries
            .iter()
            .filter(|(_, t)| self.is_fresh(t, now_ms))
            .cloned()
            .collect();
        fresh.sort_by(|a, b| a.0.cmp(&b.0));
        self.entries = fresh;
    }
}

proptest! {
    #[test]
    fn cache_behaves_like_the_model(
        capacity in 1..5usize,
        buffer_ms in 0..2_000u64,
        ops in vec(op(), 1..60),
    ) {
        let mut cache = TokenCache::new(buffer_ms, capacity);
        let mut model = Model { entries: Vec::new(), capacity, buffer_ms };
        let mut now_ms = 1_700_000_000_000u64;
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Get(key) => {
                    let key = format!("k{key}");
                    let got = cache.get(&key, now_ms).cloned();
                    prop_assert_eq!(got, model.get(&key, now_ms), "get {}", key);
                }
                Op::Put { key, lifetime_ms } => {
                    let key = format!("k{key}");
                    let token = CachedToken {
                        access_token: AccessToken::new(format!("token-{n}")),
                        token_type: "Bearer".to_owned(),
                        expires_on_ms: now_ms + lifetime_ms,
                        ext_expires_on_ms: now_ms + lifetime_ms,
                        refresh_on_ms: None,
                        lease_until_ms: None,
                    };
                    cache.put(&key, token.clone(), now_ms);
                    model.put(&key, token, now_ms);
                }
                Op::Advance(ms) => now_ms += ms,
                Op::Clear => {
                    cache.clear();
                    model.entries.clear();
                }
                Op::RoundTrip => {
                    let json = cache.serialize(ENDPOINT, CLIENT_ID, now_ms);
                    let mut restored = TokenCache::new(buffer_ms, capacity);
                    let loaded = restored.deserialize(&json, ENDPOINT, CLIENT_ID, ScopeRules::Generic, now_ms).unwrap();
                    model.round_trip(now_ms);
                    prop_assert_eq!(loaded, model.entries.len());
                    cache = restored;
                }
            }
            prop_assert_eq!(cache.len(), model.entries.len());
            prop_assert!(cache.len() <= capacity);
        }
        // Every key the model holds fresh is served with the model's token.
        for key in 0..6 {
            let key = format!("k{key}");
            prop_assert_eq!(cache.get(&key, now_ms).cloned(), model.get(&key, now_ms));
        }
    }
}
