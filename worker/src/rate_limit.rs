//! Per-caller request budgets: a token bucket per caller, in isolate memory.

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
        assert!(limiter.take("a", 3, 20_000).is_ok());
        assert!(limiter.take("a", 3, 20_000).is_err());
    }
}
