//! What lives in an isolate between requests: the client (its memory tier, single-flight and
//! background refresh, shared by concurrent requests), the callers, their budgets. Built on
//! the first request.
//!
//! Background work (a token fetch, a refresh past the refresh point) goes to the `waitUntil`
//! of the request whose code started it. An isolate serves many requests at once, so there is
//! no "current request" to remember between awaits: each request passes its [`RequestScope`]
//! to the calls that may start background work ([`InRequest`]), and
//! [`WorkerHost`] reads it only while such a call runs.
//!
//! (workerd itself attaches `ctx.waitUntil` to the request whose code is running, whichever
//! request's `ctx` is called, so a wrong `ctx` went unnoticed there; the `ctx` a Worker is
//! handed is still the one its documentation promises to honour.)

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use cctoken::broker::callers::Callers;
use cctoken::broker::settings::Misconfigured;
use cctoken::cache::TokenStore;
use cctoken::coordinator::Coordinator;
use cctoken::js::{JsFetch, JsHost};
use cctoken::ports::{
    BackgroundTask, Clock, Fetch, HttpRequest, HttpResponse, Signal, Sleep, Spawn,
};
use cctoken::ConfidentialClient;
use worker::{console_error, console_log, Context, Env};

use crate::address_guard::AddressGuard;
use crate::budget_check::BudgetCheck;
use crate::config::BrokerConfig;
use crate::fleet::Fleet;
use crate::kv_cache::KvTokenStore;
use crate::kv_crypto::CacheCipher;
use crate::token_coordinator::FleetCoordinator;

thread_local! {
    static BROKER: RefCell<Option<Rc<Broker>>> = const { RefCell::new(None) };
    /// The scope of the request whose synchronous code is running right now; `None` between
    /// polls, so no request can inherit another's.
    static RUNNING: RefCell<Option<Rc<RequestScope>>> = const { RefCell::new(None) };
}

/// One request's context, as its code hands it to background work.
pub struct RequestScope {
    context: Context,
    ray: Option<String>,
}

impl RequestScope {
    /// `ray` is the request's `cf-ray` header, which names it in Cloudflare's records.
    pub fn new(context: Context, ray: Option<String>) -> Rc<Self> {
        // Only a ray's own characters reach the log, whatever a client sent.
        let ray = ray
            .map(|ray| {
                ray.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .take(64)
                    .collect::<String>()
            })
            .filter(|ray| !ray.is_empty());
        Rc::new(RequestScope { context, ray })
    }

    /// The request's `cf-ray`, when it had a usable one.
    pub fn ray(&self) -> Option<&str> {
        self.ray.as_deref()
    }

    fn ray_for_log(&self) -> &str {
        self.ray().unwrap_or("(no cf-ray)")
    }
}

/// A future polled as `scope`'s request, however many other requests run between its polls:
/// background work it starts is kept alive by that request.
pub struct InRequest<F> {
    scope: Rc<RequestScope>,
    future: Pin<Box<F>>,
}

impl<F: Future> InRequest<F> {
    /// Wraps `future` so that each of its polls runs as `scope`'s request.
    pub fn new(scope: Rc<RequestScope>, future: F) -> Self {
        InRequest {
            scope,
            future: Box::pin(future),
        }
    }
}

impl<F: Future> Future for InRequest<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        in_request(&this.scope, || this.future.as_mut().poll(cx))
    }
}

/// Runs `f` as `scope`'s request: background work it starts is kept alive by that request.
pub fn in_request<T>(scope: &Rc<RequestScope>, f: impl FnOnce() -> T) -> T {
    let outer = RUNNING.with(|slot| slot.replace(Some(Rc::clone(scope))));
    let result = f();
    RUNNING.with(|slot| *slot.borrow_mut() = outer);
    result
}

