//! The token coordinator's alarm rules: when the Durable Object that owns a scope set's token
//! refreshes it ahead of its callers (always warm), when it retries a failed refresh, and
//! when it stops (nobody asked for a whole token lifetime: no refreshing forever).

use serde::{Deserialize, Serialize};

use crate::cache::CachedToken;

/// The most the alarm runs ahead of the refresh point: enough for a slow identity provider
/// and its retries, so callers reaching the refresh point find the new token already there.
const MAX_LEAD_MS: u64 = 60_000;
/// The first retry's delay after a failed alarm refresh; it doubles per failure.
const FIRST_RETRY_MS: u64 = 5_000;
/// The longest delay between retries.
const MAX_RETRY_MS: u64 = 5 * 60 * 1000;
/// How often, at most, the object writes down that someone asked (a storage write per
/// request would cost more than the requests).
const PERSIST_EVERY_MS: u64 = 60_000;

/// When to refresh `token`, obtained at `obtained_ms`: a tenth of the way before its refresh
/// point (at most 60 s before), never before it was obtained. The refresh point is the
/// token's `refresh_on`, but no later than where the cache stops serving it (its expiry minus
/// `expiry_buffer_ms`): a `refresh_on` past that would leave callers waiting on the identity
/// provider, which the alarm exists to prevent.
pub fn refresh_at(token: &CachedToken, obtained_ms: u64, expiry_buffer_ms: u64) -> u64 {
    let served_until = token.expires_on_ms.saturating_sub(expiry_buffer_ms);
    let point = token
        .refresh_on_ms
        .map_or(served_until, |refresh_on| refresh_on.min(served_until));
    let lead = MAX_LEAD_MS.min(point.saturating_sub(obtained_ms) / 10);
    point.saturating_sub(lead).max(obtained_ms)
}

/// Whether the scope set is still worth keeping warm at `now_ms`: false once nobody asked for
/// a whole token lifetime (`lifetime_ms`) since `last_requested_ms`.
pub fn keeps_warm(last_requested_ms: u64, lifetime_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(last_requested_ms) < lifetime_ms
}

/// When to retry after the `failures`-th failed refresh in a row at `now_ms`: 5 s doubled per
/// failure, at most 5 minutes, and no sooner than the identity provider's `Retry-After`.
/// `None` once the old token is no longer served (its expiry minus `expiry_buffer_ms`):
/// nothing is left to keep warm, and the next caller acquires anew.
pub fn retry_at(
    failures: u32,
    retry_after_ms: Option<u64>,
    now_ms: u64,
    token_expires_on_ms: u64,
    expiry_buffer_ms: u64,
) -> Option<u64> {
    if now_ms >= token_expires_on_ms.saturating_sub(expiry_buffer_ms) {
        return None;
    }
    // 2^7 × 5 s is past the cap already: larger shifts need not be computed.
    let doublings = failures.saturating_sub(1).min(7);
    let backoff = (FIRST_RETRY_MS << doublings).min(MAX_RETRY_MS);
    Some(now_ms.saturating_add(backoff.max(retry_after_ms.unwrap_or(0))))
}

/// What a token coordinator keeps in its storage: enough to refresh its scope set after a
/// restart and to know when to stop.
#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq, Eq)]
pub struct WarmState {
    /// The scope set, as requested.
    pub scopes: Vec<String>,
    /// When someone last asked (written at most once a minute: [`should_persist_request`]).
    pub last_requested_ms: u64,
    /// The token's lifetime: how long without a request ends keeping it warm.
    pub lifetime_ms: u64,
    /// Failed refreshes in a row.
    pub failures: u32,
    /// When the token the object last had expires: after a failed refresh the object keeps
    /// trying until then, even if it restarted and its memory is empty.
    #[serde(default)]
    pub expires_on_ms: u64,
    /// The tenant, when the object's token is another tenant's than the app's own
    /// (see [`super::coordination::wire_authority`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The authority, when a request named one in place of a tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
}

