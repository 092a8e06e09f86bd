//! # cctoken
//!
//! OAuth2 client-credentials tokens for daemon apps: Microsoft Entra ID's
//! `AcquireTokenForClient` flow, or any OAuth2 token endpoint.
//!
//! The crate is sans-IO at its heart: [`request`] builds the exact token request and
//! [`response`] parses the reply, both as pure functions. [`client::ConfidentialClient`]
//! adds the in-memory cache and is generic over the small I/O ports in [`ports`]
//! ([`ports::Fetch`], [`ports::Clock`]), so it runs natively in tests and in any
//! WebAssembly host through the adapters in `js` (built for wasm32 with the `js` feature).
//!
//! ```
//! use cctoken::{ClientConfig, ConfidentialClient, Credential, ScopeSet};
//! # use cctoken::ports::{Clock, Fetch, HttpRequest, HttpResponse};
//! # struct FakeFetch;
//! # impl Fetch for FakeFetch {
//! #     async fn fetch(&self, _: HttpRequest) -> Result<HttpResponse, cctoken::Error> {
//! #         Ok(HttpResponse::new(200, r#"{"access_token":"t","token_type":"Bearer","expires_in":3599}"#))
//! #     }
//! # }
//! # struct FixedClock;
//! # impl Clock for FixedClock { fn now_ms(&self) -> u64 { 1_700_000_000_000 } }
//! let config = ClientConfig::new(
//!     "00000000-0000-0000-0000-000000000001",
//!     "https://login.microsoftonline.com/contoso.onmicrosoft.com",
//!     Credential::client_secret("s3cret")?,
//! )?;
//! let client = ConfidentialClient::new(config, FakeFetch, FixedClock);
//! let scopes = ScopeSet::parse(["https://graph.microsoft.com/.default"])?;
//! let token = pollster::block_on(client.acquire_token_for_client(&scopes))?;
//! assert_eq!(token.token_type, "Bearer");
//! # Ok::<(), cctoken::Error>(())
//! ```
#![cfg_attr(not(feature = "js"), forbid(unsafe_code))]
#![cfg_attr(feature = "js", deny(unsafe_code))]
#![warn(missing_docs)]

pub mod authority;
pub mod cache;
pub mod client;
pub mod credential;
pub mod error;
pub mod ports;
pub mod request;
pub mod response;
pub mod scope;
pub mod secret;

#[cfg(feature = "js")]
pub mod js;

pub use authority::TokenEndpoint;
pub use client::{AuthResult, ClientConfig, ConfidentialClient};
pub use credential::Credential;
pub use error::{Error, ErrorKind};
pub use scope::ScopeSet;
pub use secret::Secret;