/// The broker's per-isolate state.
pub struct Broker {
    /// The app's client: isolate memory, then encrypted KV, then the fleet's coordinator,
    /// then the IdP.
    pub client: ConfidentialClient<WorkerHost>,
    /// Who may call.
    pub callers: Callers,
    /// The fleet's Durable Objects, when the deployment binds them.
    pub fleet: Option<Fleet>,
    /// Per-caller budgets: leases from the fleet.
    pub budgets: BudgetCheck,
    /// Failed authentications per client address.
    pub guard: AddressGuard,
}

/// The isolate's broker, built from `env` on first use. Configuration errors are not
/// cached, so fixing a setting takes effect without a redeploy of the code.
pub fn broker(env: &Env) -> Result<Rc<Broker>, Misconfigured> {
    if let Some(broker) = BROKER.with(|slot| slot.borrow().clone()) {
        return Ok(broker);
    }
    let BrokerConfig {
        settings,
        token_cache,
    } = BrokerConfig::from_env(env)?;
    let fetch = JsFetch::global().map_err(|e| Misconfigured::refused("fetch", e.message()))?;
    let fleet = Fleet::from_env(env);
    let store: Rc<dyn TokenStore> = Rc::new(KvTokenStore::new(
        token_cache,
        CacheCipher::new(settings.cache_key, settings.previous_cache_key),
        settings.client.expiry_buffer_ms(),
        fleet.is_some(),
    ));
    let attempt_timeout_ms = settings.client.retry_policy().attempt_timeout_ms;
    let coordinator = fleet.clone().map(|fleet| {
        Rc::new(FleetCoordinator::new(fleet, attempt_timeout_ms)) as Rc<dyn Coordinator>
    });
    let client = ConfidentialClient::with_shared_tiers(
        settings.client,
        WorkerHost::new(JsHost::new(fetch)),
        Some(store),
        coordinator,
    );
    // Callers keep getting the cached token meanwhile; the operator should still hear of it.
    client.on_refresh_error(Some(Rc::new(|error: &cctoken::Error| {
        // Runs inside the refresh task, which carries the scope of the request that started it.
        let ray = RUNNING.with(|slot| {
            slot.borrow()
                .as_ref()
                .map(|scope| scope.ray_for_log().to_owned())
        });
        console_error!(
            "background refresh started by request {} failed; the cached token is served until it expires: {error}",
            ray.as_deref().unwrap_or("(unknown)")
        );
    })));
    let broker = Rc::new(Broker {
        client,
        callers: settings.callers,
        fleet,
        budgets: BudgetCheck::default(),
        guard: AddressGuard::default(),
    });
    BROKER.with(|slot| *slot.borrow_mut() = Some(broker.clone()));
    Ok(broker)
}

/// The JS host, with background tasks handed to the `ctx.waitUntil` of the request that
/// started them, so the runtime lets them finish after its response is sent.
pub struct WorkerHost(JsHost);

impl WorkerHost {
    /// Background tasks go to the running request's `waitUntil`, or (outside any request, in
    /// a Durable Object) to the JS host.
    pub fn new(host: JsHost) -> Self {
        WorkerHost(host)
    }
}

impl Fetch for WorkerHost {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, cctoken::Error> {
        self.0.fetch(request).await
    }
}

impl Clock for WorkerHost {
    fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }
}

impl Sleep for WorkerHost {
    async fn sleep(&self, ms: u64) {
        self.0.sleep(ms).await
    }
}

impl Spawn for WorkerHost {
    fn spawn(&self, task: BackgroundTask) {
        match RUNNING.with(|slot| slot.borrow().clone()) {
            Some(scope) => {
                console_log!(
                    "token fetch in the background of request {}",
                    scope.ray_for_log()
                );
                // The task keeps the scope, so whatever it starts stays with the same request.
                scope
                    .context
                    .wait_until(InRequest::new(Rc::clone(&scope), task));
            }
            None => self.0.spawn(task),
        }
    }

    /// The JS host's promise. With the default `Waker`, requests waiting on another's fetch
    /// resume in its context and fail ("Cannot perform I/O on behalf of a different
    /// request"; tests/worker/broker.test.mjs, 50 parallel cold requests).
    fn signal(&self) -> Signal {
        self.0.signal()
    }
}
