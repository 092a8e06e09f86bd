//! Per-caller request budgets: token buckets per caller. The Worker keeps one [`Budgets`] in
//! isolate memory and passes the clock in.

use std::collections::HashMap;

struct Bucket {
    tokens: f64,
    updated_ms: u64,
}

/// Token buckets by caller id.
#[derive(Default)]
pub struct RateLimiter {
    buckets: HashMap<String, Bucket>,
}

impl RateLimiter {
    /// Takes one request from `caller`'s budget of `per_minute` at `now_ms`. `Err` carries the
    /// seconds until a request is allowed again.
    pub fn take(&mut self, caller: &str, per_minute: u32, now_ms: u64) -> Result<(), u64> {
        let capacity = f64::from(per_minute);
        let per_ms = capacity / 60_000.0;
        let bucket = self.buckets.entry(caller.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated_ms: now_ms,
        });
        let elapsed = now_ms.saturating_sub(bucket.updated_ms) as f64;
        bucket.tokens = (bucket.tokens + elapsed * per_ms).min(capacity);
        bucket.updated_ms = now_ms;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = (1.0 - bucket.tokens) / per_ms;
            Err((wait_ms / 1000.0).ceil().max(1.0) as u64)
        }
    }
}

/// A caller's two budgets: every request, and forced refreshes on top.
#[derive(Default)]
pub struct Budgets {
    requests: RateLimiter,
    forced_refreshes: RateLimiter,
}

impl Budgets {
    /// Takes one request from `caller`'s budget of `per_minute`; `Err` is Retry-After seconds.
    pub fn take_request(&mut self, caller: &str, per_minute: u32, now_ms: u64) -> Result<(), u64> {
        self.requests.take(caller, per_minute, now_ms)
    }

    /// Takes one forced refresh from `caller`'s budget of `per_minute`; a budget of 0 refuses
    /// them all (Retry-After: a minute).
    pub fn take_forced_refresh(
        &mut self,
        caller: &str,
        per_minute: u32,
        now_ms: u64,
    ) -> Result<(), u64> {
        if per_minute == 0 {
            return Err(60);
        }
        self.forced_refreshes.take(caller, per_minute, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_of_the_budget_then_refills() {
        let mut limiter = RateLimiter::default();
        for _ in 0..3 {
            assert!(limiter.take("a", 3, 0).is_ok());
        }
        assert_eq!(
            limiter.take("a", 3, 0),
            Err(20),
            "one request per 20 s at 3/min"
        );
        assert!(limiter.take("b", 3, 0).is_ok(), "budgets are per caller");
        assert_eq!(
            limiter.take("a", 3, 10_000),
            Err(10),
            "half a request refilled: the other half in 10 s"
        );
        assert!(limiter.take("a", 3, 20_000).is_ok());
        assert!(limiter.take("a", 3, 20_000).is_err());
    }

    #[test]
    fn a_zero_forced_refresh_budget_refuses_them_all() {
        let mut budgets = Budgets::default();
        assert_eq!(budgets.take_forced_refresh("a", 0, 0), Err(60));
        assert!(budgets.take_request("a", 600, 0).is_ok());
    }

    #[test]
    fn forced_refreshes_have_their_own_smaller_budget() {
        let mut budgets = Budgets::default();
        for _ in 0..6 {
            assert!(budgets.take_request("a", 600, 0).is_ok());
            assert!(budgets.take_forced_refresh("a", 6, 0).is_ok());
        }
        assert_eq!(
            budgets.take_forced_refresh("a", 6, 0),
            Err(10),
            "one forced refresh per 10 s at 6/min"
        );
        assert!(
            budgets.take_request("a", 600, 0).is_ok(),
            "plain requests keep their budget"
        );
        assert!(
            budgets.take_forced_refresh("b", 6, 0).is_ok(),
            "other callers keep theirs"
        );
        assert!(budgets.take_forced_refresh("a", 6, 10_000).is_ok());
    }
}
