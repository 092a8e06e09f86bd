//! Waiting with the host's `setTimeout`, cancelled with `clearTimeout` when the wait is
//! dropped: a per-attempt timer that lost its race must not keep Node's event loop alive.
//!
//! The timer owns its callback and nothing owns the timer back. A `JsFuture` over a promise
//! that never settles (a cleared timer's) would keep its callbacks and state alive forever —
//! they reference each other until the promise settles — which leaked two closures per
//! token request.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::Function;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

#[derive(Default)]
struct Fired {
    fired: bool,
    waker: Option<Waker>,
}

/// Completes after `ms` milliseconds.
pub struct Timer {
    state: Rc<RefCell<Fired>>,
    timer_id: JsValue,
    // Dropped after `clearTimeout` (fields drop after `Drop::drop`), so JS never calls a
    // freed callback.
    _callback: Option<Closure<dyn FnMut()>>,
}

impl Timer {
    /// Starts a timer; without `setTimeout` in the host it completes at once.
    pub fn start(ms: u64) -> Self {
        let state = Rc::new(RefCell::new(Fired::default()));
        let Some(set_timeout) = SET_TIMEOUT.with(Clone::clone) else {
            state.borrow_mut().fired = true;
            return Timer {
                state,
                timer_id: JsValue::UNDEFINED,
                _callback: None,
            };
        };
        let fired = Rc::clone(&state);
        let callback = Closure::<dyn FnMut()>::new(move || {
            let waker = {
                let mut fired = fired.borrow_mut();
                fired.fired = true;
                fired.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        });
        // Delays beyond 2^31-1 ms overflow setTimeout; nothing here waits that long.
        let delay = JsValue::from_f64(ms.min(i32::MAX as u64) as f64);
        let timer_id = set_timeout
            .call2(
                &JsValue::UNDEFINED,
                callback.as_ref().unchecked_ref(),
                &delay,
            )
            .unwrap_or(JsValue::UNDEFINED);
        Timer {
            state,
            timer_id,
            _callback: Some(callback),
        }
    }
}

impl Future for Timer {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        if state.fired {
            Poll::Ready(())
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if self.state.borrow().fired || self.timer_id.is_undefined() {
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
    super::object::get(&js_sys::global(), name).dyn_into().ok()
}
