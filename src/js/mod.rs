//! Adapters to JavaScript hosts (Node, Deno, Bun, Workers): `fetch`, `Date.now`, errors.
//!
//! Compiled only for wasm32 with the `js` feature. The `npm` feature adds the API exported to
//! the npm package; the Worker uses the adapters without it, so its wasm exports nothing extra.

mod clock;
mod error;
mod fetch;

#[cfg(feature = "npm")]
mod bindings;
#[cfg(feature = "npm")]
mod options;

pub use clock::JsClock;
pub use error::to_js_error;
pub use fetch::JsFetch;
