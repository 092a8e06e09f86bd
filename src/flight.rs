//! A result many callers wait for while one task produces it (single-flight).
//!
//! The producing task runs on its own (spawned through the host); waiters never poll it, and
//! it never runs their code: when done it notifies the flight's host [`Signal`], made as the
//! flight starts, and each waiter resumes where the host's signal resumes it, then reads the
//! finished value. That matters in Workers. The
//! fetch belongs to the request that started it, and a waiter polled from it would build its
//! response in that request's context ("Cannot perform I/O on behalf of a different
//! request"); the JS host's signal is a promise, and each waiting request resumes through its
//! reaction instead. So concurrent requests share this one flight, and the broker has no
//! single-flight of its own.

use std::cell::RefCell;
use std::rc::Rc;

use crate::ports::{Signal, Spawn};

type Hook<T> = Box<dyn FnOnce(&T)>;

struct State<T> {
    result: Option<T>,
    hooks: Vec<Hook<T>>,
}

/// One pending result, shared by handle.
pub struct Flight<T> {
    state: Rc<RefCell<State<T>>>,
    done: Rc<Signal>,
}

impl<T> Clone for Flight<T> {
    fn clone(&self) -> Self {
        Flight {
            state: Rc::clone(&self.state),
            done: Rc::clone(&self.done),
        }
    }
}

impl<T: Clone + 'static> Flight<T> {
    /// A flight not yet completed, whose waiters `host` wakes. Made by the task that starts
    /// the producer.
    pub fn new(host: &impl Spawn) -> Self {
        Flight {
            state: Rc::new(RefCell::new(State {
                result: None,
                hooks: Vec::new(),
            })),
            done: Rc::new(host.signal()),
        }
    }

    /// Stores the result, notifies the waiters and runs the completion hooks.
    pub fn complete(&self, value: T) {
        let hooks = {
            let mut state = self.state.borrow_mut();
            state.result = Some(value.clone());
            std::mem::take(&mut state.hooks)
        };
        (self.done.notify)();
        for hook in hooks {
            hook(&value);
        }
    }

    /// Whether `other` is a handle on this same flight.
    pub fn is(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.state, &other.state)
    }

    /// Runs `hook` with the result once there is one (at once if there already is). Hooks run
    /// in the producing task: bookkeeping only, never a waiter's own work.
    pub fn on_complete(&self, hook: impl FnOnce(&T) + 'static) {
        let done = self.state.borrow().result.clone();
        match done {
            Some(value) => hook(&value),
            None => self.state.borrow_mut().hooks.push(Box::new(hook)),
        }
    }

    /// A copy of the result, once there is one.
    pub async fn wait(&self) -> T {
        loop {
            let done = self.state.borrow().result.clone();
            if let Some(value) = done {
                return value;
            }
            (self.done.notified)().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::BackgroundTask;
    use std::cell::Cell;
    use std::future::Future;
    use std::task::{Context, Poll};

    /// Counts the signals it hands out; spawns nothing.
    #[derive(Default)]
    struct Signals(Cell<u32>);

    impl Spawn for Signals {
        fn spawn(&self, _: BackgroundTask) {}
        fn signal(&self) -> Signal {
            self.0.set(self.0.get() + 1);
            Signal::waker()
        }
    }

    #[test]
    fn every_waiter_and_hook_gets_the_one_result() {
        let host = Signals::default();
        let flight: Flight<u32> = Flight::new(&host);
        assert_eq!(host.0.get(), 1, "one signal per flight");
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
        assert_eq!(host.0.get(), 1);
    }

    #[test]
    fn waiters_are_woken_through_the_signal() {
        let flight: Flight<u32> = Flight::new(&Signals::default());
        let mut pool = futures::executor::LocalPool::new();
        let waited = Rc::new(Cell::new(0));
        for _ in 0..2 {
            let (flight, sink) = (flight.clone(), waited.clone());
            futures::task::LocalSpawnExt::spawn_local(&pool.spawner(), async move {
                let value = flight.wait().await;
                sink.set(sink.get() + value);
            })
            .unwrap();
        }
        pool.run_until_stalled();
        assert_eq!(waited.get(), 0);
        flight.complete(3);
        pool.run_until_stalled();
        assert_eq!(waited.get(), 6);
    }
}
