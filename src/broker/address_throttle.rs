//! Failed-authentication throttling per client address: wrong keys from one address are
//! slowed down across the fleet, before any key check, without locking out a legitimate
//! caller who presents the right key from another address.
//!
//! The count lives in one Durable Object per address (`address:<key>`) holding a
//! [`FailureLog`]; it answers each recorded failure with a [`FailureVerdict`]. Each isolate
//! remembers the blocks it learned in [`KnownBlocks`] and checks them before any key check, so
//! a blocked address costs no Durable Object call. The Worker also keeps at most
//! [`FAILURE_THRESHOLD`] key checks per address unresolved at a time, so past the threshold
//! each isolate checks at most that many more keys from the address, however many arrive at
//! once. Without the binding, [`LocalFailures`] keeps the same log per isolate.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::reply::ErrorReply;

/// Failures within [`FAILURE_WINDOW_MS`] that block an address.
pub const FAILURE_THRESHOLD: usize = 10;
/// The sliding window failures are counted in.
pub const FAILURE_WINDOW_MS: u64 = 5 * 60 * 1000;
/// The most addresses an isolate's maps hold: an attacker with many addresses must not grow
/// an isolate's memory without bound.
pub const MAX_ADDRESSES: usize = 10_000;

/// The key failures are counted under for a `CF-Connecting-IP` value: an IPv4 address as its
/// canonical text; an IPv6 address by its /64 (one subscriber's usual allocation, so rotating
/// through it gains nothing), an IPv4-mapped one as the IPv4 address. `None` without a usable
/// address: Cloudflare sets the header on every request from the internet, so only local
/// development and the operator's own Workers (service bindings) come without one, and there
/// is no address to hold their failures against (the input itself is never used: it is not
/// trusted text).
pub fn address_key(cf_connecting_ip: Option<&str>) -> Option<String> {
    let text = cf_connecting_ip.map(str::trim)?;
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return Some(v4.to_string());
    }
    let v6 = text.parse::<Ipv6Addr>().ok()?;
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4.to_string());
    }
    let s = v6.segments();
    let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
    Some(format!("{prefix}/64"))
}

/// The times of an address's most recent failures (at most [`FAILURE_THRESHOLD`], oldest
/// first): what its Durable Object stores.
#[derive(Default, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureLog {
    times_ms: Vec<u64>,
}

impl FailureLog {
    /// Records one failure at `now_ms`; `Some(blocked_until_ms)` when the address is now
    /// blocked.
    pub fn record(&mut self, now_ms: u64) -> Option<u64> {
        // Kept in order even if a clock steps back, so the oldest is always first.
        let at = self.times_ms.partition_point(|&t| t <= now_ms);
        self.times_ms.insert(at, now_ms);
        let excess = self.times_ms.len().saturating_sub(FAILURE_THRESHOLD);
        self.times_ms.drain(..excess);
        self.blocked_until(now_ms)
    }

    /// Until when the address is blocked at `now_ms`: [`FAILURE_THRESHOLD`] failures within
    /// the window block it until the oldest of them leaves the window.
    pub fn blocked_until(&self, now_ms: u64) -> Option<u64> {
        let oldest_counted = self.times_ms.len().checked_sub(FAILURE_THRESHOLD)?;
        let until = self.times_ms[oldest_counted].saturating_add(FAILURE_WINDOW_MS);
        (until > now_ms).then_some(until)
    }

    /// True once no recorded failure can count any more: the log may be forgotten.
    pub fn is_stale(&self, now_ms: u64) -> bool {
        self.times_ms
            .last()
            .is_none_or(|&newest| newest.saturating_add(FAILURE_WINDOW_MS) <= now_ms)
    }
}

/// The address object's reply to a recorded failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureVerdict {
    /// Until when the address is blocked, if it is.
    pub blocked_until_ms: Option<u64>,
}

