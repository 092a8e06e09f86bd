//! Callers' budgets across the fleet: the isolate serves from a lease of requests it got
//! from the caller's `Coordinator` object (`caller:<id>`), and asks for another only when the
//! lease runs out (see [`cctoken::broker::budget_lease`] for the sizes and the slack). Without
//! the fleet, or when the object cannot be asked, the isolate grants leases from a ledger of
//! its own: the per-isolate budget the broker had before.

use std::cell::RefCell;
use std::collections::HashMap;

use cctoken::broker::budget_lease::{
    Budget, CallerLedger, LeaseGrant, LeaseRequest, Leases, NoLease,
};
use worker::console_error;

use crate::fleet::{note_failure, Fleet, OBJECT_TIMEOUT_MS};

/// The isolate's leases, and its own ledgers for when the fleet cannot answer.
#[derive(Default)]
pub struct BudgetCheck {
    leases: RefCell<Leases>,
    local: RefCell<HashMap<String, CallerLedger>>,
}

impl BudgetCheck {
    /// Takes one request from `caller`'s `budget` of `per_minute`; `Err` is Retry-After seconds.
    pub async fn take(
        &self,
        fleet: Option<&Fleet>,
        caller: &str,
        budget: Budget,
        per_minute: u32,
    ) -> Result<(), u64> {
        let now_ms = js_sys::Date::now() as u64;
        let taken = self
            .leases
            .borrow_mut()
            .take(caller, budget, per_minute, now_ms);
        let asked = match taken {
            Ok(()) => return Ok(()),
            Err(NoLease::Refused(retry_after_s)) => return Err(retry_after_s),
            Err(NoLease::Ask(asked)) => asked,
        };
        let grant = match fleet {
            Some(fleet) => match Self::ask(fleet, caller, &asked).await {
                Ok(grant) => grant,
                Err(why) => {
                    console_error!("a caller's budget object could not be asked, so this isolate budgets the caller on its own: {why}");
                    self.grant_locally(caller, &asked)
                }
            },
            None => self.grant_locally(caller, &asked),
        };
        let now_ms = js_sys::Date::now() as u64;
        self.leases
            .borrow_mut()
            .install(caller, &asked, &grant, now_ms)
    }

    fn grant_locally(&self, caller: &str, asked: &LeaseRequest) -> LeaseGrant {
        self.local
            .borrow_mut()
            .entry(caller.to_owned())
            .or_default()
            .grant(asked, js_sys::Date::now() as u64)
    }

    async fn ask(fleet: &Fleet, caller: &str, asked: &LeaseRequest) -> Result<LeaseGrant, String> {
        let body = serde_json::to_string(asked).map_err(|e| e.to_string())?;
        let (status, reply) = fleet
            .post(
                &format!("caller:{caller}"),
                "/lease",
                body,
                OBJECT_TIMEOUT_MS,
            )
            .await?;
        let name = format!("caller:{caller}");
        let read = match status {
            200 => serde_json::from_str(&reply)
                .map_err(|_| "the budget object's reply is not a grant".to_owned()),
            status => Err(format!("the budget object answered {status}")),
        };
        if read.is_err() {
            note_failure(&name);
        }
        read
    }
}
