//! # cctoken
//!
//! OAuth2 client-credentials tokens for daemon apps: Microsoft Entra ID's
//! `AcquireTokenForClient` flow, or any OAuth2 token endpoint.
//!
//! The crate is sans-IO at its heart: [`request`] builds the exact token request and
//! [`response`] parses the reply, both as pure functions. [`client::ConfidentialClient`]
//! adds the cache tiers, single-flight, background refresh and retries, generic over the small
//! ports in [`ports`] ([`ports::Fetch`], [`ports::Clock`], [`ports::Sleep`], [`ports::Spawn`],
//! [`ports::Signer`]), so it runs natively in tests and in any WebAssembly host through the
//! adapters in `js` (the `js` feature).
//!
//! ```
//! use cctoken::{ClientConfig, ConfidentialClient, Credential, TokenEndpoint, TokenRequest};
//! # use cctoken::ports::{BackgroundTask, Clock, Fetch, HttpRequest, HttpResponse, Sleep, Spawn};
//! # use futures::executor::{LocalPool, LocalSpawner};
//! # use futures::task::LocalSpawnExt;
//! # struct FakeHost(LocalSpawner);
//! # impl Fetch for FakeHost {
//! #     async fn fetch(&self, _: HttpRequest) -> Result<HttpResponse, cctoken::Error> {
//! #         Ok(HttpResponse::new(200, r#"{"access_token":"t","token_type":"Bearer","expires_in":3599}"#))
//! #     }
//! # }
//! # impl Clock for FakeHost { fn now_ms(&self) -> u64 { 1_700_000_000_000 } }
//! # impl Sleep for FakeHost { async fn sleep(&self, _: u64) {} }
//! # impl Spawn for FakeHost {
//! #     fn spawn(&self, task: BackgroundTask) { self.0.spawn_local(task).unwrap() }
//! # }
//! let endpoint = TokenEndpoint::from_authority("https://login.microsoftonline.com/contoso.onmicrosoft.com")?;
//! let config = ClientConfig::new(
//!     "00000000-0000-0000-0000-000000000001",
//!     endpoint,
//!     Credential::client_secret("s3cret")?,
//! )?;
//! // Any executor that runs spawned tasks: the client fetches in a task of its own.
//! let mut executor = LocalPool::new();
//! let client = ConfidentialClient::new(config, FakeHost(executor.spawner()));
//! let scopes = client.scopes(["https://graph.microsoft.com/.default"])?;
//! let token = executor.run_until(client.acquire_token_for_client(TokenRequest::new(scopes)))?;
//! assert_eq!(token.token_type, "Bearer");
//! # Ok::<(), cctoken::Error>(())
//! ```
//!
//! ## A native host
//!
//! Outside WebAssembly the host is yours: one value implementing [`ports::Host`] (that is
//! [`ports::Fetch`] + [`ports::Clock`] + [`ports::Sleep`] + [`ports::Spawn`]), plus a
//! [`ports::Signer`] for certificate credentials. `examples/acquire_token.rs` is a complete
//! one over a blocking HTTP client (`ureq`) with no async runtime; `cargo run --example
//! acquire_token` reads its settings from the environment. What each port must guarantee:
//!
//! - **Fetch** sends the [`ports::HttpRequest`] as built (method, URL, headers in order,
//!   body) over https with certificate checks (the core allows plain http only to loopback)
//!   and returns *every* HTTP status as a response: 4xx and 5xx bodies and `Retry-After` are
//!   the client's to read. Errors are for transport failures only, as [`ErrorKind::Network`]
//!   (the client retries those). It never follows a redirect (the body carries the
//!   credential), stops reading a body past [`ports::HttpRequest::max_response_bytes`] with
//!   [`ErrorKind::InvalidResponse`] (a compressed body's `content-length` counts the bytes on
//!   the wire, not what inflates from them: such a body is read in chunks), and gives up after
//!   [`ports::HttpRequest::timeout_ms`]. The client also races each attempt against a timer
//!   of its own, but a fetch that blocks the thread cannot be interrupted: a blocking Fetch
//!   must enforce the timeout itself. It must not log the body or the `authorization` header
//!   (their `Debug` is redacted for that reason).
//! - **Clock** is wall-clock time in milliseconds since the Unix epoch: expiry and
//!   `Retry-After` dates are absolute times, so a counter from process start will not do.
//! - **Sleep** completes after the given milliseconds: the attempt timer (polled only after
//!   the fetch it races has returned pending) and the back-off before a retry. An async host
//!   returns a timer; a blocking one may block the thread (the example explains why that is
//!   sound).
//! - **Spawn** starts a task and drives it to completion though nobody awaits it: the client
//!   fetches every token in such a task (so concurrent callers share one request) and
//!   refreshes tokens past their refresh point in one. A Spawn that drops tasks never yields
//!   a token. Tasks are not `Send` and neither is the client (one per thread): use a local
//!   executor (`futures::executor::LocalPool`, tokio's `LocalSet`, …). A background refresh
//!   runs when that executor next runs; with `LocalPool::run_until`, during your next call.
#![cfg_attr(not(feature = "js"), forbid(unsafe_code))]
#![cfg_attr(feature = "js", deny(unsafe_code))]
#![warn(missing_docs)]

pub mod assertion;
pub mod authority;
#[cfg(feature = "broker")]
pub mod broker;
pub mod cache;
pub mod challenge;
pub mod claims;
pub mod client;
pub mod client_config;
pub mod client_id;
pub mod client_options;
pub mod config_file;
pub mod coordinator;
pub mod credential;
pub mod doctor;
pub mod environment;
pub mod error;
pub mod flight;
pub mod option_names;
pub mod option_value;
pub mod pem;
pub mod ports;
mod random;
pub mod request;
pub mod request_fields;
pub mod response;
pub mod retry;
pub mod scope;
pub mod secret;
pub mod settings;
pub mod troubleshooting;

#[cfg(feature = "js")]
pub mod js;

pub use authority::TokenEndpoint;
pub use client::{AuthResult, ClientConfig, ConfidentialClient, TokenRequest, TokenSource};
pub use client_id::ClientId;
pub use credential::Credential;
pub use error::{Error, ErrorKind};
pub use scope::{scope_for_resource, ScopeRules, ScopeSet};
pub use secret::{AccessToken, BrokerKey, ClientSecret, Secret};
pub use troubleshooting::admin_consent_url;
