//! A client with a fleet coordinator beneath its store: the coordinator answers misses,
//! relays the provider's refusals, gives way to the identity provider when it cannot be
//! asked, and its tokens are leased copies.

use super::*;
use crate::coordinator::{leased, Coordinator, CoordinatorFailure, LEASE_MS, REVALIDATE_AFTER_MS};

/// Answers from a script, recording each call's store key and whether it was forced; each
/// token is leased as of the host's clock, as the Worker's adapter does.
#[derive(Default)]
struct FakeCoordinator {
    host: RefCell<Option<TestHost>>,
    calls: RefCell<Vec<(String, bool)>>,
    answers: RefCell<VecDeque<Result<&'static str, CoordinatorFailure>>>,
}

impl FakeCoordinator {
    fn answer(&self, answer: Result<&'static str, CoordinatorFailure>) -> &Self {
        self.answers.borrow_mut().push_back(answer);
        self
    }
    fn calls(&self) -> Vec<(String, bool)> {
        self.calls.borrow().clone()
    }
}

impl Coordinator for FakeCoordinator {
    fn acquire<'a>(
        &'a self,
        store_key: &'a str,
        request: &'a TokenRequest,
    ) -> LocalBoxFuture<'a, Result<CachedToken, CoordinatorFailure>> {
        self.calls
            .borrow_mut()
            .push((store_key.to_owned(), request.force_refresh));
        let answer = self
            .answers
            .borrow_mut()
            .pop_front()
            .expect("a coordinator call nobody scripted an answer for");
        let now_ms = self.host.borrow().as_ref().unwrap().now_ms();
        Box::pin(async move {
            Yield(1).await;
            answer.map(|access_token| {
                leased(
                    CachedToken::issued(
                        AccessToken::new(access_token),
                        "Bearer".into(),
                        now_ms,
                        3600,
                        None,
                        None,
                    ),
                    now_ms,
                )
            })
        })
    }
}

const STORE_KEY: &str = "http://127.0.0.1:9/tenant-1/oauth2/v2.0/token\napp-id\napi://x/.default";

fn coordinated(
    host: &TestHost,
) -> (
    ConfidentialClient<TestHost>,
    Rc<FakeCoordinator>,
    Rc<MemoryStore>,
) {
    let coordinator = Rc::new(FakeCoordinator::default());
    *coordinator.host.borrow_mut() = Some(host.clone());
    let store = Rc::new(MemoryStore::default());
    let client = ConfidentialClient::with_shared_tiers(
        config(),
        host.clone(),
        Some(store.clone() as Rc<dyn TokenStore>),
        Some(coordinator.clone() as Rc<dyn Coordinator>),
    );
    (client, coordinator, store)
}

#[test]
fn a_miss_is_answered_by_the_coordinator_and_not_written_to_the_store() {
    let host = TestHost::new();
    let (client, coordinator, store) = coordinated(&host);
    coordinator.answer(Ok("fleet-1"));

    let first = acquire(&client, request(&client)).unwrap();
    assert_eq!(first.source, TokenSource::Coordinator);
    assert!(first.from_cache());
    assert_eq!(first.access_token.expose(), "fleet-1");
    assert_eq!(coordinator.calls(), vec![(STORE_KEY.to_owned(), false)]);
    assert_eq!(store.gets.get(), 1, "the store is read first");
    assert!(store.tokens.borrow().is_empty(), "the coordinator wrote it");
    assert_eq!(host.request_count(), 0);
    assert_eq!(
        first.served_as_is_until_ms,
        START_MS + REVALIDATE_AFTER_MS,
        "adapters repeat it only until it is revalidated"
    );

    let second = acquire(&client, request(&client)).unwrap();
    assert_eq!(second.source, TokenSource::Memory);
    assert_eq!(coordinator.calls().len(), 1, "a memory hit asks nobody");
    assert_eq!(store.gets.get(), 1);
}

