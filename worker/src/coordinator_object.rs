//! The `Coordinator` Durable Object class. One class, three kinds of object by name:
//! - `token:v2:<hash>` (the token's KV key): acquires the token for the whole fleet with a
//!   client of its own (memory, then KV, then the identity provider, one request at a time),
//!   writes it to KV, and keeps it warm with an alarm before its refresh point while anyone
//!   still asks for it;
//! - `caller:<id>`: the caller's budgets, leased to isolates in slices;
//! - `address:<key>`: failed authentications from one client address.
//!
//! The rules are the core's ([`cctoken::broker`]); this is their I/O: storage, alarms, KV.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use cctoken::broker::address_throttle::{FailureLog, FailureVerdict, FAILURE_WINDOW_MS};
use cctoken::broker::budget_lease::{CallerLedger, LeaseRequest};
use cctoken::broker::coordination::{
    authority_from_wire, decode_request, encode_error, encode_token, wire_authority,
};
use cctoken::broker::refresh_schedule::{
    keeps_warm, refresh_at, retry_at, should_persist_request, WarmState,
};
use cctoken::cache::{CachedToken, TokenStore};
use cctoken::client::{AuthResult, TokenRequest};
use cctoken::js::{JsFetch, JsHost};
use cctoken::{ConfidentialClient, Error};
use worker::{console_error, durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::config::BrokerConfig;
use crate::kv_cache::KvTokenStore;
use crate::kv_crypto::CacheCipher;
use crate::state::WorkerHost;

const WARM: &str = "warm";
const FAILURES: &str = "failures";

/// One coordinator object (see the module docs for the three kinds).
#[durable_object]
pub struct Coordinator {
    state: State,
    env: Env,
    /// The token object's client, built on first use, and its KV store.
    client: RefCell<Option<(ConfidentialClient<WorkerHost>, Rc<KvTokenStore>)>>,
    /// The token object's keep-warm state, as last read or written.
    warm: RefCell<Option<WarmState>>,
    /// When `warm.last_requested_ms` was last written to storage.
    persisted_ms: Cell<u64>,
    /// True while this instance knows an alarm is set, so requests need not ask storage.
    alarm_pending: Cell<bool>,
    /// The caller object's budgets (memory only: an object is evicted only after sitting idle
    /// longer than a bucket takes to refill, so a restart forgets nothing that matters).
    ledger: RefCell<CallerLedger>,
    /// The address object's failures, loaded from storage on first use.
    failures: RefCell<Option<FailureLog>>,
}

impl DurableObject for Coordinator {
    fn new(state: State, env: Env) -> Self {
        Coordinator {
            state,
            env,
            client: RefCell::new(None),
            warm: RefCell::new(None),
            persisted_ms: Cell::new(0),
            alarm_pending: Cell::new(false),
            ledger: RefCell::new(CallerLedger::default()),
            failures: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let body = request.text().await?;
        match request.path().as_str() {
            "/token" => self.token(&body).await,
            "/lease" => self.lease(&body),
            "/failure" => self.failure().await,
            _ => Response::error("no such coordinator route", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm_pending.set(false);
        if let Err(error) = self.refresh_before_expiry().await {
            // The runtime retries a failed alarm (with backoff): keeping the token warm must
            // not end on a storage hiccup.
            console_error!("the token coordinator's alarm failed; the runtime retries it: {error}");
            return Err(worker::Error::RustError(error));
        }
        Response::empty()
    }
}

impl Coordinator {
    fn client(&self) -> std::result::Result<ConfidentialClient<WorkerHost>, String> {
        self.client_and_store().map(|(client, _)| client)
    }

    fn client_and_store(
        &self,
    ) -> std::result::Result<(ConfidentialClient<WorkerHost>, Rc<KvTokenStore>), String> {
        if let Some(built) = self.client.borrow().as_ref() {
            return Ok(built.clone());
        }
        let config = BrokerConfig::from_env(&self.env).map_err(|problem| problem.log_line())?;
        let settings = config.settings;
        let fetch = JsFetch::global().map_err(|e| e.message().to_owned())?;
        let store = Rc::new(KvTokenStore::new(
            config.token_cache,
            CacheCipher::new(settings.cache_key, settings.previous_cache_key),
            settings.client.expiry_buffer_ms(),
            false,
        ));
        let client = ConfidentialClient::with_store(
            settings.client,
            WorkerHost::new(JsHost::new(fetch)),
            Some(Rc::clone(&store) as Rc<dyn TokenStore>),
        );
        client.on_refresh_error(Some(Rc::new(|error: &Error| {
            console_error!("the token coordinator's background refresh failed; the cached token is served until it expires: {error}");
        })));
        *self.client.borrow_mut() = Some((client.clone(), Rc::clone(&store)));
        Ok((client, store))
    }

    /// The keep-warm state, from memory or storage. The KV store then refuses entries older
    /// than the token the object last vouched for: after a restart, a KV replica that lags (or
    /// a replayed value) must not bring back a token a forced refresh replaced.
    async fn warm_state(&self, store: &KvTokenStore) -> Result<WarmState> {
        let loaded = self.warm.borrow().clone();
        let warm = match loaded {
            Some(warm) => warm,
            None => {
                let warm = self
                    .state
                    .storage()
                    .get::<WarmState>(WARM)
                    .await?
                    .unwrap_or_default();
                *self.warm.borrow_mut() = Some(warm.clone());
                warm
            }
        };
        store.refuse_expiring_before(warm.expires_on_ms);
        Ok(warm)
    }

    async fn token(&self, body: &str) -> Result<Response> {
        let (client, store) = match self.client_and_store() {
            Ok(built) => built,
            // The isolate falls back to the identity provider (and reports the same setting).
            Err(why) => {
                return Response::error(format!("the coordinator is not configured: {why}"), 500)
            }
        };
        let request = match decode_request(body, |scopes| client.scopes(scopes)) {
            Ok(request) => request,
            // Not an answer from the provider: the isolate falls back (a version skew during a
            // deployment must not fail callers).
            Err(_) => return Response::error("not a coordinator request", 400),
        };
        let warm = self.warm_state(&store).await?;
        let asked = Asked {
            scopes: request.scopes.iter().map(str::to_owned).collect(),
            authority: wire_authority(request.authority.as_ref()),
        };
        match client.acquire_token_for_client(request).await {
            Ok(result) => {
                let now_ms = now();
                if let Err(error) = self.keep_warm(warm, asked, &result, now_ms).await {
                    console_error!("the token coordinator could not schedule its refresh: {error}");
                }
                reply((200, encode_token(&cached(&result), now_ms)))
            }
            Err(error) => reply(encode_error(&error)),
        }
    }

    /// Remembers who asked and when, and keeps an alarm before the refresh point of the token
    /// it serves, whichever way the client got it (the provider, KV, its own refresh).
    async fn keep_warm(
        &self,
        mut warm: WarmState,
        asked: Asked,
        result: &AuthResult,
        now_ms: u64,
    ) -> Result<()> {
        let storage = self.state.storage();
        let adopted = result.expires_on_ms != warm.expires_on_ms;
        let (tenant, authority) = asked.authority;
        let changed = warm.scopes != asked.scopes
            || warm.tenant != tenant
            || warm.authority != authority
            || adopted;
        warm.scopes = asked.scopes;
        warm.tenant = tenant;
        warm.authority = authority;
        warm.last_requested_ms = now_ms;
        if adopted {
            // A token from KV was issued earlier than now: its lifetime is at least this.
            warm.lifetime_ms = result.expires_on_ms.saturating_sub(now_ms);
            warm.expires_on_ms = result.expires_on_ms;
            warm.failures = 0;
            if let Some((_, store)) = self.client.borrow().as_ref() {
                store.refuse_expiring_before(warm.expires_on_ms);
            }
        }
        if changed || should_persist_request(self.persisted_ms.get(), now_ms) {
            storage.put(WARM, &warm).await?;
            self.persisted_ms.set(now_ms);
        }
        *self.warm.borrow_mut() = Some(warm);
        let unscheduled = !self.alarm_pending.get() && storage.get_alarm().await?.is_none();
        self.alarm_pending.set(true);
        if adopted || unscheduled {
            let buffer = self
                .client()
                .map(|c| c.config().expiry_buffer_ms())
                .unwrap_or_default();
            set_alarm_at(
                &storage,
                refresh_at(&cached(result), now_ms, buffer),
                now_ms,
            )
            .await?;
        }
        Ok(())
    }

    /// A token object's alarm: refresh the token before anyone has to wait for it, unless
    /// nobody asked for it during a whole lifetime; after a failure keep serving the old one
    /// and try again.
    async fn refresh_before_expiry(&self) -> std::result::Result<(), String> {
        let storage = self.state.storage();
        // Memory knows the latest request (storage hears of it at most once a minute).
        let remembered = self.warm.borrow().clone();
        let warm = match remembered {
            Some(warm) => Some(warm),
            None => storage
                .get::<WarmState>(WARM)
                .await
                .map_err(|e| e.to_string())?,
        };
        let Some(mut warm) = warm else {
            // Not a token object: an address object's alarm.
            return self.forget_old_failures().await.map_err(|e| e.to_string());
        };
        let now_ms = now();
        if !keeps_warm(warm.last_requested_ms, warm.lifetime_ms, now_ms) {
            *self.warm.borrow_mut() = None;
            return storage.delete_all().await.map_err(|e| e.to_string());
        }
        let client = self.client()?;
        let scopes = client.scopes(&warm.scopes).map_err(|e| e.to_string())?;
        // The object is named after its tenant's token: its refresh is for that tenant.
        let forced = TokenRequest {
            force_refresh: true,
            authority: authority_from_wire(warm.tenant.clone(), warm.authority.clone()),
            ..TokenRequest::new(scopes.clone())
        };
        let buffer = client.config().expiry_buffer_ms();
        let next = match client.acquire_token_for_client(forced).await {
            Ok(result) => {
                warm.failures = 0;
                warm.lifetime_ms = result.expires_on_ms.saturating_sub(now_ms);
                warm.expires_on_ms = result.expires_on_ms;
                if let Some((_, store)) = self.client.borrow().as_ref() {
                    store.refuse_expiring_before(warm.expires_on_ms);
                }
                Some(refresh_at(&cached(&result), now_ms, buffer))
            }
            Err(error) => {
                warm.failures = warm.failures.saturating_add(1);
                console_error!("the token coordinator's refresh failed (attempt {}); the current token is served until it expires: {error}", warm.failures);
                // The object's memory may be empty (it restarted): the token it last had
                // is still served from KV, so keep trying until that one expires.
                retry_at(
                    warm.failures,
                    error.retry_after_ms(),
                    now(),
                    warm.expires_on_ms,
                    buffer,
                )
            }
        };
        storage.put(WARM, &warm).await.map_err(|e| e.to_string())?;
        *self.warm.borrow_mut() = Some(warm);
        if let Some(at) = next {
            set_alarm_at(&storage, at, now())
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn lease(&self, body: &str) -> Result<Response> {
        let Ok(request) = serde_json::from_str::<LeaseRequest>(body) else {
            return Response::error("not a lease request", 400);
        };
        let grant = self.ledger.borrow_mut().grant(&request, now());
        Response::from_json(&grant)
    }

    async fn failure(&self) -> Result<Response> {
        let storage = self.state.storage();
        let loaded = self.failures.borrow().clone();
        let mut log = match loaded {
            Some(log) => log,
            None => storage
                .get::<FailureLog>(FAILURES)
                .await?
                .unwrap_or_default(),
        };
        let now_ms = now();
        let blocked_until_ms = log.record(now_ms);
        // Kept across evictions: a pause must not hand a guesser a fresh allowance. Forgotten
        // once the window has passed, so an address leaves nothing behind for long.
        storage.put(FAILURES, &log).await?;
        set_alarm_at(&storage, now_ms.saturating_add(FAILURE_WINDOW_MS), now_ms).await?;
        *self.failures.borrow_mut() = Some(log);
        Response::from_json(&FailureVerdict { blocked_until_ms })
    }

    /// The address object's alarm: its failures are deleted once none is in the window.
    async fn forget_old_failures(&self) -> Result<()> {
        let storage = self.state.storage();
        if let Some(log) = storage.get::<FailureLog>(FAILURES).await? {
            let now_ms = now();
            if log.is_stale(now_ms) {
                *self.failures.borrow_mut() = None;
                return storage.delete_all().await;
            }
            set_alarm_at(&storage, now_ms.saturating_add(FAILURE_WINDOW_MS), now_ms).await?;
        }
        Ok(())
    }
}

fn now() -> u64 {
    js_sys::Date::now() as u64
}

fn cached(result: &AuthResult) -> CachedToken {
    CachedToken {
        access_token: result.access_token.clone(),
        token_type: result.token_type.clone(),
        expires_on_ms: result.expires_on_ms,
        ext_expires_on_ms: result.ext_expires_on_ms,
        refresh_on_ms: result.refresh_on_ms,
        lease_until_ms: None,
    }
}

async fn set_alarm_at(storage: &worker::Storage, at_ms: u64, now_ms: u64) -> Result<()> {
    storage
        .set_alarm(Duration::from_millis(at_ms.saturating_sub(now_ms)))
        .await
}

fn reply((status, body): (u16, String)) -> Result<Response> {
    Ok(Response::ok(body)?.with_status(status))
}

/// What a request asked an object for, as its storage keeps it.
struct Asked {
    scopes: Vec<String>,
    /// `(tenant, authority)`, see [`wire_authority`].
    authority: (Option<String>, Option<String>),
}
