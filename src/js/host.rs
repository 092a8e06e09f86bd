//! The JS host: fetch, `Date.now`, `setTimeout` and `spawn_local` behind the core's ports.

use crate::error::Error;
use crate::ports::{BackgroundTask, Clock, Fetch, HttpRequest, HttpResponse, Sleep, Spawn};

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
}