/// Evicts from a map at its bound: the entries `expired` says are of no use first and, if
/// that frees nothing, all of them (an attacker spraying addresses then only resets the
/// isolate's memory, which the fleet-wide count does not depend on).
fn make_room<V>(map: &mut HashMap<String, V>, key: &str, expired: impl Fn(&V) -> bool) {
    if map.len() < MAX_ADDRESSES || map.contains_key(key) {
        return;
    }
    map.retain(|_, value| !expired(value));
    if map.len() >= MAX_ADDRESSES {
        map.clear();
    }
}

/// The blocks an isolate has learned, checked before any key check.
#[derive(Default, Debug)]
pub struct KnownBlocks {
    until_ms: HashMap<String, u64>,
}

impl KnownBlocks {
    /// `Some(Retry-After seconds)` (at least 1, rounded up) while `key` is blocked at `now_ms`.
    pub fn check(&mut self, key: &str, now_ms: u64) -> Option<u64> {
        let until = *self.until_ms.get(key)?;
        if until <= now_ms {
            self.until_ms.remove(key);
            return None;
        }
        Some((until - now_ms).div_ceil(1000).max(1))
    }

    /// Remembers that `key` is blocked until `blocked_until_ms` (a later block extends it).
    /// `now_ms` decides which entries have expired when the map is full.
    pub fn learn(&mut self, key: &str, blocked_until_ms: u64, now_ms: u64) {
        if blocked_until_ms <= now_ms {
            return;
        }
        make_room(&mut self.until_ms, key, |&until| until <= now_ms);
        let until = self.until_ms.entry(key.to_owned()).or_insert(0);
        *until = (*until).max(blocked_until_ms);
    }
}

/// Failures per address within one isolate: the fallback when the address objects' binding
/// is missing.
#[derive(Default, Debug)]
pub struct LocalFailures {
    logs: HashMap<String, FailureLog>,
}

impl LocalFailures {
    /// Records a failure from `key` at `now_ms`, as [`FailureLog::record`].
    pub fn record(&mut self, key: &str, now_ms: u64) -> Option<u64> {
        make_room(&mut self.logs, key, |log| log.is_stale(now_ms));
        self.logs.entry(key.to_owned()).or_default().record(now_ms)
    }

    /// Until when `key` is blocked at `now_ms`, if it is.
    pub fn blocked_until(&self, key: &str, now_ms: u64) -> Option<u64> {
        self.logs.get(key)?.blocked_until(now_ms)
    }
}

