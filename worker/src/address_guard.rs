//! Failed authentications, throttled per client address across the fleet. Each address has
//! a `Coordinator` object (`address:<key>`) that counts its failures; the isolate reports
//! each failed key check there and remembers the blocks it learns, which it checks before
//! any key. Without the fleet, or when the object cannot be asked, the isolate counts on its
//! own. Thresholds and the slack: [`cctoken::broker::address_throttle`].

use std::cell::RefCell;

use cctoken::broker::address_throttle::{FailureVerdict, KnownBlocks, LocalFailures};
use worker::console_error;

use crate::fleet::{Fleet, OBJECT_TIMEOUT_MS};

/// What this isolate knows of failing addresses.
#[derive(Default)]
pub struct AddressGuard {
    known_blocks: RefCell<KnownBlocks>,
    local: RefCell<LocalFailures>,
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
        if status != 200 {
            return Err(format!("the failure counter answered {status}"));
        }
        serde_json::from_str(&reply)
            .map_err(|_| "the failure counter's reply is not a verdict".to_owned())
    }
}
