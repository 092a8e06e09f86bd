//! The core's [`Coordinator`] port over the fleet: a miss that KV did not answer goes to the
//! `Coordinator` object named after the token's KV entry, which acquires once for the whole
//! fleet. What it answers is leased ([`leased`]), so a replaced token is dropped everywhere
//! within the lease.

use cctoken::broker::coordination::{decode_reply, encode_request};
use cctoken::broker::kv_entry::kv_key_for_hash;
use cctoken::cache::CachedToken;
use cctoken::client::TokenRequest;
use cctoken::coordinator::{leased, Coordinator, CoordinatorFailure};
use cctoken::js::webcrypto::sha256;
use cctoken::ports::LocalBoxFuture;
use worker::console_error;

use crate::fleet::{note_failure, Fleet};

/// Asks the fleet's token coordinators.
pub struct FleetCoordinator {
    fleet: Fleet,
    timeout_ms: u64,
}

/// What a coordinator may take beyond one attempt at the identity provider. Longer would let
/// a hung object hold a background revalidation past the runtime's `waitUntil` limit (30 s).
const COORDINATOR_MARGIN_MS: u64 = 5_000;

impl FleetCoordinator {
    /// A coordinator port over `fleet`, for a client whose attempts at the identity provider
    /// each end within `attempt_timeout_ms`.
    pub fn new(fleet: Fleet, attempt_timeout_ms: u64) -> Self {
        FleetCoordinator {
            fleet,
            timeout_ms: attempt_timeout_ms.saturating_add(COORDINATOR_MARGIN_MS),
        }
    }

    async fn ask(
        &self,
        store_key: &str,
        request: &TokenRequest,
    ) -> Result<CachedToken, CoordinatorFailure> {
        let hash = sha256(store_key.as_bytes()).await.map_err(|_| {
            CoordinatorFailure::Unavailable("WebCrypto could not hash the token's name".into())
        })?;
        let (status, body) = self
            .fleet
            .post(
                &kv_key_for_hash(&hash),
                "/token",
                encode_request(request),
                self.timeout_ms,
            )
            .await
            .map_err(CoordinatorFailure::Unavailable)?;
        let name = kv_key_for_hash(&hash);
        let (token, validated_at_ms) = decode_reply(status, &body).inspect_err(|failure| {
            if matches!(failure, CoordinatorFailure::Unavailable(_)) {
                note_failure(&name);
            }
        })?;
        Ok(leased(token, validated_at_ms))
    }
}

impl Coordinator for FleetCoordinator {
    fn acquire<'a>(
        &'a self,
        store_key: &'a str,
        request: &'a TokenRequest,
    ) -> LocalBoxFuture<'a, Result<CachedToken, CoordinatorFailure>> {
        Box::pin(async move {
            let outcome = self.ask(store_key, request).await;
            if let Err(CoordinatorFailure::Unavailable(why)) = &outcome {
                console_error!("the token coordinator could not be asked, so this isolate asks the identity provider itself: {why}");
            }
            outcome
        })
    }
}
