//! A tier shared by many clients between their store and the identity provider: a
//! coordinator that acquires tokens on their behalf (the broker's Durable Object), so that
//! a fleet of clients makes one identity-provider request per scope set.
//!
//! A client with a coordinator goes memory → store → coordinator → identity provider. The
//! coordinator's answer is the token a fleet shares, so the client does not write it to the
//! store (the coordinator did). When the coordinator is unavailable the client asks the
//! identity provider itself, as a client without one does: coordination makes a fleet
//! cheaper, never less available.
//!
//! A copy of a coordinated token is leased ([`leased`]): the coordinator may replace the
//! token (a forced refresh), and the only way an isolate can learn of it is to ask again.
//! So a copy is revalidated in the background [`REVALIDATE_AFTER_MS`] after the
//! coordinator vouched for it, and is not served at all [`LEASE_MS`] after; together they
//! bound how long a replaced token lives on anywhere in the fleet.

use crate::cache::CachedToken;
use crate::client::TokenRequest;
use crate::error::Error;
use crate::ports::LocalBoxFuture;

/// After this long a leased copy is still served, but asked for again in the background.
pub const REVALIDATE_AFTER_MS: u64 = 30_000;
/// After this long a leased copy is no longer served: the next request waits for the
/// coordinator. Past a forced refresh, no copy of the replaced token outlives this (plus
/// the one revalidation under way).
pub const LEASE_MS: u64 = 55_000;
/// A copy whose refresh point had already passed when it was vouched for (the coordinator
/// is still refreshing it) is asked for again this soon, not on every request.
pub const MIN_REVALIDATE_MS: u64 = 5_000;

/// Why a coordinator gave no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoordinatorFailure {
    /// It could not be asked, or its answer was not one (a missing binding, a runtime error,
    /// a malformed reply): the client asks the identity provider itself. The text says why,
    /// for the operator's log; it never holds a secret.
    Unavailable(String),
    /// It asked the identity provider, which refused or failed: that is the outcome, and
    /// asking again from here would only repeat it.
    Answered(Error),
}

/// A coordinator: acquires the token for a store key and request on the fleet's behalf.
pub trait Coordinator {
    /// A token for `request` (forced when `request.force_refresh`), `store_key` naming the
    /// token in the fleet (see [`crate::cache::store_key`]). The adapter leases what it
    /// returns ([`leased`]).
    fn acquire<'a>(
        &'a self,
        store_key: &'a str,
        request: &'a TokenRequest,
    ) -> LocalBoxFuture<'a, Result<CachedToken, CoordinatorFailure>>;
}

/// `token` as a copy the coordinator vouched for at `validated_at_ms`: revalidated in the
/// background from [`REVALIDATE_AFTER_MS`] on (or sooner, at its own refresh point), served
/// until [`LEASE_MS`].
pub fn leased(mut token: CachedToken, validated_at_ms: u64) -> CachedToken {
    let revalidate_at = validated_at_ms.saturating_add(REVALIDATE_AFTER_MS);
    let earliest = validated_at_ms.saturating_add(MIN_REVALIDATE_MS);
    token.refresh_on_ms = Some(
        token
            .refresh_on_ms
            .map_or(revalidate_at, |at| at.min(revalidate_at))
            .max(earliest),
    );
    let lease_until = validated_at_ms.saturating_add(LEASE_MS);
    token.lease_until_ms = Some(
        token
            .lease_until_ms
            .map_or(lease_until, |at| at.min(lease_until)),
    );
    token
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AccessToken;

    const T: u64 = 1_800_000_000_000;

    fn token(refresh_on_ms: Option<u64>) -> CachedToken {
        CachedToken {
            refresh_on_ms,
            ..CachedToken::issued(AccessToken::new("t"), "Bearer".into(), T, 3600, None, None)
        }
    }

    #[test]
    fn a_copy_is_revalidated_after_thirty_seconds_and_dropped_after_fifty_five() {
        let copy = leased(token(None), T);
        assert_eq!(copy.refresh_on_ms, Some(T + 30_000));
        assert_eq!(copy.lease_until_ms, Some(T + 55_000));
        assert!(!copy.needs_refresh(T + 29_999));
        assert!(copy.needs_refresh(T + 30_000));
        assert!(copy.is_fresh(T + 54_999, 300_000));
        assert!(!copy.is_fresh(T + 55_000, 300_000));
    }

    #[test]
    fn an_earlier_refresh_point_of_the_token_itself_stays() {
        assert_eq!(
            leased(token(Some(T + 10_000)), T).refresh_on_ms,
            Some(T + 10_000)
        );
    }

    #[test]
    fn a_refresh_point_already_past_is_asked_about_again_in_five_seconds_not_at_once() {
        assert_eq!(
            leased(token(Some(T - 1_000)), T).refresh_on_ms,
            Some(T + 5_000)
        );
    }

    #[test]
    fn a_shorter_lease_already_on_the_copy_is_kept() {
        let copy = CachedToken {
            lease_until_ms: Some(T + 1_000),
            ..token(None)
        };
        assert_eq!(leased(copy, T).lease_until_ms, Some(T + 1_000));
    }
}
