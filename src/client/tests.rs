//! The client against a scripted host: virtual time, scripted replies and faults, and
//! background tasks run by hand, so nothing really waits.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::*;
use crate::authority::TokenEndpoint;
use crate::cache::TokenStore;
use crate::cache::{DEFAULT_CACHE_CAPACITY, DEFAULT_EXPIRY_BUFFER_MS};
use crate::credential::Credential;
use crate::ports::{
    BackgroundTask, Clock, Fetch, HttpRequest, HttpResponse, LocalBoxFuture, Sleep, Spawn,
};
use crate::retry::RetryPolicy;

const START_MS: u64 = 1_800_000_000_000;
const MAX_ROUNDS: usize = 1_000_000;

enum Reply {
    Http(HttpResponse),
    /// The fetch adapter fails with this error (not a network error).
    Fails(Error),
    /// Answers once the test opens the gate.
    Gated(HttpResponse),
    NetworkError,
    Hang,
}

struct HostState {
    now_ms: Cell<u64>,
    replies: RefCell<VecDeque<Reply>>,
    requests: RefCell<Vec<HttpRequest>>,
    sleeps: RefCell<Vec<u64>>,
    /// Tasks the client spawned (fetch flights), polled round-robin with the test's future.
    spawned: RefCell<Vec<BackgroundTask>>,
    gate_open: Cell<bool>,
}

#[derive(Clone)]
struct TestHost(Rc<HostState>);

impl TestHost {
    fn new() -> Self {
        TestHost(Rc::new(HostState {
            now_ms: Cell::new(START_MS),
            replies: RefCell::new(VecDeque::new()),
            requests: RefCell::new(Vec::new()),
            sleeps: RefCell::new(Vec::new()),
            spawned: RefCell::new(Vec::new()),
            gate_open: Cell::new(false),
        }))
    }
    /// Drives `future` and the spawned tasks until `future` is done. The fakes make progress
    /// on every poll, so a bounded number of rounds means a hang is a bug.
    fn run<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..MAX_ROUNDS {
            if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
                return value;
            }
            self.poll_spawned_once();
        }
        panic!("the future did not complete: the client is stuck");
    }

    fn poll_spawned_once(&self) {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut tasks: Vec<BackgroundTask> = self.0.spawned.borrow_mut().drain(..).collect();
        tasks.retain_mut(|task| task.as_mut().poll(&mut cx).is_pending());
        let mut spawned = self.0.spawned.borrow_mut();
        let newer: Vec<BackgroundTask> = spawned.drain(..).collect();
        spawned.extend(tasks);
        spawned.extend(newer);
    }
    fn reply(&self, reply: Reply) -> &Self {
        self.0.replies.borrow_mut().push_back(reply);
        self
    }
    fn token(&self, body: &str) -> &Self {
        self.reply(Reply::Http(HttpResponse::new(200, body)))
    }
    fn status(&self, status: u16, headers: &[(&str, &str)], body: &str) -> &Self {
        let mut response = HttpResponse::new(status, body);
        for (name, value) in headers {
            response.headers.push((name.to_string(), value.to_string()));
        }
        self.reply(Reply::Http(response))
    }
    fn advance(&self, ms: u64) {
        self.0.now_ms.set(self.0.now_ms.get() + ms);
    }
    fn request_count(&self) -> usize {
        self.0.requests.borrow().len()
    }
    fn run_background_tasks(&self) {
        for _ in 0..MAX_ROUNDS {
            if self.0.spawned.borrow().is_empty() {
                return;
            }
            self.poll_spawned_once();
        }
        panic!("background tasks did not finish");
    }
}

/// Pending `n` times (waking itself each time), then ready: lets concurrent callers
/// interleave without real time passing.
struct Yield(u32);

impl Future for Yield {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl Fetch for TestHost {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        self.0.requests.borrow_mut().push(request);
        let reply = self
            .0
            .replies
            .borrow_mut()
            .pop_front()
            .expect("a request nobody scripted a reply for");
        Yield(1).await;
        match reply {
            Reply::Http(response) => Ok(response),
            Reply::Gated(response) => {
                std::future::poll_fn(|cx| {
                    if self.0.gate_open.get() {
                        Poll::Ready(())
                    } else {
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                })
                .await;
                Ok(response)
            }
            Reply::NetworkError => Err(Error::network("connection reset")),
            Reply::Fails(error) => Err(error),
            Reply::Hang => std::future::pending().await,
        }
    }
}

impl Clock for TestHost {
    fn now_ms(&self) -> u64 {
        self.0.now_ms.get()
    }
}

impl Sleep for TestHost {
    async fn sleep(&self, ms: u64) {
        // A timer fires only after many polls, so a racing fetch that is ready after a few
        // (or after the test opens a gate) wins; a hung one loses. No real time passes.
        Yield(1_000).await;
        self.0.sleeps.borrow_mut().push(ms);
        self.advance(ms);
    }
}

impl Spawn for TestHost {
    fn spawn(&self, task: BackgroundTask) {
        self.0.spawned.borrow_mut().push(task);
    }
}

const TOKEN_1: &str =
    r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":3600,"ext_expires_in":7200}"#;
const TOKEN_2: &str = r#"{"access_token":"tok-2","token_type":"Bearer","expires_in":3600}"#;
const SCOPE: &str = "api://x/.default";

fn config() -> ClientConfig {
    ClientConfig::new(
        "app-id",
        TokenEndpoint::from_authority("http://127.0.0.1:9/tenant-1").unwrap(),
        Credential::client_secret("pw").unwrap(),
    )
    .unwrap()
}

/// Where a request for the client's own tenant goes.
fn own_target(client: &ConfidentialClient<TestHost>) -> Target {
    Target::of(client.config(), &request(client)).unwrap()
}

fn client(host: &TestHost) -> ConfidentialClient<TestHost> {
    ConfidentialClient::new(config(), host.clone())
}

fn request(client: &ConfidentialClient<TestHost>) -> TokenRequest {
    TokenRequest::new(client.scopes([SCOPE]).unwrap())
}

fn acquire(
    client: &ConfidentialClient<TestHost>,
    request: TokenRequest,
) -> Result<AuthResult, Error> {
    client.host().run(client.acquire_token_for_client(request))
}

#[test]
fn second_call_is_served_from_memory_until_the_buffer() {
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_2);
    let client = client(&host);

