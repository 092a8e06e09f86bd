//! The token broker's pure rules (the `broker` feature, which the Worker crate enables and the
//! npm build leaves out): who its callers are and how a key finds one, their fleet-wide
//! budgets (leased slices), the throttling of failed authentications per address, what a
//! caller's request says, how the Worker's settings become a client, how an outcome becomes
//! an OAuth2 reply, a KV entry and an audit record, and the fleet's coordination: the token
//! coordinator's wire format and alarm rules.
//!
//! They live here, not in the Worker, for the reason the protocol does: a pure decision is
//! tested natively with exact inputs, in milliseconds, under `cargo test`, mutation testing
//! and fuzzing, where the Worker's code runs only under workerd. The Worker keeps the I/O
//! around them: routing, reading `Env`, KV and WebCrypto, building the `Response`.

pub mod address_throttle;
pub mod admission;
pub mod audit;
pub mod budget_lease;
pub mod callers;
pub mod coordination;
pub mod kv_entry;
pub mod received_token_request;
pub mod refresh_schedule;
pub mod reply;
pub mod settings;