/// Whether a request at `now_ms` should be written down, the last written at `persisted_ms`:
/// at most once a minute, which [`keeps_warm`] can afford to be late by (a token lifetime is
/// far longer).
pub fn should_persist_request(persisted_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(persisted_ms) >= PERSIST_EVERY_MS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AccessToken;

    const BUFFER_MS: u64 = 5 * 60 * 1000;
    const T0: u64 = 1_700_000_000_000;

    fn token(expires_in_s: u64, refresh_in_s: Option<u64>) -> CachedToken {
        CachedToken::issued(
            AccessToken::new("t"),
            "Bearer".into(),
            T0,
            expires_in_s,
            None,
            refresh_in_s,
        )
    }

    #[test]
    fn the_alarm_runs_a_tenth_ahead_of_refresh_on_at_most_a_minute() {
        // Entra's hour-long token with refresh_in 3000 s: a minute ahead.
        assert_eq!(
            refresh_at(&token(3_600, Some(3_000)), T0, BUFFER_MS),
            T0 + 2_940_000
        );
        // refresh_in 20 s: 2 s ahead.
        assert_eq!(
            refresh_at(&token(360, Some(20)), T0, BUFFER_MS),
            T0 + 18_000
        );
        // Two hours with no refresh_in: the cache's own half-life point, a minute ahead.
        assert_eq!(
            refresh_at(&token(7_200, None), T0, BUFFER_MS),
            T0 + 3_540_000
        );
        // Obtained later than issued: the tenth counts from when it was obtained.
        assert_eq!(
            refresh_at(&token(3_600, Some(100)), T0 + 50_000, BUFFER_MS),
            T0 + 95_000
        );
    }

    #[test]
    fn without_refresh_on_the_alarm_is_ahead_of_the_expiry_buffer() {
        assert_eq!(
            refresh_at(&token(3_600, None), T0, BUFFER_MS),
            T0 + 3_240_000
        );
        assert_eq!(refresh_at(&token(400, None), T0, BUFFER_MS), T0 + 90_000);
        assert_eq!(
            refresh_at(&token(3_600, Some(3_500)), T0, BUFFER_MS),
            T0 + 3_240_000,
            "a refresh_on past the buffer: the buffer"
        );
    }

    #[test]
    fn the_alarm_is_never_before_the_token_was_obtained() {
        assert_eq!(refresh_at(&token(200, None), T0, BUFFER_MS), T0);
        assert_eq!(
            refresh_at(&token(3_600, Some(10)), T0 + 20_000, BUFFER_MS),
            T0 + 20_000
        );
        assert_eq!(refresh_at(&token(0, None), 0, u64::MAX), 0);
    }

    #[test]
    fn warm_until_nobody_asked_for_a_whole_lifetime() {
        assert!(keeps_warm(T0, 3_600_000, T0));
        assert!(keeps_warm(T0, 3_600_000, T0 + 3_599_999));
        assert!(!keeps_warm(T0, 3_600_000, T0 + 3_600_000));
        assert!(keeps_warm(T0, 3_600_000, T0 - 5), "a clock stepping back");
        assert!(!keeps_warm(T0, 0, T0), "no lifetime known: nothing to keep");
    }

    #[test]
    fn retries_back_off_from_5_s_to_5_minutes() {
        let expires = T0 + 3_600_000;
        let delays: Vec<u64> = (0..=9)
            .map(|failures| retry_at(failures, None, T0, expires, BUFFER_MS).unwrap() - T0)
            .collect();
        assert_eq!(
            delays,
            [5_000, 5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]
        );
        assert_eq!(
            retry_at(u32::MAX, None, T0, expires, BUFFER_MS),
            Some(T0 + 300_000)
        );
    }

    #[test]
    fn retries_wait_at_least_retry_after() {
        let expires = T0 + 3_600_000;
        assert_eq!(
            retry_at(1, Some(30_000), T0, expires, BUFFER_MS),
            Some(T0 + 30_000)
        );
        assert_eq!(
            retry_at(3, Some(1_000), T0, expires, BUFFER_MS),
            Some(T0 + 20_000)
        );
        assert_eq!(
            retry_at(1, Some(u64::MAX), T0, expires, BUFFER_MS),
            Some(u64::MAX)
        );
    }

    #[test]
    fn no_retry_once_the_old_token_is_no_longer_served() {
        let expires = T0 + 3_600_000;
        let last_served = expires - BUFFER_MS - 1;
        assert_eq!(
            retry_at(1, None, last_served, expires, BUFFER_MS),
            Some(last_served + 5_000)
        );
        assert_eq!(retry_at(1, None, last_served + 1, expires, BUFFER_MS), None);
        assert_eq!(retry_at(1, None, T0, 0, BUFFER_MS), None);
    }

    #[test]
    fn requests_are_written_down_at_most_once_a_minute() {
        assert!(should_persist_request(0, T0));
        assert!(!should_persist_request(T0, T0 + 59_999));
        assert!(should_persist_request(T0, T0 + 60_000));
        assert!(!should_persist_request(T0, T0 - 1));
    }

    #[test]
    fn the_warm_state_round_trips_and_defaults() {
        let state = WarmState {
            scopes: vec!["api://a/.default".into()],
            last_requested_ms: T0,
            lifetime_ms: 3_600_000,
            failures: 2,
            expires_on_ms: T0 + 3_600_000,
            ..WarmState::default()
        };
        let text = serde_json::to_string(&state).unwrap();
        assert_eq!(
            text,
            r#"{"scopes":["api://a/.default"],"last_requested_ms":1700000000000,"lifetime_ms":3600000,"failures":2,"expires_on_ms":1700003600000}"#
        );
        assert_eq!(serde_json::from_str::<WarmState>(&text).unwrap(), state);
        let written_before_expiry_was_kept =
            r#"{"scopes":[],"last_requested_ms":1,"lifetime_ms":2,"failures":0}"#;
        assert_eq!(
            serde_json::from_str::<WarmState>(written_before_expiry_was_kept)
                .unwrap()
                .expires_on_ms,
            0
        );
        assert_eq!(WarmState::default().failures, 0);
    }
}