/// The 429 a blocked address gets before any key check. It never names the address: the
/// reply goes to whoever is at it.
pub fn throttled_reply(retry_after_s: u64) -> ErrorReply {
    ErrorReply::slow_down(
        "too many failed authentications from this address: wait for Retry-After before presenting a key again",
        retry_after_s,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn addresses_are_keyed_by_ipv4_or_ipv6_slash_64() {
        for (given, key) in [
            (Some("203.0.113.7"), Some("203.0.113.7")),
            (Some(" 203.0.113.7 "), Some("203.0.113.7")),
            (Some("2001:db8:1:2:3:4:5:6"), Some("2001:db8:1:2::/64")),
            (Some("2001:0DB8:0001:0002::ffff"), Some("2001:db8:1:2::/64")),
            (Some("2001:db8::1"), Some("2001:db8::/64")),
            (Some("::ffff:198.51.100.9"), Some("198.51.100.9")),
            (Some("::1"), Some("::/64")),
            (None, None),
            (Some(""), None),
            (Some("203.0.113.256"), None),
            (Some("fe80::1%eth0"), None),
            (Some("<script>"), None),
            (Some("203.0.113.7, 10.0.0.1"), None),
        ] {
            assert_eq!(address_key(given).as_deref(), key, "{given:?}");
        }
    }

    #[test]
    fn ten_failures_within_five_minutes_block_until_the_oldest_leaves_the_window() {
        let mut log = FailureLog::default();
        for i in 0..9 {
            assert_eq!(log.record(1_000 + i * 1_000), None, "failure {i}");
        }
        assert_eq!(log.blocked_until(9_000), None);
        assert_eq!(log.record(10_000), Some(1_000 + FAILURE_WINDOW_MS));
        assert_eq!(
            log.blocked_until(1_000 + FAILURE_WINDOW_MS - 1),
            Some(301_000)
        );
        assert_eq!(log.blocked_until(1_000 + FAILURE_WINDOW_MS), None);
        // One more failure: the oldest of the last ten is now the second.
        assert_eq!(log.record(20_000), Some(2_000 + FAILURE_WINDOW_MS));
        assert_eq!(
            log.times_ms.len(),
            FAILURE_THRESHOLD,
            "at most ten are kept"
        );
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_block() {
        let mut log = FailureLog::default();
        let spacing = FAILURE_WINDOW_MS / 9 + 1;
        for i in 0..30 {
            assert_eq!(log.record(i * spacing), None, "failure {i}");
        }
        // Exactly the window between the first and tenth: the first has just left it.
        let mut log = FailureLog::default();
        for i in 0..9 {
            log.record(i);
        }
        assert_eq!(log.record(FAILURE_WINDOW_MS), None);
        let mut log = FailureLog::default();
        for i in 0..9 {
            log.record(i + 1);
        }
        assert_eq!(log.record(FAILURE_WINDOW_MS), Some(FAILURE_WINDOW_MS + 1));
    }

    #[test]
    fn a_clock_stepping_back_keeps_the_oldest_first() {
        let mut log = FailureLog::default();
        for t in [
            50_000, 60_000, 10_000, 70_000, 80_000, 90_000, 20_000, 30_000, 40_000,
        ] {
            assert_eq!(log.record(t), None);
        }
        assert_eq!(log.record(5_000), Some(5_000 + FAILURE_WINDOW_MS));
        assert_eq!(log.record(100_000), Some(10_000 + FAILURE_WINDOW_MS));
    }

    #[test]
    fn logs_and_verdicts_serialize_for_the_durable_object() {
        let mut log = FailureLog::default();
        log.record(7);
        let text = serde_json::to_string(&log).unwrap();
        assert_eq!(text, r#"{"times_ms":[7]}"#);
        assert_eq!(serde_json::from_str::<FailureLog>(&text).unwrap(), log);
        let verdict = FailureVerdict {
            blocked_until_ms: Some(9),
        };
        assert_eq!(
            serde_json::to_value(verdict).unwrap(),
            json!({"blocked_until_ms": 9})
        );
        assert_eq!(
            serde_json::from_str::<FailureVerdict>(r#"{"blocked_until_ms":null}"#).unwrap(),
            FailureVerdict {
                blocked_until_ms: None
            }
        );
    }

    #[test]
    fn a_deserialized_log_longer_than_the_threshold_counts_its_newest_ten() {
        let log: FailureLog =
            serde_json::from_str(r#"{"times_ms":[0,1,2,3,4,5,6,7,8,9,10,11]}"#).unwrap();
        assert_eq!(log.blocked_until(100), Some(2 + FAILURE_WINDOW_MS));
    }

    #[test]
    fn known_blocks_answer_retry_after_in_whole_seconds_rounded_up() {
        let mut blocks = KnownBlocks::default();
        assert_eq!(blocks.check("a", 0), None);
        blocks.learn("a", 10_001, 0);
        assert_eq!(blocks.check("a", 0), Some(11));
        assert_eq!(blocks.check("a", 1), Some(10));
        assert_eq!(blocks.check("a", 10_000), Some(1));
        assert_eq!(blocks.check("b", 10_000), None, "per address");
        assert_eq!(blocks.check("a", 10_001), None);
        assert!(blocks.until_ms.is_empty(), "an expired block is forgotten");

        blocks.learn("a", 5_000, 0);
        blocks.learn("a", 3_000, 0);
        assert_eq!(blocks.check("a", 0), Some(5), "a later block is kept");
        blocks.learn("c", 100, 100);
        assert_eq!(
            blocks.check("c", 0),
            None,
            "an expired block is not learned"
        );
    }

    #[test]
    fn known_blocks_stay_bounded_evicting_expired_ones_first() {
        let mut blocks = KnownBlocks::default();
        for i in 0..MAX_ADDRESSES as u64 {
            // Every other block expires at 1_000.
            blocks.learn(&i.to_string(), if i % 2 == 0 { 1_000 } else { 9_000 }, 0);
        }
        assert_eq!(blocks.until_ms.len(), MAX_ADDRESSES);
        blocks.learn("1", 9_500, 500);
        assert_eq!(
            blocks.until_ms.len(),
            MAX_ADDRESSES,
            "a known key: no eviction"
        );
        blocks.learn("new", 9_000, 1_000);
        assert_eq!(blocks.until_ms.len(), MAX_ADDRESSES / 2 + 1);
        assert_eq!(blocks.check("1", 1_000), Some(9));
        assert_eq!(blocks.check("new", 1_000), Some(8));

        // Under the bound nothing is scanned (a scan per learned block would be O(n) each):
        // an expired block stays until checked or evicted.
        let mut blocks = KnownBlocks::default();
        blocks.learn("old", 100, 0);
        blocks.learn("young", 9_000, 200);
        assert_eq!(blocks.until_ms.len(), 2);

        let mut blocks = KnownBlocks::default();
        for i in 0..MAX_ADDRESSES as u64 {
            blocks.learn(&i.to_string(), 9_000, 0);
        }
        blocks.learn("new", 9_000, 0);
        assert_eq!(blocks.until_ms.len(), 1, "nothing expired: cleared");
        assert_eq!(blocks.check("new", 0), Some(9));
    }

    #[test]
    fn local_failures_block_per_address_and_stay_bounded() {
        let mut local = LocalFailures::default();
        for i in 0..9 {
            assert_eq!(local.record("a", i), None);
            assert_eq!(local.record("b", i), None);
        }
        assert_eq!(local.record("a", 9), Some(FAILURE_WINDOW_MS));
        assert_eq!(local.blocked_until("a", 9), Some(FAILURE_WINDOW_MS));
        assert_eq!(local.blocked_until("b", 9), None);
        assert_eq!(local.blocked_until("c", 9), None);

        let mut local = LocalFailures::default();
        for i in 0..MAX_ADDRESSES as u64 {
            local.record(&i.to_string(), if i % 2 == 0 { 0 } else { 1 });
        }
        // At the window's end from 0, the logs of failures at 0 are stale, those at 1 not.
        local.record("new", FAILURE_WINDOW_MS);
        assert_eq!(local.logs.len(), MAX_ADDRESSES / 2 + 1);
        local.record("1", FAILURE_WINDOW_MS);
        assert_eq!(local.logs.len(), MAX_ADDRESSES / 2 + 1);
        for i in 0..MAX_ADDRESSES as u64 / 2 - 1 {
            local.record(&format!("more{i}"), FAILURE_WINDOW_MS);
        }
        assert_eq!(local.logs.len(), MAX_ADDRESSES);
        local.record("last", FAILURE_WINDOW_MS);
        assert_eq!(local.logs.len(), 1, "nothing stale: cleared");
    }

    #[test]
    fn the_throttled_reply_is_429_slow_down_without_the_address() {
        let reply = throttled_reply(42);
        assert_eq!(reply.status, 429);
        assert_eq!(reply.retry_after_s, Some(42));
        assert_eq!(reply.body["error"], "slow_down");
        assert_eq!(
            reply.body["error_description"],
            "too many failed authentications from this address: wait for Retry-After before presenting a key again"
        );
    }
}
