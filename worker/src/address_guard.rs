//! Failed authentications, throttled per client address across the fleet. Each address has
//! a `Coordinator` object (`address:<key>`) that counts its failures; the isolate reports
//! each failed key check there and remembers the blocks it learns, which it checks before
//! any key. Without the fleet, or when the object cannot be asked, the isolate counts on its
//! own. Thresholds and the slack: [`cctoken::broker::address_throttle`].

use std::cell::RefCell;
use std::collections::HashMap;

use cctoken::broker::address_throttle::{
    FailureVerdict, KnownBlocks, LocalFailures, FAILURE_THRESHOLD,
};
use worker::console_error;

use crate::fleet::{note_failure, Fleet, OBJECT_TIMEOUT_MS};

/// What this isolate knows of failing addresses.
#[derive(Default)]
pub struct AddressGuard {
    known_blocks: RefCell<KnownBlocks>,
    local: RefCell<LocalFailures>,
    /// Key checks per address whose outcome is not known yet (checked, or failed and being
    /// reported). Without a cap, guesses sent all at once would all be checked before the
    /// first failure came back.
    unresolved: RefCell<HashMap<String, usize>>,
}

/// One key check in progress from an address; ends when dropped.
pub struct KeyCheck<'a> {
    guard: &'a AddressGuard,
    address: String,
}

impl Drop for KeyCheck<'_> {
    fn drop(&mut self) {
        let mut unresolved = self.guard.unresolved.borrow_mut();
        if let Some(count) = unresolved.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                unresolved.remove(&self.address);
            }
        }
    }
}

impl AddressGuard {
    /// `Some(Retry-After seconds)` when `address` is known to be blocked: answer 429 before
    /// checking any key.
    pub fn blocked(&self, address: &str) -> Option<u64> {
        let now_ms = js_sys::Date::now() as u64;
        if let Some(retry_after_s) = self.known_blocks.borrow_mut().check(address, now_ms) {
            return Some(retry_after_s);
        }
        let until = self.local.borrow().blocked_until(address, now_ms)?;
        self.known_blocks.borrow_mut().learn(address, until, now_ms);
        self.known_blocks.borrow_mut().check(address, now_ms)
    }

    /// Starts a key check from `address`, or `Err(Retry-After seconds)` when as many checks
    /// from it are already unresolved in this isolate as the failures that block an address:
    /// a burst of guesses waits for their verdicts. Hold the check until its outcome is known
    /// (through [`AddressGuard::failed`] for a wrong key).
    pub fn begin_check(&self, address: &str) -> Result<KeyCheck<'_>, u64> {
        let mut unresolved = self.unresolved.borrow_mut();
        let count = unresolved.entry(address.to_owned()).or_default();
        if *count >= FAILURE_THRESHOLD {
            return Err(1);
        }
        *count += 1;
        Ok(KeyCheck {
            guard: self,
            address: address.to_owned(),
        })
    }

    /// Records a failed key check from `address`; `Some(Retry-After seconds)` when the address
    /// is blocked from now on (this answer already becomes a 429).
    pub async fn failed(&self, fleet: Option<&Fleet>, address: &str) -> Option<u64> {
        let until = match fleet {
            Some(fleet) => match Self::report(fleet, address).await {
                Ok(verdict) => verdict.blocked_until_ms,
                Err(why) => {
                    console_error!("an address's failure counter could not be asked, so this isolate counts on its own: {why}");
                    self.record_locally(address)
                }
            },
            None => self.record_locally(address),
        }?;
        let now_ms = js_sys::Date::now() as u64;
        self.known_blocks.borrow_mut().learn(address, until, now_ms);
        self.known_blocks.borrow_mut().check(address, now_ms)
    }

    fn record_locally(&self, address: &str) -> Option<u64> {
        self.local
            .borrow_mut()
            .record(address, js_sys::Date::now() as u64)
    }

    async fn report(fleet: &Fleet, address: &str) -> Result<FailureVerdict, String> {
        let (status, reply) = fleet
            .post(
                &format!("address:{address}"),
                "/failure",
                String::new(),
                OBJECT_TIMEOUT_MS,
            )
            .await?;
        let name = format!("address:{address}");
        let read = match status {
            200 => serde_json::from_str(&reply)
                .map_err(|_| "the failure counter's reply is not a verdict".to_owned()),
            status => Err(format!("the failure counter answered {status}")),
        };
        if read.is_err() {
            note_failure(&name);
        }
        read
    }
}
