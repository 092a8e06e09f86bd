//! The JS host: fetch, `Date.now`, `setTimeout`, `spawn_local` and promises behind the core's
//! ports.

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::error::Error;
use crate::ports::{BackgroundTask, Clock, Fetch, HttpRequest, HttpResponse, Signal, Sleep, Spawn};

use super::fetch::JsFetch;
use super::timer::Timer;

/// The ports of a JS runtime (Node, Deno, Bun, Workers).
#[derive(Debug, Clone)]
pub struct JsHost {
    fetch: JsFetch,
}

impl JsHost {
    /// A host sending requests through `fetch`.
    pub fn new(fetch: JsFetch) -> Self {
        JsHost { fetch }
    }
}

impl Fetch for JsHost {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        self.fetch.fetch(request).await
    }
}

impl Clock for JsHost {
    fn now_ms(&self) -> u64 {
        // Date.now() is a non-negative integer number of milliseconds well below 2^53.
        js_sys::Date::now() as u64
    }
}

impl Sleep for JsHost {
    async fn sleep(&self, ms: u64) {
        Timer::start(ms).await
    }
}

impl Spawn for JsHost {
    fn spawn(&self, task: BackgroundTask) {
        wasm_bindgen_futures::spawn_local(task);
    }

    /// A promise and its resolve function. The promise belongs to the context of the task
    /// that makes it: in workerd, the request that starts the work, whose `waitUntil` keeps
    /// it alive until the producer resolves it. Each waiter subscribes to it as it starts
    /// waiting, so it resumes through a promise reaction, not from the producer's task.
    fn signal(&self) -> Signal {
        let mut resolve = None;
        let promise = Promise::new(&mut |resolve_fn: Function, _reject: Function| {
            resolve = Some(resolve_fn);
        });
        Signal {
            notify: Box::new(move || {
                if let Some(resolve) = &resolve {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            }),
            notified: Box::new(move || {
                let resolved = JsFuture::from(promise.clone());
                Box::pin(async move {
                    // The promise only ever resolves.
                    let _ = resolved.await;
                })
            }),
        }
    }
}