    let first = acquire(&client, request(&client)).unwrap();
    assert_eq!(first.source, TokenSource::IdentityProvider);
    assert!(!first.from_cache());
    assert_eq!(first.access_token.expose(), "tok-1");
    assert_eq!(first.expires_on_ms, START_MS + 3_600_000);
    assert_eq!(first.ext_expires_on_ms, START_MS + 7_200_000);
    assert_eq!(first.scopes, vec![SCOPE.to_owned()]);
    assert_eq!(first.tenant_id.as_deref(), Some("tenant-1"));
    let correlation_id = first.correlation_id.clone().unwrap();
    assert_eq!(correlation_id.len(), 36);

    let sent = host.0.requests.borrow()[0].clone();
    assert_eq!(sent.url, "http://127.0.0.1:9/tenant-1/oauth2/v2.0/token");
    assert_eq!(
        sent.header("client-request-id"),
        Some(correlation_id.as_str())
    );
    assert_eq!(
        sent.body,
        "client_id=app-id&scope=api%3A%2F%2Fx%2F.default&client_secret=pw&grant_type=client_credentials"
    );
    assert_eq!(sent.timeout_ms, 10_000);

    host.advance(3_600_000 - DEFAULT_EXPIRY_BUFFER_MS - 1);
    let second = acquire(&client, request(&client)).unwrap();
    assert_eq!(second.source, TokenSource::Memory);
    assert!(second.from_cache());
    assert_eq!(second.expires_on_ms, first.expires_on_ms);
    assert_eq!(host.request_count(), 1);

    host.advance(1);
    let third = acquire(&client, request(&client)).unwrap();
    assert_eq!(third.source, TokenSource::IdentityProvider);
    assert_eq!(third.access_token.expose(), "tok-2");
    assert_eq!(host.request_count(), 2);
}

/// Starts `count` concurrent calls, polls each once so all are waiting on the gated reply,
/// then opens the gate and collects the results.
fn concurrently(
    host: &TestHost,
    client: &ConfidentialClient<TestHost>,
    count: usize,
) -> Vec<Result<AuthResult, Error>> {
    let mut calls: Vec<_> = (0..count)
        .map(|_| Box::pin(client.acquire_token_for_client(request(client))))
        .collect();
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for call in &mut calls {
        assert!(call.as_mut().poll(&mut cx).is_pending());
    }
    host.poll_spawned_once();
    assert_eq!(
        host.request_count(),
        1,
        "one request under way for all callers"
    );
    host.0.gate_open.set(true);
    host.run(futures::future::join_all(calls))
}

#[test]
fn concurrent_cold_calls_share_one_request() {
    let host = TestHost::new();
    host.reply(Reply::Gated(HttpResponse::new(200, TOKEN_1)));
    let client = client(&host);
    let results = concurrently(&host, &client, 100);
    assert_eq!(host.request_count(), 1);
    assert!(results
        .iter()
        .all(|r| r.as_ref().unwrap().access_token.expose() == "tok-1"));
    assert!(client.inner.in_flight.borrow().is_empty());
}

/// A host may cut a fetch's task off without dropping it (a Worker ends a `waitUntil` about
/// 30 s after its response), leaving its flight under way for ever. Until the flight is past
/// the total timeout plus a margin, callers still join it; after, they fetch anew, and the
/// new flight replaces the lost one's entry.
#[test]
fn a_flight_whose_task_was_lost_is_not_joined_once_stale() {
    let host = TestHost::new();
    let client = client(&host);
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut lost = Box::pin(client.acquire_token_for_client(request(&client)));
    assert!(lost.as_mut().poll(&mut cx).is_pending());
    let lost_task = host.0.spawned.borrow_mut().pop().expect("the fetch's task");
    let mut joined = Box::pin(client.acquire_token_for_client(request(&client)));
    assert!(joined.as_mut().poll(&mut cx).is_pending());
    assert!(
        host.0.spawned.borrow().is_empty(),
        "joined, no fetch of its own"
    );
    // At the limit it is still joined; a moment later it is not.
    host.advance(RetryPolicy::default().total_timeout_ms + STALE_FLIGHT_MARGIN_MS);
    let mut at_the_limit = Box::pin(client.acquire_token_for_client(request(&client)));
    assert!(at_the_limit.as_mut().poll(&mut cx).is_pending());
    assert!(host.0.spawned.borrow().is_empty(), "still joined");
    host.advance(1);
    host.token(TOKEN_1);
    let fresh = host.run(client.acquire_token_for_client(request(&client)));
    assert_eq!(fresh.unwrap().access_token.expose(), "tok-1");
    assert_eq!(host.request_count(), 1);
    drop(lost_task);
    assert!(client.inner.in_flight.borrow().is_empty());
}

