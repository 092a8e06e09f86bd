//! What lives in an isolate between requests: the client (its memory tier, single-flight and
//! background refresh), the callers, their budgets. Built on the first request.

use std::cell::RefCell;
use std::rc::Rc;

use cctoken::cache::TokenStore;
use cctoken::js::{JsFetch, JsHost};
use cctoken::ports::{BackgroundTask, Clock, Fetch, HttpRequest, HttpResponse, Sleep, Spawn};
use cctoken::ConfidentialClient;
use worker::{console_error, Context, Env};

use crate::callers::Callers;
use crate::config::{BrokerConfig, Misconfigured};
use crate::kv_cache::KvTokenStore;
use crate::kv_crypto::CacheCipher;
use crate::rate_limit::Budgets;

thread_local! {
    static BROKER: RefCell<Option<Rc<Broker>>> = const { RefCell::new(None) };
    /// The request being served, whose `waitUntil` keeps background refreshes alive.
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
}

/// The broker's per-isolate state.
pub struct Broker {
    /// The app's client: isolate memory, then encrypted KV, then the IdP.
    pub client: ConfidentialClient<WorkerHost>,
    /// Who may call.
    pub callers: Callers,
    /// Per-caller budgets.
    pub budgets: RefCell<Budgets>,
}

/// Records the current request's context for background work.
pub fn enter_request(context: Context) {
    CONTEXT.with(|slot| *slot.borrow_mut() = Some(context));
}

/// The isolate's broker, built from `env` on first use. Configuration errors are not
/// cached, so fixing a setting takes effect without a redeploy of the code.
pub fn broker(env: &Env) -> Result<Rc<Broker>, Misconfigured> {
    if let Some(broker) = BROKER.with(|slot| slot.borrow().clone()) {
        return Ok(broker);
    }
    let config = BrokerConfig::from_env(env)?;
    let fetch = JsFetch::global().map_err(|e| Misconfigured {
        setting: "fetch",
        description: e.message().to_owned(),
    })?;
    let store: Rc<dyn TokenStore> = Rc::new(KvTokenStore::new(
        config.token_cache,
        CacheCipher::new(config.cache_key),
        config.client.expiry_buffer_ms(),
    ));
    let client =
        ConfidentialClient::with_store(config.client, WorkerHost(JsHost::new(fetch)), Some(store));
    // Callers keep getting the cached token meanwhile; the operator should still hear of it.
    client.on_refresh_error(Some(Rc::new(|error: &cctoken::Error| {
        console_error!(
            "background refresh failed; the cached token is served until it expires: {error}"
        );
    })));
    let broker = Rc::new(Broker {
        client,
        callers: config.callers,
        budgets: RefCell::new(Budgets::default()),
    });
    BROKER.with(|slot| *slot.borrow_mut() = Some(broker.clone()));
    Ok(broker)
}

/// The JS host, with background tasks handed to the request's `ctx.waitUntil` so the
/// runtime lets them finish after the response is sent.
pub struct WorkerHost(JsHost);

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
        let handed = CONTEXT.with(|slot| match slot.borrow().as_ref() {
            Some(context) => {
                context.wait_until(task);
                None
            }
            None => Some(task),
        });
        if let Some(task) = handed {
            self.0.spawn(task);
        }
    }
}