#[test]
fn concurrent_misses_make_one_coordinator_call() {
    let host = TestHost::new();
    let (client, coordinator, _) = coordinated(&host);
    coordinator.answer(Ok("fleet-1"));
    let calls: Vec<_> = (0..25)
        .map(|_| client.acquire_token_for_client(request(&client)))
        .collect();
    let results = host.run(futures::future::join_all(calls));
    assert!(results
        .iter()
        .all(|r| r.as_ref().unwrap().access_token.expose() == "fleet-1"));
    assert_eq!(coordinator.calls().len(), 1);
}

#[test]
fn an_unavailable_coordinator_leaves_it_to_the_identity_provider() {
    let host = TestHost::new();
    host.token(TOKEN_1);
    let (client, coordinator, store) = coordinated(&host);
    coordinator.answer(Err(CoordinatorFailure::Unavailable("binding threw".into())));

    let result = acquire(&client, request(&client)).unwrap();
    assert_eq!(result.source, TokenSource::IdentityProvider);
    assert_eq!(result.access_token.expose(), "tok-1");
    assert_eq!(host.request_count(), 1);
    assert_eq!(
        store.tokens.borrow().keys().cloned().collect::<Vec<_>>(),
        vec![STORE_KEY.to_owned()],
        "a token from the provider is shared as before"
    );
}

#[test]
fn a_refusal_the_coordinator_relays_is_the_outcome_and_is_not_asked_again() {
    let host = TestHost::new();
    let (client, coordinator, _) = coordinated(&host);
    let refusal = crate::error::from_idp(400, "invalid_scope");
    assert!(refusal.is_refusal());
    coordinator.answer(Err(CoordinatorFailure::Answered(refusal)));

    let error = acquire(&client, request(&client)).unwrap_err();
    assert_eq!(error.code(), "invalid_scope");
    assert_eq!(host.request_count(), 0, "the provider already said no");
    let again = acquire(&client, request(&client)).unwrap_err();
    assert_eq!(again.code(), "invalid_scope");
    assert_eq!(coordinator.calls().len(), 1, "the refusal is remembered");
}

#[test]
fn a_copy_is_revalidated_in_the_background_then_no_longer_served_past_its_lease() {
    let host = TestHost::new();
    let (client, coordinator, store) = coordinated(&host);
    coordinator.answer(Ok("fleet-1")).answer(Ok("fleet-2"));
    acquire(&client, request(&client)).unwrap();

    host.advance(REVALIDATE_AFTER_MS - 1);
    let before = acquire(&client, request(&client)).unwrap();
    assert_eq!(
        (before.source, coordinator.calls().len()),
        (TokenSource::Memory, 1)
    );

    host.advance(1);
    let during = acquire(&client, request(&client)).unwrap();
    assert_eq!(during.source, TokenSource::Memory);
    assert_eq!(
        during.access_token.expose(),
        "fleet-1",
        "served while it is asked again"
    );
    host.run_background_tasks();
    assert_eq!(coordinator.calls().len(), 2);
    assert_eq!(
        store.gets.get(),
        1,
        "revalidation asks the coordinator, not the store"
    );
    let after = acquire(&client, request(&client)).unwrap();
    assert_eq!(
        after.access_token.expose(),
        "fleet-2",
        "the coordinator's current token"
    );

    // Nobody asks for a whole lease: the copy is not served, the next caller waits.
    coordinator.answer(Ok("fleet-3"));
    host.advance(LEASE_MS);
    let late = acquire(&client, request(&client)).unwrap();
    assert_eq!(late.source, TokenSource::Coordinator);
    assert_eq!(late.access_token.expose(), "fleet-3");
}