#[test]
fn concurrent_callers_share_one_failure_and_nothing_sticks() {
    let host = TestHost::new();
    host.reply(Reply::Gated(HttpResponse::new(
        401,
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#,
    )));
    let client = client(&host);
    let results = concurrently(&host, &client, 10);
    assert_eq!(host.request_count(), 1);
    for result in &results {
        let error = result.as_ref().unwrap_err();
        assert_eq!(error.code(), "invalid_client");
        assert!(error.hint().unwrap().contains("Secret ID"));
        assert!(error.correlation_id().is_some());
    }
    assert!(client.inner.in_flight.borrow().is_empty());
    // A definitive refusal is remembered for a while; after that, nothing is left of it.
    host.advance(REFUSAL_MEMORY_MS);
    host.token(TOKEN_1);
    assert!(
        acquire(&client, request(&client)).is_ok(),
        "a failure leaves no stuck entry"
    );
}

#[test]
fn retries_transient_failures_then_succeeds() {
    let host = TestHost::new();
    host.reply(Reply::NetworkError)
        .status(503, &[("retry-after", "2")], "")
        .token(TOKEN_1);
    let client = client(&host);
    let result = acquire(&client, request(&client)).unwrap();
    assert_eq!(result.access_token.expose(), "tok-1");
    assert_eq!(host.request_count(), 3);
    let sleeps = host.0.sleeps.borrow().clone();
    assert_eq!(sleeps.len(), 2);
    assert!(
        sleeps[0] <= 500,
        "full jitter under the first cap: {sleeps:?}"
    );
    assert_eq!(sleeps[1], 2_000, "Retry-After honoured");
}

#[test]
fn gives_up_after_two_retries_with_the_last_error() {
    let host = TestHost::new();
    host.status(500, &[], "")
        .status(502, &[], "")
        .status(504, &[], "");
    let client = client(&host);
    let error = acquire(&client, request(&client)).unwrap_err();
    assert_eq!(host.request_count(), 3);
    assert_eq!(error.code(), "server_error");
    assert_eq!(error.status(), Some(504));
}

