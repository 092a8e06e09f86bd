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
#![cfg_attr(not(feature = "js"), forbid(unsafe_code))]
#![cfg_attr(feature = "js", deny(unsafe_code))]
#![warn(missing_docs)]

pub mod assertion;
pub mod authority;
pub mod cache;
pub mod challenge;
pub mod client;
pub mod client_config;
pub mod client_options;
pub mod config_file;
pub mod credential;
pub mod environment;
pub mod error;
pub mod flight;
pub mod option_names;
pub mod option_value;
pub mod pem;
pub mod ports;
mod random;
pub mod received_token_request;
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
pub use credential::Credential;
pub use error::{Error, ErrorKind};
pub use scope::{scope_for_resource, ScopeRules, ScopeSet};
pub use secret::{AccessToken, BrokerKey, ClientSecret, Secret};
pub use troubleshooting::admin_consent_url;