#[test]
fn a_forced_request_goes_to_the_coordinator_forced_without_reading_the_store() {
    let host = TestHost::new();
    let (client, coordinator, store) = coordinated(&host);
    coordinator.answer(Ok("fleet-1")).answer(Ok("fleet-2"));
    acquire(&client, request(&client)).unwrap();
    let gets = store.gets.get();

    let forced = acquire(
        &client,
        TokenRequest {
            force_refresh: true,
            ..request(&client)
        },
    )
    .unwrap();
    assert_eq!(forced.access_token.expose(), "fleet-2");
    assert_eq!(forced.source, TokenSource::Coordinator);
    assert_eq!(coordinator.calls()[1], (STORE_KEY.to_owned(), true));
    assert_eq!(store.gets.get(), gets);
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "fleet-2"
    );
}

#[test]
fn a_token_fetched_while_the_coordinator_was_unavailable_is_a_leased_copy_too() {
    let host = TestHost::new();
    host.token(TOKEN_1);
    let (client, coordinator, _) = coordinated(&host);
    coordinator
        .answer(Err(CoordinatorFailure::Unavailable("timed out".into())))
        .answer(Ok("fleet-2"));
    let own = acquire(&client, request(&client)).unwrap();
    assert_eq!(own.source, TokenSource::IdentityProvider);
    assert_eq!(
        own.served_as_is_until_ms,
        START_MS + REVALIDATE_AFTER_MS,
        "revalidated like any copy"
    );

    // Once the coordinator answers again, the fleet's token (a forced refresh's, say)
    // replaces the one this isolate fetched on its own.
    host.advance(REVALIDATE_AFTER_MS);
    acquire(&client, request(&client)).unwrap();
    host.run_background_tasks();
    let after = acquire(&client, request(&client)).unwrap();
    assert_eq!(after.access_token.expose(), "fleet-2");
    assert_eq!(host.request_count(), 1);
}

#[test]
fn a_revalidation_the_coordinator_cannot_answer_leases_the_copy_again_without_the_provider() {
    let host = TestHost::new();
    let (client, coordinator, _) = coordinated(&host);
    coordinator
        .answer(Ok("fleet-1"))
        .answer(Err(CoordinatorFailure::Unavailable("timed out".into())));
    acquire(&client, request(&client)).unwrap();

    host.advance(REVALIDATE_AFTER_MS);
    acquire(&client, request(&client)).unwrap();
    host.run_background_tasks();
    assert_eq!(coordinator.calls().len(), 2);
    assert_eq!(host.request_count(), 0, "the provider is not asked");

    // The new lease revalidates after a full 30 s again, not at once nor every 5 s.
    host.advance(crate::coordinator::MIN_REVALIDATE_MS);
    acquire(&client, request(&client)).unwrap();
    host.run_background_tasks();
    assert_eq!(coordinator.calls().len(), 2, "not asked again yet");

    // Past the first lease, the copy is still served: its lease started again.
    host.advance(LEASE_MS - REVALIDATE_AFTER_MS - crate::coordinator::MIN_REVALIDATE_MS);
    let later = acquire(&client, request(&client)).unwrap();
    assert_eq!(
        (later.source, later.access_token.expose()),
        (TokenSource::Memory, "fleet-1")
    );
    assert_eq!(coordinator.calls().len(), 2);
}

#[test]
fn a_forced_request_the_coordinator_cannot_answer_goes_to_the_provider_not_the_old_copy() {
    let host = TestHost::new();
    host.token(TOKEN_1);
    let (client, coordinator, _) = coordinated(&host);
    coordinator
        .answer(Ok("fleet-1"))
        .answer(Err(CoordinatorFailure::Unavailable("timed out".into())));
    acquire(&client, request(&client)).unwrap();
    let forced = acquire(
        &client,
        TokenRequest {
            force_refresh: true,
            ..request(&client)
        },
    )
    .unwrap();
    assert_eq!(
        (forced.source, forced.access_token.expose()),
        (TokenSource::IdentityProvider, "tok-1")
    );
    assert_eq!(host.request_count(), 1);
}