#[test]
fn never_retries_client_errors_or_bad_responses() {
    for (status, body) in [
        (400, r#"{"error":"invalid_scope","error_codes":[70011]}"#),
        // A gateway (the broker) passing on the IdP's verdict: the status says "upstream",
        // the OAuth2 error says retrying cannot help.
        (
            502,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215"}"#,
        ),
        (503, r#"{"error":"unauthorized_client"}"#),
        (200, "<html>"),
        (200, r#"{"access_token":"x","expires_in":0}"#),
    ] {
        let host = TestHost::new();
        host.status(status, &[], body);
        let client = client(&host);
        assert!(acquire(&client, request(&client)).is_err());
        assert_eq!(host.request_count(), 1, "{body}");
        assert!(client.inner.cache.borrow().is_empty(), "nothing cached");
    }
}

#[test]
fn hung_attempts_time_out_and_the_total_deadline_holds() {
    let host = TestHost::new();
    host.reply(Reply::Hang)
        .reply(Reply::Hang)
        .reply(Reply::Hang);
    let client = client(&host);
    let error = acquire(&client, request(&client)).unwrap_err();
    assert_eq!(error.code(), "timeout");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    let elapsed = host.now_ms() - START_MS;
    assert!(elapsed <= 30_000, "total deadline respected: {elapsed} ms");
    let timeouts: Vec<u64> = host
        .0
        .requests
        .borrow()
        .iter()
        .map(|r| r.timeout_ms)
        .collect();
    assert_eq!(timeouts[0], 10_000);
    assert!(timeouts.iter().all(|t| *t <= 10_000));
}

#[test]
fn throttling_beyond_the_deadline_fails_fast_until_the_window_ends() {
    let host = TestHost::new();
    host.status(
        429,
        &[("retry-after", "120")],
        r#"{"error":"temporarily_unavailable","error_codes":[50196]}"#,
    );
    let client = client(&host);
    let error = acquire(&client, request(&client)).unwrap_err();
    assert_eq!(error.code(), "throttled");
    assert_eq!(error.retry_after_ms(), Some(120_000));
    assert_eq!(host.request_count(), 1);

    host.advance(60_000);
    let error = acquire(&client, request(&client)).unwrap_err();
    assert_eq!(error.code(), "throttled");
    assert_eq!(error.retry_after_ms(), Some(60_000));
    assert_eq!(host.request_count(), 1, "failing fast, no request");

    host.advance(60_000);
    host.token(TOKEN_1);
    assert!(acquire(&client, request(&client)).is_ok());
}

#[test]
fn a_fresh_token_is_served_while_throttled_and_results_say_until_when() {
    let host = TestHost::new();
    host.token(TOKEN_1);
    host.status(429, &[("retry-after", "600")], "");
    let client = client(&host);
    let cached = acquire(&client, request(&client)).unwrap();
    assert_eq!(
        cached.served_as_is_until_ms,
        cached.expires_on_ms - DEFAULT_EXPIRY_BUFFER_MS
    );
    let forced = TokenRequest {
        force_refresh: true,
        ..request(&client)
    };
    assert_eq!(acquire(&client, forced).unwrap_err().code(), "throttled");
    // Throttling stops trips to the identity provider; the fresh cached token is still served.
    assert_eq!(
        acquire(&client, request(&client)).unwrap().source,
        TokenSource::Memory
    );
}

#[test]
fn background_refresh_serves_the_cached_token_and_replaces_it() {
    let host = TestHost::new();
    host.token(r#"{"access_token":"tok-1","expires_in":3600,"refresh_in":1800}"#);
    let client = client(&host);
    let first = acquire(&client, request(&client)).unwrap();
    assert_eq!(first.refresh_on_ms, Some(START_MS + 1_800_000));

    host.advance(1_800_000);
    host.token(TOKEN_2);
    let during = acquire(&client, request(&client)).unwrap();
    assert_eq!(during.access_token.expose(), "tok-1", "served at once");
    assert_eq!(during.source, TokenSource::Memory);
    assert_eq!(host.request_count(), 1, "the refresh has not run yet");
    let again = acquire(&client, request(&client)).unwrap();
    assert_eq!(again.access_token.expose(), "tok-1");

    host.run_background_tasks();
    assert_eq!(host.request_count(), 2, "one refresh per key");
    let after = acquire(&client, request(&client)).unwrap();
    assert_eq!(after.access_token.expose(), "tok-2");
    assert_eq!(after.source, TokenSource::Memory);
}

#[test]
fn the_memory_tier_alone_answers_exactly_what_acquire_would_from_memory() {
    let host = TestHost::new();
    host.token(r#"{"access_token":"tok-1","expires_in":3600,"refresh_in":1800}"#);
    let client = client(&host);
    assert!(
        client.acquire_from_memory(&request(&client)).is_none(),
        "empty"
    );
    acquire(&client, request(&client)).unwrap();

    let hit = client.acquire_from_memory(&request(&client)).unwrap();
    assert_eq!(hit.access_token.expose(), "tok-1");
    assert_eq!(hit.source, TokenSource::Memory);
    let forced = TokenRequest {
        force_refresh: true,
        ..request(&client)
    };
    assert!(client.acquire_from_memory(&forced).is_none());
    let claims = TokenRequest {
        claims: Some("{}".to_owned()),
        ..request(&client)
    };
    assert!(client.acquire_from_memory(&claims).is_none());

    // Past the refresh point: served, and the one background refresh starts.
    host.advance(1_800_000);
    host.token(TOKEN_2);
    assert_eq!(
        client
            .acquire_from_memory(&request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-1"
    );
    host.run_background_tasks();
    assert_eq!(host.request_count(), 2);
    // Past the expiry buffer: nothing, as acquire would go to the identity provider.
    host.advance(3_600_000);
    assert!(client.acquire_from_memory(&request(&client)).is_none());
}

#[test]
fn failed_refresh_keeps_serving_until_the_buffer_and_reports_the_error() {
    let host = TestHost::new();
    host.token(r#"{"access_token":"tok-1","expires_in":3600,"refresh_in":600}"#);
    let client = client(&host);
    let reported = Rc::new(RefCell::new(Vec::new()));
    let sink = reported.clone();
    client.on_refresh_error(Some(Rc::new(move |e: &Error| {
        sink.borrow_mut().push(e.code().to_owned())
    })));
    acquire(&client, request(&client)).unwrap();

    host.advance(600_000);
    host.status(
        400,
        &[],
        r#"{"error":"invalid_client","error_codes":[7000222]}"#,
    );
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-1"
    );
    host.run_background_tasks();
    assert_eq!(reported.borrow().as_slice(), &["invalid_client".to_owned()]);

    // Still served, and no new refresh before the retry pause.
    host.advance(10_000);
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-1"
    );
    host.run_background_tasks();
    assert_eq!(
        host.request_count(),
        2,
        "no new refresh before the retry pause"
    );

    // Past the expiry buffer, callers see the failure.
    host.advance(3_600_000 - 610_000 - DEFAULT_EXPIRY_BUFFER_MS);
    host.status(
        400,
        &[],
        r#"{"error":"invalid_client","error_codes":[7000222]}"#,
    );
    let error = acquire(&client, request(&client)).unwrap_err();
    assert!(error.hint().unwrap().contains("expired"));
}

#[test]
fn force_refresh_skips_the_read_and_claims_skip_the_cache() {
    let host = TestHost::new();
    host.token(TOKEN_1).token(TOKEN_2);
    let client = client(&host);
    acquire(&client, request(&client)).unwrap();
    let forced = acquire(
        &client,
        TokenRequest {
            force_refresh: true,
            ..request(&client)
        },
    )
    .unwrap();
    assert_eq!(forced.access_token.expose(), "tok-2");
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-2",
        "forced token was written"
    );

    host.token(r#"{"access_token":"tok-claims","expires_in":3600}"#);
    let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#;
    let challenged = acquire(
        &client,
        TokenRequest {
            claims: Some(claims.into()),
            correlation_id: Some("c-42".into()),
            ..request(&client)
        },
    )
    .unwrap();
    assert_eq!(challenged.access_token.expose(), "tok-claims");
    assert_eq!(challenged.correlation_id.as_deref(), Some("c-42"));
    let sent = host.0.requests.borrow().last().unwrap().clone();
    assert!(sent.body.ends_with("&claims=%7B%22access_token%22%3A%7B%22nbf%22%3A%7B%22essential%22%3Atrue%2C%22value%22%3A%221%22%7D%7D%7D"));
    assert_eq!(sent.header("client-request-id"), Some("c-42"));
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-2",
        "the claims token was not cached"
    );
}

#[test]
fn serialized_cache_restores_into_a_new_client() {
    let host = TestHost::new();
    host.token(TOKEN_1);
    let first = client(&host);
    acquire(&first, request(&first)).unwrap();
    let json = first.serialize_cache();
    assert!(json.contains("tok-1"));

    let second = client(&host);
    assert_eq!(second.deserialize_cache(&json).unwrap(), 1);
    let restored = acquire(&second, request(&second)).unwrap();
    assert_eq!(restored.access_token.expose(), "tok-1");
    assert_eq!(restored.source, TokenSource::Memory);
    assert_eq!(host.request_count(), 1);
}

#[derive(Default)]
struct MemoryStore {
    tokens: RefCell<HashMap<String, CachedToken>>,
    gets: Cell<usize>,
}

impl TokenStore for MemoryStore {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Option<CachedToken>> {
        self.gets.set(self.gets.get() + 1);
        Box::pin(async move { self.tokens.borrow().get(key).cloned() })
    }
    fn put<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> LocalBoxFuture<'a, ()> {
        self.tokens
            .borrow_mut()
            .insert(key.to_owned(), token.clone());
        Box::pin(async {})
    }
}

#[test]
fn a_store_beneath_memory_is_shared_between_clients() {
    let host = TestHost::new();
    host.token(TOKEN_1);
    let store = Rc::new(MemoryStore::default());
    let shared: Rc<dyn TokenStore> = store.clone();
    let first = ConfidentialClient::with_store(config(), host.clone(), Some(shared.clone()));
    assert_eq!(
        acquire(&first, request(&first)).unwrap().source,
        TokenSource::IdentityProvider
    );
    let keys: Vec<String> = store.tokens.borrow().keys().cloned().collect();
    assert_eq!(
        keys,
        vec!["http://127.0.0.1:9/tenant-1/oauth2/v2.0/token\napp-id\napi://x/.default".to_owned()]
    );

    let second = ConfidentialClient::with_store(config(), host.clone(), Some(shared));
    let from_store = acquire(&second, request(&second)).unwrap();
    assert_eq!(from_store.source, TokenSource::Store);
    assert_eq!(from_store.access_token.expose(), "tok-1");
    let gets = store.gets.get();
    assert_eq!(
        acquire(&second, request(&second)).unwrap().source,
        TokenSource::Memory
    );
    assert_eq!(
        store.gets.get(),
        gets,
        "memory hits read nothing from the store"
    );
    assert_eq!(host.request_count(), 1);
}

#[test]
fn config_rejects_bad_client_ids() {
    let endpoint = || TokenEndpoint::from_authority("https://h/t").unwrap();
    let secret = || Credential::client_secret("pw").unwrap();
    let error = ClientConfig::new("", endpoint(), secret()).unwrap_err();
    assert_eq!(error.field(), Some("clientId"));
    let error = ClientConfig::new("a b", endpoint(), secret()).unwrap_err();
    assert_eq!(error.field(), Some("clientId"));
    assert!(ClientConfig::new(&"x".repeat(257), endpoint(), secret()).is_err());
    assert!(ClientConfig::new(&"x".repeat(256), endpoint(), secret()).is_ok());
}

#[test]
fn a_correlation_id_that_cannot_be_a_header_is_refused_before_any_request() {
    let host = TestHost::new();
    host.token(r#"{"access_token":"tok-1","expires_in":3600}"#);
    let client = client(&host);
    acquire(&client, request(&client)).unwrap();
    let injected = TokenRequest {
        correlation_id: Some("c-1\nx-injected: 1".into()),
        ..request(&client)
    };
    assert!(
        client.acquire_from_memory(&injected).is_none(),
        "the memory tier leaves a bad id to the full path, which reports it"
    );
    for bad in ["", "c-1\nx-injected: 1", "c-1\r", "naïve", &"c".repeat(257)] {
        let error = acquire(
            &client,
            TokenRequest {
                correlation_id: Some(bad.into()),
                ..request(&client)
            },
        )
        .unwrap_err();
        assert_eq!(error.field(), Some("correlationId"), "{bad:?}");
        assert!(error.message().contains("printable ASCII"));
    }
    assert_eq!(host.0.requests.borrow().len(), 1, "no request was sent");
    host.token(r#"{"access_token":"tok-2","expires_in":3600}"#);
    let fine = acquire(
        &client,
        TokenRequest {
            correlation_id: Some("c".repeat(256)),
            force_refresh: true,
            ..request(&client)
        },
    )
    .unwrap();
    assert_eq!(
        fine.correlation_id.as_deref(),
        Some("c".repeat(256).as_str())
    );
}

/// Starts `request` and polls it once, so its fetch is under way when the test goes on.
fn started<'a>(
    host: &TestHost,
    client: &'a ConfidentialClient<TestHost>,
    request: TokenRequest,
) -> Pin<Box<impl Future<Output = Result<AuthResult, Error>> + 'a>> {
    let mut call = Box::pin(client.acquire_token_for_client(request));
    let waker = futures::task::noop_waker();
    assert!(call
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    host.poll_spawned_once();
    call
}

fn forced(client: &ConfidentialClient<TestHost>) -> TokenRequest {
    TokenRequest {
        force_refresh: true,
        ..request(client)
    }
}

#[test]
fn a_forced_request_never_joins_a_plain_fetch_under_way() {
    let host = TestHost::new();
    host.reply(Reply::Gated(HttpResponse::new(200, TOKEN_1)))
        .token(TOKEN_2);
    let client = client(&host);
    let plain = started(&host, &client, request(&client));
    assert_eq!(host.request_count(), 1);
    let forced_call = started(&host, &client, forced(&client));
    assert_eq!(host.request_count(), 2, "the forced request sent its own");
    host.0.gate_open.set(true);
    let (plain, forced) = host.run(futures::future::join(plain, forced_call));
    assert_eq!(plain.unwrap().access_token.expose(), "tok-1");
    let forced = forced.unwrap();
    assert_eq!(forced.access_token.expose(), "tok-2");
    assert_eq!(forced.source, TokenSource::IdentityProvider);
}

#[test]
fn plain_requests_join_a_forced_fetch_and_forced_ones_share_it() {
    let host = TestHost::new();
    host.reply(Reply::Gated(HttpResponse::new(200, TOKEN_1)));
    let client = client(&host);
    let first = started(&host, &client, forced(&client));
    let second = started(&host, &client, forced(&client));
    let plain = started(&host, &client, request(&client));
    assert_eq!(host.request_count(), 1);
    host.0.gate_open.set(true);
    let results = host.run(futures::future::join3(first, second, plain));
    for result in [results.0, results.1, results.2] {
        assert_eq!(result.unwrap().access_token.expose(), "tok-1");
    }
}

#[test]
fn extra_body_parameters_cannot_replace_the_clients_own() {
    let host = TestHost::new();
    let client = client(&host);
    for name in [
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
        "scope",
        "grant_type",
        "claims",
        "",
    ] {
        let error = acquire(
            &client,
            TokenRequest {
                extra_body: vec![(name.to_owned(), "x".to_owned())],
                ..request(&client)
            },
        )
        .unwrap_err();
        assert_eq!(error.code(), "invalid_config", "{name}");
        assert_eq!(error.field(), Some("extraBodyParameters"));
    }
    assert_eq!(host.request_count(), 0);
}

#[test]
fn requests_with_extra_body_parameters_bypass_the_shared_cache() {
    let host = TestHost::new();
    host.token(TOKEN_1)
        .token(TOKEN_2)
        .token(r#"{"access_token":"tok-3","expires_in":3600}"#);
    let client = client(&host);
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-1"
    );
    let with_extra = || TokenRequest {
        extra_body: vec![("resource_tenant".to_owned(), "t-9".to_owned())],
        ..request(&client)
    };
    let extra = acquire(&client, with_extra()).unwrap();
    assert_eq!(extra.access_token.expose(), "tok-2");
    assert_eq!(extra.source, TokenSource::IdentityProvider);
    assert!(host.0.requests.borrow()[1]
        .body
        .ends_with("&grant_type=client_credentials&resource_tenant=t-9"));
    assert_eq!(
        acquire(&client, with_extra())
            .unwrap()
            .access_token
            .expose(),
        "tok-3",
        "never answered from the cache"
    );
    let plain = acquire(&client, request(&client)).unwrap();
    assert_eq!(plain.access_token.expose(), "tok-1", "never written to it");
    assert_eq!(plain.source, TokenSource::Memory);
    assert_eq!(host.request_count(), 3);
}

const INVALID_SCOPE: &str = r#"{"error":"invalid_scope","error_description":"AADSTS70011: The provided request must include a 'scope' input parameter.","error_codes":[70011]}"#;

#[test]
fn a_definitive_refusal_is_remembered_for_its_scope_set_only() {
    let host = TestHost::new();
    host.status(400, &[], INVALID_SCOPE);
    let client = client(&host);
    let first = acquire(&client, request(&client)).unwrap_err();
    assert_eq!(first.code(), "invalid_scope");

    host.advance(REFUSAL_MEMORY_MS - 1);
    for again in [request(&client), forced(&client)] {
        let error = acquire(&client, again).unwrap_err();
        assert_eq!(error, first, "the same error, from memory");
    }
    assert_eq!(host.request_count(), 1);

    // Other scopes are not affected.
    host.token(TOKEN_2);
    let other = TokenRequest::new(client.scopes(["api://y/.default"]).unwrap());
    assert_eq!(
        acquire(&client, other).unwrap().access_token.expose(),
        "tok-2"
    );

    host.advance(1);
    host.token(TOKEN_1);
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-1",
        "asked again once the window ends"
    );
    assert_eq!(host.request_count(), 3);
}

#[test]
fn transient_failures_are_not_remembered_and_clear_cache_forgets_refusals() {
    let host = TestHost::new();
    let client = client(&host);
    host.status(503, &[], "")
        .status(503, &[], "")
        .status(503, &[], "");
    assert_eq!(
        acquire(&client, request(&client)).unwrap_err().code(),
        "temporarily_unavailable"
    );
    host.token(TOKEN_1);
    assert!(acquire(&client, request(&client)).is_ok());

    host.status(401, &[], r#"{"error":"invalid_client"}"#);
    assert!(acquire(&client, forced(&client)).is_err());
    client.clear_cache();
    host.token(TOKEN_2);
    assert_eq!(
        acquire(&client, request(&client))
            .unwrap()
            .access_token
            .expose(),
        "tok-2"
    );
    assert_eq!(host.request_count(), 6);
}

#[test]
fn a_forced_refresh_parameter_goes_with_forced_requests_only_and_the_token_is_cached() {
    let host = TestHost::new();
    host.token(TOKEN_1)
        .token(r#"{"access_token":"tok-2","expires_in":3600,"refresh_in":1800}"#)
        .token(r#"{"access_token":"tok-3","expires_in":3600}"#);
    let client = ConfidentialClient::new(
        config().with_forced_refresh_parameter("force_refresh", "true"),
        host.clone(),
    );
    acquire(&client, request(&client)).unwrap();
    let forced = acquire(&client, forced(&client)).unwrap();
    assert_eq!(forced.access_token.expose(), "tok-2");
    let bodies: Vec<String> = host
        .0
        .requests
        .borrow()
        .iter()
        .map(|r| r.body.clone())
        .collect();
    assert!(!bodies[0].contains("force_refresh"), "{}", bodies[0]);
    assert!(
        bodies[1].ends_with("&grant_type=client_credentials&force_refresh=true"),
        "{}",
        bodies[1]
    );
    let plain = acquire(&client, request(&client)).unwrap();
    assert_eq!(
        plain.access_token.expose(),
        "tok-2",
        "the forced token is cached"
    );
    assert_eq!(plain.source, TokenSource::Memory);

    // Past the refresh point, the client's own refresh does not force the server.
    host.advance(1_800_001);
    assert_eq!(
        acquire(&client, request(&client)).unwrap().source,
        TokenSource::Memory
    );
    host.run_background_tasks();
    assert_eq!(host.request_count(), 3);
    assert!(!host.0.requests.borrow()[2].body.contains("force_refresh"));
}

#[test]
fn a_forced_request_does_not_join_a_background_refresh() {
    let host = TestHost::new();
    host.token(r#"{"access_token":"tok-1","expires_in":3600,"refresh_in":60}"#)
        .reply(Reply::Gated(HttpResponse::new(200, TOKEN_2)))
        .token(r#"{"access_token":"tok-3","expires_in":3600}"#);
    let client = client(&host);
    acquire(&client, request(&client)).unwrap();
    host.advance(61_000);
    // A memory hit past the refresh point starts the background refresh (gated).
    assert_eq!(
        acquire(&client, request(&client)).unwrap().source,
        TokenSource::Memory
    );
    host.poll_spawned_once();
    assert_eq!(host.request_count(), 2);
    let forced_call = started(&host, &client, forced(&client));
    assert_eq!(host.request_count(), 3, "the forced request sent its own");
    host.0.gate_open.set(true);
    assert_eq!(
        host.run(forced_call).unwrap().access_token.expose(),
        "tok-3"
    );
    host.run_background_tasks();
}

/// A token past its refresh point, whose background refresh the test scripts.
fn client_past_refresh_point(host: &TestHost) -> ConfidentialClient<TestHost> {
    host.token(r#"{"access_token":"tok-1","expires_in":3600,"refresh_in":600}"#);
    let client = client(host);
    acquire(&client, request(&client)).unwrap();
    host.advance(600_000);
    client
}

fn served(client: &ConfidentialClient<TestHost>) -> String {
    let result = acquire(client, request(client)).unwrap();
    assert_eq!(result.source, TokenSource::Memory);
    client.host().run_background_tasks();
    result.access_token.expose().to_owned()
}

#[test]
fn a_failed_background_refresh_is_tried_again_after_the_retry_pause() {
    let host = TestHost::new();
    let client = client_past_refresh_point(&host);
    host.status(400, &[], r#"{"error":"invalid_client"}"#);
    assert_eq!(served(&client), "tok-1");
    assert_eq!(host.request_count(), 2);

    host.advance(REFRESH_RETRY_MS - 1);
    assert_eq!(served(&client), "tok-1");
    assert_eq!(host.request_count(), 2, "not before the pause");

    host.advance(1);
    host.token(TOKEN_2);
    assert_eq!(
        served(&client),
        "tok-1",
        "the refresh runs in the background"
    );
    assert_eq!(
        host.request_count(),
        3,
        "tried again once the pause is over"
    );
    assert_eq!(served(&client), "tok-2");
}

#[test]
fn a_failed_background_refresh_waits_for_a_longer_retry_after() {
    let host = TestHost::new();
    let client = client_past_refresh_point(&host);
    // Longer than the total deadline: the attempt gives up at once with that Retry-After.
    host.status(429, &[("retry-after", "120")], "");
    assert_eq!(served(&client), "tok-1");
    assert_eq!(host.request_count(), 2);

    host.advance(119_999);
    assert_eq!(served(&client), "tok-1");
    assert_eq!(
        host.request_count(),
        2,
        "Retry-After outlasts the 30 s pause"
    );

    host.advance(1);
    host.token(TOKEN_2);
    served(&client);
    assert_eq!(host.request_count(), 3);
    assert_eq!(served(&client), "tok-2");
}

#[test]
fn the_documented_defaults_and_what_the_config_returns() {
    assert_eq!(DEFAULT_EXPIRY_BUFFER_MS, 300_000, "README: default 300 s");
    assert_eq!(DEFAULT_CACHE_CAPACITY, 1_000, "README: default 1000");
    let policy = RetryPolicy {
        max_retries: 5,
        ..RetryPolicy::default()
    };
    let config = config()
        .with_expiry_buffer_ms(7_000)
        .with_retry_policy(policy);
    assert_eq!(config.client_id().as_str(), "app-id");
    assert_eq!(config.expiry_buffer_ms(), 7_000);
    assert_eq!(config.retry_policy(), &policy);
    assert_eq!(
        config.token_endpoint().url(),
        "http://127.0.0.1:9/tenant-1/oauth2/v2.0/token"
    );
}

#[test]
fn a_reply_that_echoes_the_configured_secret_is_withheld() {
    const SECRET: &str = "s3cret-value-0123456789~abc";
    let host = TestHost::new();
    host.status(
        403,
        &[],
        &format!("<p>Blocked by policy. Body: {SECRET}</p>"),
    );
    let config = ClientConfig::new(
        "app-id",
        TokenEndpoint::from_authority("http://127.0.0.1:9/tenant-1").unwrap(),
        Credential::client_secret(SECRET).unwrap(),
    )
    .unwrap();
    let client = ConfidentialClient::new(config, host.clone());
    let error = acquire(&client, request(&client)).unwrap_err();
    assert!(error.message().contains("withheld"), "{error}");
    assert!(!format!("{error} {error:?}").contains(&SECRET[..16]));
}

#[test]
fn fetch_errors_other_than_network_errors_are_not_retried() {
    let host = TestHost::new();
    host.reply(Reply::Fails(Error::invalid_response(
        "the reply is larger than 1 MiB",
    )));
    let client = client(&host);
    let error = acquire(&client, request(&client)).unwrap_err();
    assert_eq!(error.code(), "invalid_response");
    assert_eq!(host.request_count(), 1);
}

#[test]
fn a_background_refresh_takes_a_fresher_token_from_the_store_and_a_correlation_id_of_its_own() {
    let host = TestHost::new();
    host.token(r#"{"access_token":"tok-1","expires_in":3600,"refresh_in":600}"#);
    let store = Rc::new(MemoryStore::default());
    let shared: Rc<dyn TokenStore> = store.clone();
    let client = ConfidentialClient::with_store(config(), host.clone(), Some(shared.clone()));
    acquire(&client, request(&client)).unwrap();

    // Past the refresh point the stored token (the same one) is not taken: the IdP is asked,
    // with a correlation id that is not the caller's.
    host.advance(600_000);
    host.token(r#"{"access_token":"tok-2","expires_in":3600,"refresh_in":600}"#);
    let hit = acquire(
        &client,
        TokenRequest {
            correlation_id: Some("caller-7".into()),
            ..request(&client)
        },
    )
    .unwrap();
    assert_eq!(hit.correlation_id.as_deref(), Some("caller-7"));
    host.run_background_tasks();
    assert_eq!(host.request_count(), 2);
    let sent = host.0.requests.borrow()[1].clone();
    assert_ne!(sent.header("client-request-id"), Some("caller-7"));
    assert_eq!(sent.header("client-request-id").map(str::len), Some(36));

    // Another client sharing the store refreshed meanwhile: the next refresh takes its token.
    host.advance(600_000);
    let fresher = CachedToken::issued(
        AccessToken::new("tok-from-peer"),
        "Bearer".into(),
        host.now_ms(),
        3600,
        None,
        None,
    );
    pollster::block_on(
        shared.put(
            &client
                .inner
                .store_key(&request(&client).scopes, &own_target(&client)),
            &fresher,
        ),
    );
    assert_eq!(served(&client), "tok-2");
    assert_eq!(host.request_count(), 2, "no IdP request");
    assert_eq!(served(&client), "tok-from-peer");
}

#[test]
fn a_stored_token_past_its_refresh_point_is_not_served_from_the_store() {
    let host = TestHost::new();
    let store = Rc::new(MemoryStore::default());
    let shared: Rc<dyn TokenStore> = store.clone();
    let client = ConfidentialClient::with_store(config(), host.clone(), Some(shared.clone()));
    let due = CachedToken::issued(
        AccessToken::new("tok-due"),
        "Bearer".into(),
        host.now_ms() - 700_000,
        3600,
        None,
        Some(600),
    );
    pollster::block_on(
        shared.put(
            &client
                .inner
                .store_key(&request(&client).scopes, &own_target(&client)),
            &due,
        ),
    );
    host.token(TOKEN_1);
    let result = acquire(&client, request(&client)).unwrap();
    assert_eq!(result.access_token.expose(), "tok-1");
    assert_eq!(result.source, TokenSource::IdentityProvider);
}

#[test]
fn refusals_are_bounded_like_the_cache_and_keep_the_unexpired_ones() {
    let host = TestHost::new();
    let client = ConfidentialClient::new(config().with_cache_capacity(2), host.clone());
    let scoped = |scope: &str| TokenRequest::new(client.scopes([scope]).unwrap());
    let refuse = |scope: &str| {
        host.status(400, &[], INVALID_SCOPE);
        assert_eq!(
            acquire(&client, scoped(scope)).unwrap_err().code(),
            "invalid_scope"
        );
    };
    refuse("api://a/.default");
    host.advance(REFUSAL_MEMORY_MS - 10_000);
    refuse("api://b/.default");
    assert_eq!(host.request_count(), 2);
    // Both are remembered while the map is at capacity.
    for scope in ["api://a/.default", "api://b/.default"] {
        assert!(acquire(&client, scoped(scope)).is_err());
    }
    assert_eq!(host.request_count(), 2);

    // The moment a's refusal ends, a third refusal makes room by dropping it, not b's.
    host.advance(10_000);
    refuse("api://c/.default");
    assert_eq!(host.request_count(), 3);
    assert!(acquire(&client, scoped("api://b/.default")).is_err());
    assert!(acquire(&client, scoped("api://c/.default")).is_err());
    assert_eq!(host.request_count(), 3, "b and c are still remembered");
    assert_eq!(
        client.inner.refused.borrow().len(),
        2,
        "never more than the capacity"
    );
}

mod broker_tenants;
mod capabilities;
mod coordinated;
mod stale_store;
mod tenants;
