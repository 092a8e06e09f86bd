//! When to retry a token request, and how long to wait: a pure decision over the outcome of
//! one attempt, the time left, and a random number for jitter.

use std::time::{Duration, UNIX_EPOCH};

/// Longest wait a `Retry-After` or throttling window is honoured for.
pub const MAX_THROTTLE_MS: u64 = 3600 * 1000;

/// Retry and timeout settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff cap; doubles per retry ("full jitter": a random wait up to the cap).
    pub base_delay_ms: u64,
    /// Largest backoff cap.
    pub max_delay_ms: u64,
    /// Longest wait for one attempt's response.
    pub attempt_timeout_ms: u64,
    /// Longest time from the first attempt to giving up.
    pub total_timeout_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay_ms: 500,
            max_delay_ms: 8_000,
            attempt_timeout_ms: 10_000,
            total_timeout_ms: 30_000,
        }
    }
}

/// What one attempt produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The request could not be sent or the response not read.
    NetworkError,
    /// No response within the per-attempt timeout.
    Timeout,
    /// An HTTP response with this status and, if it had one, its `Retry-After` in ms.
    Status {
        /// HTTP status.
        status: u16,
        /// Parsed `Retry-After`.
        retry_after_ms: Option<u64>,
    },
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then try again.
    RetryAfter(u64),
    /// Stop and report the outcome.
    GiveUp,
    /// Stop: the server asked for a wait (429) that does not fit the deadline. Calls for the
    /// same scopes should fail fast until the wait is over.
    Throttled(u64),
}

impl RetryPolicy {
    /// Decides after `retries_done` retries, at `now_ms`, with the deadline `deadline_ms`.
    /// `random` is any uniformly random number (jitter).
    pub fn decide(
        &self,
        outcome: AttemptOutcome,
        retries_done: u32,
        now_ms: u64,
        deadline_ms: u64,
        random: u64,
    ) -> RetryDecision {
        let (retryable, retry_after_ms) = match outcome {
            AttemptOutcome::NetworkError | AttemptOutcome::Timeout => (true, None),
            AttemptOutcome::Status {
                status,
                retry_after_ms,
            } => match status {
                429 | 503 => (true, retry_after_ms.map(|ms| ms.min(MAX_THROTTLE_MS))),
                500 | 502 | 504 => (true, None),
                _ => (false, None),
            },
        };
        let is_429 = matches!(outcome, AttemptOutcome::Status { status: 429, .. });
        if !retryable {
            return RetryDecision::GiveUp;
        }
        let delay_ms = match retry_after_ms {
            Some(ms) => ms,
            None => {
                let cap = self
                    .base_delay_ms
                    .saturating_mul(1u64 << retries_done.min(20))
                    .min(self.max_delay_ms);
                random % (cap + 1)
            }
        };
        let fits = now_ms.saturating_add(delay_ms) < deadline_ms;
        if retries_done < self.max_retries && fits {
            return RetryDecision::RetryAfter(delay_ms);
        }
        match (is_429, retry_after_ms) {
            (true, Some(ms)) => RetryDecision::Throttled(ms),
            _ => RetryDecision::GiveUp,
        }
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date, as milliseconds from `now_ms`
/// (capped at an hour). `None` for anything else.
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000).min(MAX_THROTTLE_MS));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    let at_ms = u64::try_from(at_ms).unwrap_or(u64::MAX);
    Some(at_ms.saturating_sub(now_ms).min(MAX_THROTTLE_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 2,
        base_delay_ms: 500,
        max_delay_ms: 8_000,
        attempt_timeout_ms: 10_000,
        total_timeout_ms: 30_000,
    };

    fn status(status: u16, retry_after_ms: Option<u64>) -> AttemptOutcome {
        AttemptOutcome::Status {
            status,
            retry_after_ms,
        }
    }

    #[test]
    fn retries_transient_failures_with_full_jitter() {
        for outcome in [
            AttemptOutcome::NetworkError,
            AttemptOutcome::Timeout,
            status(500, None),
            status(502, None),
            status(503, None),
            status(504, None),
            status(429, None),
        ] {
            assert_eq!(
                POLICY.decide(outcome, 0, 0, 30_000, 1_234),
                RetryDecision::RetryAfter(1_234 % 501),
                "{outcome:?}"
            );
        }
        // The cap doubles per retry: 0..=1000 ms after the first (1_234_567 % 1001 = 334).
        assert_eq!(
            POLICY.decide(status(500, None), 1, 0, 30_000, 1_234_567),
            RetryDecision::RetryAfter(334)
        );
        assert_eq!(
            POLICY.decide(status(500, None), 2, 0, 30_000, 1),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn never_retries_other_client_errors() {
        for code in [400, 401, 403, 404, 409] {
            assert_eq!(
                POLICY.decide(status(code, Some(1000)), 0, 0, 30_000, 0),
                RetryDecision::GiveUp
            );
        }
    }

    #[test]
    fn honours_retry_after_when_it_fits_the_deadline() {
        assert_eq!(
            POLICY.decide(status(503, Some(2_000)), 0, 0, 30_000, 7),
            RetryDecision::RetryAfter(2_000)
        );
        assert_eq!(
            POLICY.decide(status(503, Some(40_000)), 0, 0, 30_000, 7),
            RetryDecision::GiveUp
        );
        // A wait that ends exactly at the deadline leaves no time for the attempt.
        assert_eq!(
            POLICY.decide(status(503, Some(29_999)), 0, 1, 30_001, 7),
            RetryDecision::RetryAfter(29_999)
        );
        assert_eq!(
            POLICY.decide(status(503, Some(30_000)), 0, 1, 30_001, 7),
            RetryDecision::GiveUp
        );
        assert_eq!(
            POLICY.decide(status(429, Some(40_000)), 0, 0, 30_000, 7),
            RetryDecision::Throttled(40_000)
        );
        assert_eq!(
            POLICY.decide(status(429, Some(1_000)), 2, 0, 30_000, 7),
            RetryDecision::Throttled(1_000)
        );
        assert_eq!(
            POLICY.decide(status(429, Some(99_999_999)), 0, 0, 30_000, 7),
            RetryDecision::Throttled(MAX_THROTTLE_MS)
        );
    }

    #[test]
    fn backoff_that_passes_the_deadline_gives_up() {
        assert_eq!(
            POLICY.decide(AttemptOutcome::NetworkError, 0, 29_900, 30_000, 400),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn parses_retry_after_in_both_forms() {
        assert_eq!(parse_retry_after("120", 0), Some(120_000));
        assert_eq!(parse_retry_after(" 0 ", 0), Some(0));
        assert_eq!(parse_retry_after("999999", 0), Some(MAX_THROTTLE_MS));
        // Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777_000 - 5_000),
            Some(5_000)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777_000 + 5_000),
            Some(0)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(parse_retry_after("-3", 0), None);
    }
}
