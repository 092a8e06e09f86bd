//! The fleet's Durable Objects, as the isolate calls them: one `POST` to a named object,
//! JSON in and out. A failed call is remembered for `/healthz` and read by the caller as
//! "coordination unavailable": every fleet decision has a per-isolate fallback.

use std::cell::Cell;
use std::pin::pin;

use cctoken::js::Timer;
use futures_util::future::{select, Either};
use worker::{Env, Method, ObjectNamespace, Request, RequestInit};

/// The binding of the `Coordinator` class.
pub const BINDING: &str = "COORDINATOR";
/// How long a budget or address object may take: they answer from memory (or one storage
/// write), so a slower one is failing, and the isolate decides on its own instead.
pub const OBJECT_TIMEOUT_MS: u64 = 5_000;
/// How long after a failed call `/healthz` still reports it.
const FAILURE_REPORTED_MS: f64 = 60_000.0;

thread_local! {
    /// When a call to a coordinator last failed in this isolate.
    static LAST_FAILURE_MS: Cell<Option<f64>> = const { Cell::new(None) };
}

/// The `COORDINATOR` namespace, when the deployment binds one.
#[derive(Clone)]
pub struct Fleet {
    namespace: ObjectNamespace,
}

impl Fleet {
    /// The fleet of this deployment, or `None` (an older `wrangler.toml`): the broker then
    /// coordinates within each isolate only.
    pub fn from_env(env: &Env) -> Option<Self> {
        // A missing binding reads as undefined; anything else bound under the name is the
        // operator's to fix, and calls to it fail (and are reported) like any other.
        let bound = js_sys::Reflect::get(env, &BINDING.into()).ok()?;
        if bound.is_undefined() || bound.is_null() {
            return None;
        }
        env.durable_object(BINDING)
            .ok()
            .map(|namespace| Fleet { namespace })
    }

    /// Sends `body` to `path` of the object named `name`; the reply's status and text, or
    /// why there is none. A call unanswered after `timeout_ms` fails: an object that hangs
    /// must not hold its callers (and everyone sharing their flight) for ever.
    pub async fn post(
        &self,
        name: &str,
        path: &str,
        body: String,
        timeout_ms: u64,
    ) -> Result<(u16, String), String> {
        let call = pin!(self.send(name, path, body));
        let outcome = match select(call, pin!(Timer::start(timeout_ms))).await {
            Either::Left((outcome, _)) => outcome.map_err(|error| error.to_string()),
            Either::Right(_) => Err(format!("no answer within {timeout_ms} ms")),
        };
        if outcome.is_err() {
            LAST_FAILURE_MS.with(|last| last.set(Some(js_sys::Date::now())));
        }
        outcome
    }

    async fn send(&self, name: &str, path: &str, body: String) -> worker::Result<(u16, String)> {
        let stub = self.namespace.id_from_name(name)?.get_stub()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let request = Request::new_with_init(&format!("https://coordinator{path}"), &init)?;
        let mut response = stub.fetch_with_request(request).await?;
        let status = response.status_code();
        Ok((status, response.text().await?))
    }
}

/// What `/healthz` says about coordination in this isolate.
pub fn coordination_status(env: &Env) -> String {
    if Fleet::from_env(env).is_none() {
        return format!("off: the {BINDING} Durable Object binding is missing, so each isolate acquires and budgets on its own (add it to wrangler.toml as the README's \"Deploying\" section shows)");
    }
    let failed_recently = LAST_FAILURE_MS
        .with(Cell::get)
        .is_some_and(|at| js_sys::Date::now() - at < FAILURE_REPORTED_MS);
    if failed_recently {
        "off: a call to the coordinator failed in the last minute (see the log); this isolate acquires on its own meanwhile".to_owned()
    } else {
        "on".to_owned()
    }
}
