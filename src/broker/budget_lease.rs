//! Fleet-wide per-caller budgets (`ratePerMinute`, `forceRefreshPerMinute`) by leasing slices.
//!
//! Each caller has one Durable Object (`caller:<id>`) holding a [`CallerLedger`]: a token
//! bucket per [`Budget`] (capacity: the budget per minute; refill: the budget per 60 s;
//! starting full). An isolate does not ask it for every request: [`Leases`] asks for a slice
//! of requests ([`LeaseRequest::want`]) and serves from it for [`LEASE_MS`], so most requests
//! pay no round trip. The slice starts at one second's worth of the rate, doubles while
//! slices run out before they expire, halves back when one expires unused, and never exceeds
//! a quarter of the rate; slices left unused come back to the bucket with the next request.
//! Forced refreshes are asked for one at a time (a slice of 1: no leasing). Without the
//! binding, or when the call fails, the isolate grants itself from a local [`CallerLedger`]:
//! the per-isolate behaviour the broker had before.
//!
//! The slack, precisely:
//! - **Never more than the bucket, fleet-wide.** Every request served was granted by the
//!   caller's ledger, and a slice comes back only once its isolate can no longer use it (its
//!   lease expired or a newer one replaced it). So a caller gets at most `per_minute` in a
//!   burst plus `per_minute` per minute after it, whatever the number of isolates, with one
//!   exception: when the caller's object restarts (a deploy, a move), its bucket starts full
//!   again: one more bucket. Eviction for idleness is not such a restart: see
//!   [`CallerLedger`].
//! - **Early refusals, bounded by unused leases.** A caller may be refused while requests of
//!   its budget sit unused in other isolates' slices: at most `max(1, per_minute / 4)` per
//!   isolate, for at most [`LEASE_MS`]. An isolate that was refused also refuses locally until
//!   the `Retry-After` it was given (whole seconds, rounded up), so a caller looping over its
//!   budget does not cost a round trip per request.
//! - **Round trips.** A slice lasts at most [`LEASE_MS`] and holds at most a quarter of the
//!   rate, so an isolate in use asks at least every 10 s and at least every `per_minute / 4`
//!   requests. One isolate serving 1,000 requests evenly over a minute at `ratePerMinute` 600
//!   asks its ledger 10 times (slices of 10, 20, 40, 80, then 150): 10 coordinator calls per
//!   1,000 requests; the same 1,000 over two minutes take 15, and at 6,000 per minute within
//!   6 s, 4 (the test `one_isolate_asks_rarely` holds these counts).
//!

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::reply::ErrorReply;

/// How long a granted slice may be served from.
pub const LEASE_MS: u64 = 10_000;
/// A whole request in the bucket's units: the bucket counts in "request-milliseconds at one
/// per minute", so refilling `per_minute` per 60 s is `per_minute` units per millisecond,
/// exactly, in integers.
const UNIT: u64 = 60_000;

/// A caller's budgets.
#[derive(Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// Every request (`ratePerMinute`).
    Requests,
    /// Forced refreshes, on top (`forceRefreshPerMinute`).
    ForcedRefreshes,
}

impl Budget {
    fn index(self) -> usize {
        match self {
            Budget::Requests => 0,
            Budget::ForcedRefreshes => 1,
        }
    }
}

/// What an isolate asks a caller's ledger for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LeaseRequest {
    /// Which budget.
    pub budget: Budget,
    /// The budget per minute as the isolate's settings state it (the ledger follows changes).
    pub per_minute: u32,
    /// How many requests the slice should hold (this request included).
    pub want: u32,
    /// Requests of earlier slices the isolate did not use, given back.
    pub returned: u32,
    /// Asked for this request alone while a slice was being asked for: its grant is not
    /// installed as a slice. The isolate's own note, not sent.
    #[serde(skip)]
    pub for_itself: bool,
}

