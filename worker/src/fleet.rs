//! The fleet's Durable Objects, as the isolate calls them: one `POST` to a named object,
//! JSON in and out. A failed call is read by the caller as "coordination unavailable": every
//! fleet decision has a per-isolate fallback. After a failure, objects of the same kind are
//! not asked again for a while (each call would only wait and fail), and `/healthz` says so.

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
/// How long after a failed call the isolate decides on its own without asking objects of the
/// same kind (and `/healthz` reports coordination off).
const PAUSE_AFTER_FAILURE_MS: f64 = 30_000.0;

/// The kinds of object, by the prefix of their names.
const KINDS: [&str; 3] = ["token", "caller", "address"];

thread_local! {
    /// When a call to an object of each kind last failed in this isolate.
    static LAST_FAILURE_MS: [Cell<Option<f64>>; 3] = const { [Cell::new(None), Cell::new(None), Cell::new(None)] };
}

fn kind_index(name: &str) -> usize {
    let prefix = name.split(':').next().unwrap_or_default();
    KINDS.iter().position(|kind| *kind == prefix).unwrap_or(0)
}

fn failed_within(index: usize, window_ms: f64) -> bool {
    LAST_FAILURE_MS.with(|last| {
        last[index]
            .get()
            .is_some_and(|at| js_sys::Date::now() - at < window_ms)
    })
}

/// Records that a call to the object named `name` failed, however it failed (no answer, an
/// answer that is not one): the caller decides on its own for a while.
pub fn note_failure(name: &str) {
    LAST_FAILURE_MS.with(|last| last[kind_index(name)].set(Some(js_sys::Date::now())));
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
        if failed_within(kind_index(name), PAUSE_AFTER_FAILURE_MS) {
            return Err(
                "not asked: a call to an object of its kind failed in the last 30 s".into(),
            );
        }
        let call = pin!(self.send(name, path, body));
        let outcome = match select(call, pin!(Timer::start(timeout_ms))).await {
            Either::Left((outcome, _)) => outcome.map_err(|error| error.to_string()),
            Either::Right(_) => Err(format!("no answer within {timeout_ms} ms")),
        };
        if outcome.is_err() {
            note_failure(name);
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
    let failing: Vec<&str> = (0..KINDS.len())
        .filter(|index| failed_within(*index, PAUSE_AFTER_FAILURE_MS))
        .map(|index| KINDS[index])
        .collect();
    if failing.is_empty() {
        "on".to_owned()
    } else {
        format!("off: a call to a {} object failed in the last 30 s (see the log); this isolate decides on its own meanwhile", failing.join(" and a "))
    }
}
