//! Waiting with the host's `setTimeout`, cancelled with `clearTimeout` when the wait is
//! dropped: a per-attempt timer that lost its race must not keep Node's event loop alive.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Completes after `ms` milliseconds.
pub struct Timer {
    promise: JsFuture,
    timer_id: JsValue,
    fired: bool,
}

impl Timer {
    /// Starts a timer; without `setTimeout` in the host it completes at once.
    pub fn start(ms: u64) -> Self {
        let set_timeout = SET_TIMEOUT.with(Clone::clone);
        let mut timer_id = JsValue::UNDEFINED;
        let promise = Promise::new(&mut |resolve, _reject| {
            if let Some(set_timeout) = &set_timeout {
                // Delays beyond 2^31-1 ms overflow setTimeout; nothing here waits that long.
                let delay = JsValue::from_f64(ms.min(i32::MAX as u64) as f64);
                timer_id = set_timeout
                    .call2(&JsValue::UNDEFINED, &resolve, &delay)
                    .unwrap_or(JsValue::UNDEFINED);
            } else {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        });
        Timer {
            promise: JsFuture::from(promise),
            timer_id,
            fired: false,
        }
    }
}

impl Future for Timer {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match Pin::new(&mut self.promise).poll(cx) {
            Poll::Ready(_) => {
                self.fired = true;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if self.fired || self.timer_id.is_undefined() {
            return;
        }
        CLEAR_TIMEOUT.with(|clear| {
            if let Some(clear) = clear {
                let _ = clear.call1(&JsValue::UNDEFINED, &self.timer_id);
            }
        });
    }
}

thread_local! {
    // Looked up once: a global lookup per timer crossed into JS twice with a fresh string.
    static SET_TIMEOUT: Option<Function> = global_function("setTimeout");
    static CLEAR_TIMEOUT: Option<Function> = global_function("clearTimeout");
}

fn global_function(name: &str) -> Option<Function> {
    Reflect::get(&js_sys::global(), &name.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}