/// The ledger's answer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseGrant {
    /// Requests granted, at most [`LeaseRequest::want`]; 0 refuses.
    pub granted: u32,
    /// When `granted` is 0: whole seconds (at least 1) until one request fits; 60 for a
    /// budget of 0.
    pub retry_after_s: u64,
}

#[derive(Debug)]
struct Bucket {
    /// Whole requests × [`UNIT`].
    units: u64,
    updated_ms: u64,
}

/// A caller's buckets: the Durable Object's side, one per caller (and per isolate when the
/// binding is missing).
///
/// Kept in memory only, not in the object's storage: an object is evicted only after being
/// idle for longer than a full refill takes (60 s), when its buckets would be full anyway, so
/// losing them loses nothing; only a restart (deploy, move) forgets a partly spent bucket.
#[derive(Default, Debug)]
pub struct CallerLedger {
    buckets: [Option<Bucket>; 2],
}

impl CallerLedger {
    /// Grants up to `request.want` requests (clamped to 1..=per_minute) of its budget at
    /// `now_ms`, after adding back the returned ones; the bucket's capacity is the
    /// `per_minute` the request states, so a changed budget takes effect at once.
    pub fn grant(&mut self, request: &LeaseRequest, now_ms: u64) -> LeaseGrant {
        let per_minute = u64::from(request.per_minute);
        if per_minute == 0 {
            return LeaseGrant {
                granted: 0,
                retry_after_s: 60,
            };
        }
        let capacity = per_minute * UNIT;
        let bucket = self.buckets[request.budget.index()].get_or_insert(Bucket {
            units: capacity,
            updated_ms: now_ms,
        });
        let elapsed = now_ms.saturating_sub(bucket.updated_ms);
        let refilled = elapsed
            .saturating_mul(per_minute)
            .saturating_add(u64::from(request.returned).saturating_mul(UNIT));
        bucket.units = bucket.units.saturating_add(refilled).min(capacity);
        // A clock stepping back neither refills nor moves the last update back.
        bucket.updated_ms = bucket.updated_ms.max(now_ms);
        let want = u64::from(request.want).clamp(1, per_minute);
        let granted = (bucket.units / UNIT).min(want);
        bucket.units -= granted * UNIT;
        let retry_after_s = if granted == 0 {
            (UNIT - bucket.units)
                .div_ceil(per_minute)
                .div_ceil(1000)
                .max(1)
        } else {
            0
        };
        LeaseGrant {
            // At most `per_minute`, a u32.
            granted: u32::try_from(granted).unwrap_or(u32::MAX),
            retry_after_s,
        }
    }
}

/// Why [`Leases::take`] could not serve a request from a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoLease {
    /// Ask the caller's ledger with this request, then [`Leases::install`] its grant.
    Ask(LeaseRequest),
    /// The ledger refused this isolate lately: refuse without asking, `Retry-After` these
    /// seconds.
    Refused(u64),
}

#[derive(Default, Debug)]
struct Lease {
    /// Requests left in the slice.
    left: u32,
    /// Until when the slice may be served from; `None` once a new slice is being asked for.
    until_ms: Option<u64>,
    /// The size of the next slice to ask for.
    want: u32,
    /// Unused requests of expired or replaced slices, for the next request's `returned`.
    unreturned: u32,
    /// After a refusal: no asking again before this.
    refused_until_ms: u64,
    /// When the ask for a slice went out, until its grant is installed.
    asking_since_ms: Option<u64>,
}

/// An isolate's slices, at most one per (caller, budget). Callers are the configured ones, so
/// the map is bounded by the settings.
#[derive(Default, Debug)]
pub struct Leases {
    by_caller: HashMap<String, [Lease; 2]>,
}

