//! Adapters to JavaScript hosts (Node, Deno, Bun, Workers): `fetch`, `Date.now`, `setTimeout`,
//! `spawn_local`, WebCrypto, and JS errors.
//!
//! Compiled with the `js` feature. The code calls JS imports, so it only runs on wasm32, but it
//! also compiles natively so `cargo clippy --all-features` checks it. The `npm` feature adds the
//! API exported to the npm package; the Worker uses the adapters without it, so its wasm
//! exports nothing extra.

mod error;
mod fetch;
pub mod header_lines;
mod host;
mod host_bridge;
pub mod object;
mod signer;
mod timer;
pub mod webcrypto;

#[cfg(feature = "npm")]
mod bindings;
#[cfg(feature = "npm")]
mod broker_client;
#[cfg(feature = "npm")]
mod client_options;
#[cfg(feature = "npm")]
mod doctor;
#[cfg(feature = "npm")]
mod options;
#[cfg(feature = "npm")]
mod persistent_cache_key;
#[cfg(feature = "npm")]
mod protected_api;
#[cfg(feature = "npm")]
mod runtime_io;
#[cfg(feature = "npm")]
mod settings_loader;
#[cfg(feature = "npm")]
mod url_view;

pub use error::to_js_error;
pub use fetch::{describe_js_error, JsFetch};
pub use host::JsHost;
pub use host_bridge::{read_capped, BodyTooLarge};
pub use signer::WebCryptoSigner;
pub use timer::Timer;
