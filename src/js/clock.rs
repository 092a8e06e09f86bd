//! Wall-clock time from the JS host.

use crate::ports::Clock;

/// `Date.now()`. In Workers it only advances across I/O, which is all the cache needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        // Date.now() is a non-negative integer number of milliseconds well below 2^53.
        js_sys::Date::now() as u64
    }
}