impl Leases {
    /// Takes one request of `caller`'s `budget` (`per_minute`) at `now_ms` from a live slice;
    /// otherwise says what to ask the ledger, or that it refused lately.
    pub fn take(
        &mut self,
        caller: &str,
        budget: Budget,
        per_minute: u32,
        now_ms: u64,
    ) -> Result<(), NoLease> {
        // The hot path: a live slice, found without allocating.
        if let Some(leases) = self.by_caller.get_mut(caller) {
            let lease = &mut leases[budget.index()];
            if lease.left > 0 && lease.until_ms.is_some_and(|until| now_ms < until) {
                lease.left -= 1;
                return Ok(());
            }
            if now_ms < lease.refused_until_ms {
                return Err(NoLease::Refused(
                    (lease.refused_until_ms - now_ms).div_ceil(1000).max(1),
                ));
            }
        }
        let (smallest, largest) = match budget {
            Budget::Requests => ((per_minute / 60).max(1), (per_minute / 4).max(1)),
            Budget::ForcedRefreshes => (1, 1),
        };
        let lease = &mut self.by_caller.entry(caller.to_owned()).or_default()[budget.index()];
        // Learn from the slice just finished, once (`until_ms` is cleared): concurrent misses
        // while the request is out ask for the same size and return nothing twice.
        if lease.until_ms.take().is_some() {
            if lease.left == 0 {
                lease.want = lease.want.saturating_mul(2);
            } else {
                lease.want /= 2;
                lease.unreturned = lease.unreturned.saturating_add(lease.left);
                lease.left = 0;
            }
        }
        lease.want = lease.want.clamp(smallest, largest);
        // While a slice is being asked for, concurrent misses ask for themselves only: a cold
        // burst of n requests asking for n slices would drain the bucket n times over and be
        // refused long before the caller used its budget. A lost ask (its request cut off
        // before install) stops counting after a slice's lifetime.
        let slice_out = lease
            .asking_since_ms
            .is_some_and(|since| now_ms < since.saturating_add(LEASE_MS));
        if !slice_out {
            lease.asking_since_ms = Some(now_ms);
        }
        Err(NoLease::Ask(LeaseRequest {
            budget,
            per_minute,
            want: if slice_out { 1 } else { lease.want },
            returned: std::mem::take(&mut lease.unreturned),
            for_itself: slice_out,
        }))
    }

    /// Installs the ledger's `grant` for `request` at `now_ms`: one granted request is this
    /// one, the rest a slice served for [`LEASE_MS`]. `Err` (none granted) is the
    /// `Retry-After` seconds, also remembered so the isolate refuses until then without
    /// asking.
    pub fn install(
        &mut self,
        caller: &str,
        request: &LeaseRequest,
        grant: &LeaseGrant,
        now_ms: u64,
    ) -> Result<(), u64> {
        let lease =
            &mut self.by_caller.entry(caller.to_owned()).or_default()[request.budget.index()];
        let for_itself = request.for_itself;
        if !for_itself {
            lease.asking_since_ms = None;
        }
        if grant.granted == 0 {
            let retry_after_s = grant.retry_after_s.max(1);
            lease.refused_until_ms = now_ms.saturating_add(retry_after_s.saturating_mul(1000));
            return Err(retry_after_s);
        }
        // A request that asked for itself alone leaves the slice (being asked for, or come
        // meanwhile) as it is.
        if for_itself {
            return Ok(());
        }
        // A concurrent request's slice may still be live: it is replaced, its rest returned.
        lease.unreturned = lease.unreturned.saturating_add(lease.left);
        lease.left = grant.granted - 1;
        lease.until_ms = Some(now_ms.saturating_add(LEASE_MS));
        lease.refused_until_ms = 0;
        Ok(())
    }
}

/// The 429 for a caller over `budget` (`per_minute`), with `Retry-After`.
pub fn over_budget_reply(
    caller_id: &str,
    budget: Budget,
    per_minute: u32,
    retry_after_s: u64,
) -> ErrorReply {
    let description = match budget {
        Budget::Requests => {
            format!("caller {caller_id} is over its budget of {per_minute} requests per minute")
        }
        Budget::ForcedRefreshes => format!(
            "caller {caller_id} is over its budget of {per_minute} forced refreshes per minute; requests without forceRefresh are still served"
        ),
    };
    ErrorReply::slow_down(&description, retry_after_s)
}

#[cfg(test)]
mod tests;
