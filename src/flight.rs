//! A result many callers wait for while one task produces it (single-flight).
//!
//! Waiters never poll the producing task: it runs on its own (spawned through the host), and
//! they only read the finished value. That matters in Workers, where I/O started by one
//! request must not be driven from another request's handler.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

type Hook<T> = Box<dyn FnOnce(&T)>;

struct State<T> {
    result: Option<T>,
    waiters: Vec<Waker>,
    hooks: Vec<Hook<T>>,
}

/// One pending result, shared by handle.
pub struct Flight<T> {
    state: Rc<RefCell<State<T>>>,
}

impl<T> Clone for Flight<T> {
    fn clone(&self) -> Self {
        Flight {
            state: Rc::clone(&self.state),
        }
    }
}

impl<T: Clone + 'static> Flight<T> {
    /// A flight not yet completed.
    pub fn new() -> Self {
        Flight {
            state: Rc::new(RefCell::new(State {
                result: None,
                waiters: Vec::new(),
                hooks: Vec::new(),
            })),
        }
    }

    /// Stores the result, wakes every waiter and runs the completion hooks.
    pub fn complete(&self, value: T) {
        let (waiters, hooks) = {
            let mut state = self.state.borrow_mut();
            state.result = Some(value.clone());
            (
                std::mem::take(&mut state.waiters),
                std::mem::take(&mut state.hooks),
            )
        };
        for waker in waiters {
            waker.wake();
        }
        for hook in hooks {
            hook(&value);
        }
    }

    /// Runs `hook` with the result once there is one (at once if there already is).
    pub fn on_complete(&self, hook: impl FnOnce(&T) + 'static) {
        let done = self.state.borrow().result.clone();
        match done {
            Some(value) => hook(&value),
            None => self.state.borrow_mut().hooks.push(Box::new(hook)),
        }
    }

    /// Completes with a copy of the result.
    pub fn wait(&self) -> Wait<T> {
        Wait {
            flight: self.clone(),
        }
    }
}

impl<T: Clone + 'static> Default for Flight<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The future returned by [`Flight::wait`].
pub struct Wait<T> {
    flight: Flight<T>,
}

impl<T: Clone> Future for Wait<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.flight.state.borrow_mut();
        match &state.result {
            Some(value) => Poll::Ready(value.clone()),
            None => {
                if !state.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    state.waiters.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn every_waiter_and_hook_gets_the_one_result() {
        let flight: Flight<u32> = Flight::new();
        let mut first = Box::pin(flight.wait());
        let mut second = Box::pin(flight.wait());
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        let seen = Rc::new(Cell::new(0));
        let sink = seen.clone();
        flight.on_complete(move |v| sink.set(*v));
        flight.complete(7);
        assert_eq!(first.as_mut().poll(&mut cx), Poll::Ready(7));
        assert_eq!(second.as_mut().poll(&mut cx), Poll::Ready(7));
        assert_eq!(seen.get(), 7);
        let late = Rc::new(Cell::new(0));
        let sink = late.clone();
        flight.on_complete(move |v| sink.set(*v + 1));
        assert_eq!(late.get(), 8, "hooks added after completion run at once");
        assert_eq!(pollster::block_on(flight.wait()), 7);
    }
}
