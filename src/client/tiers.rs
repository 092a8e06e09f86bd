//! The tiers beneath the client's memory: the store, the fleet's coordinator, the identity
//! provider, walked in that order by a flight; and what each writes back.

use super::{Fetched, Inner, Origin, Target, TokenRequest, TokenSource};
use crate::cache::CachedToken;
use crate::coordinator::{leased, CoordinatorFailure};
use crate::error::Error;
use crate::ports::Host;

impl<H: Host> Inner<H> {
    /// Store (unless forced), then the coordinator, then the identity provider; writes every
    /// tier it passes (but the store with a coordinator's token, which the coordinator wrote).
    pub(super) async fn fetch_through_tiers(
        &self,
        request: &TokenRequest,
        target: &Target,
        origin: Origin,
    ) -> Result<Fetched, Error> {
        let key = target.key.as_str();
        // A coordinator's copy is revalidated with the coordinator: the store holds at best
        // the same token, and a fleet reads it in vain on every revalidation.
        let revalidating = origin == Origin::BackgroundRefresh && self.coordinator.is_some();
        // A stored token past its refresh point is not taken, but a caller with nothing in
        // memory still gets it if nobody can issue a new one (stale-if-error, as memory does).
        let mut fallback = None;
        if let (Some(store), false) = (&self.store, request.force_refresh || revalidating) {
            let store_key = self.store_key(&request.scopes, target);
            let now_ms = self.host.now_ms();
            let stored = store
                .get(&store_key)
                .await
                .filter(|token| token.is_fresh(now_ms, self.config.expiry_buffer_ms));
            match stored {
                Some(token) if !token.needs_refresh(now_ms) => {
                    self.cache.borrow_mut().put(key, token.clone(), now_ms);
                    return Ok(Fetched {
                        token,
                        source: TokenSource::Store,
                        correlation_id: request.correlation_id.clone(),
                    });
                }
                stale => fallback = stale.filter(|_| origin == Origin::Plain),
            }
        }
        let outcome = self.fetch_beyond_store(request, target, origin).await;
        match (outcome, fallback) {
            (Err(error), Some(token)) => {
                let now_ms = self.host.now_ms();
                if !token.is_fresh(now_ms, self.config.expiry_buffer_ms) {
                    return Err(error);
                }
                self.cache.borrow_mut().put(key, token.clone(), now_ms);
                Ok(Fetched {
                    token,
                    source: TokenSource::Store,
                    correlation_id: request.correlation_id.clone(),
                })
            }
            (outcome, _) => outcome,
        }
    }

    /// The coordinator, then the identity provider.
    async fn fetch_beyond_store(
        &self,
        request: &TokenRequest,
        target: &Target,
        origin: Origin,
    ) -> Result<Fetched, Error> {
        let key = target.key.as_str();
        if let Some(coordinator) = &self.coordinator {
            let store_key = self.store_key(&request.scopes, target);
            match coordinator.acquire(&store_key, request).await {
                Ok(token) => {
                    let now_ms = self.host.now_ms();
                    // An answer that is no longer servable here (a slow reply, a skewed
                    // clock) is not worth a second round: the IdP is asked instead.
                    if token.is_fresh(now_ms, self.config.expiry_buffer_ms) {
                        self.cache.borrow_mut().put(key, token.clone(), now_ms);
                        return Ok(Fetched {
                            token,
                            source: TokenSource::Coordinator,
                            correlation_id: request.correlation_id.clone(),
                        });
                    }
                }
                Err(CoordinatorFailure::Answered(error)) => return Err(error),
                // The adapter reported why. A copy being revalidated is still good: it is
                // leased anew rather than replaced by the provider, so an isolate cut off
                // from its coordinator does not ask the provider every half minute.
                Err(CoordinatorFailure::Unavailable(_)) if origin == Origin::BackgroundRefresh => {
                    if let Some(fetched) = self.release_copy(key) {
                        return Ok(fetched);
                    }
                }
                // The identity provider still answers.
                Err(CoordinatorFailure::Unavailable(_)) => {}
            }
        }
        let (token, correlation_id) = self.fetch_from_idp(request, target, origin).await?;
        let now_ms = self.host.now_ms();
        // With a coordinator, even a token fetched here is a leased copy: once the
        // coordinator answers again, the fleet's token (perhaps a forced refresh's) replaces it
        // within the lease, as it does every other copy.
        let token = match &self.coordinator {
            Some(_) => leased(token, now_ms),
            None => token,
        };
        self.cache.borrow_mut().put(key, token.clone(), now_ms);
        if let Some(store) = &self.store {
            store
                .put(&self.store_key(&request.scopes, target), &token)
                .await;
        }
        Ok(Fetched {
            token,
            source: TokenSource::IdentityProvider,
            correlation_id: Some(correlation_id),
        })
    }

    /// The memory copy of `key`, leased again from now, while it is fresh.
    fn release_copy(&self, key: &str) -> Option<Fetched> {
        let now_ms = self.host.now_ms();
        let mut cache = self.cache.borrow_mut();
        let copy = cache.get(key, now_ms)?.clone();
        // Its own refresh point is not known any more (the lease replaced it): the copy is
        // served until its expiry buffer unless the coordinator answers before.
        let token = leased(
            CachedToken {
                lease_until_ms: None,
                refresh_on_ms: None,
                ..copy
            },
            now_ms,
        );
        cache.put(key, token.clone(), now_ms);
        Some(Fetched {
            token,
            source: TokenSource::Memory,
            correlation_id: None,
        })
    }
}
