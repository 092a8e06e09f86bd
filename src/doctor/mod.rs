//! `cctoken doctor`'s checks as pure functions: data in (PEMs, a `Date` header, an OpenID
//! configuration reply, a token, an [`crate::Error`]), [`Finding`]s out. The CLI does the I/O
//! (reads files, fetches the configuration, acquires the token, computes digests) and prints
//! [`render`]'s lines or the findings as JSON; nothing here reads a clock or the network.
//!
//! Check order, as the CLI runs them: [`check_certificate`] (then [`check_key_matches_jwk`]
//! when the key carries no public part), [`check_tenant_discovery`], [`check_clock`], the
//! token ([`token_acquired`] or [`check_token_error`]), [`check_claims`], and with `--call`
//! [`check_call`]. [`exit_code`] is the
//! first ✗'s class.

mod acquisition;
mod call;
mod certificate;
mod claims;
mod clock;
mod discovery;
mod finding;
mod time;
mod x509;

pub use acquisition::{check_token_error, exit_class, token_acquired};
pub use call::{check_call, check_call_target, check_call_unreachable, CallInput, UrlView};
pub use certificate::{
    check_certificate, check_key_matches_jwk, leaf_certificate_der, CertificateInput,
};
pub use claims::{check_claims, issued_at_ms, resource_of_scope, ExpectedClaims};
pub use clock::{check_clock, CLOCK_SKEW_WARNING_MS};
pub use discovery::{check_tenant_discovery, DiscoveryInput, TenantDiscovery};
pub use finding::{
    exit_code, printable, render, render_finding, CheckId, ExitClass, Finding, Status,
};

#[cfg(test)]
mod certificate_tests;
#[cfg(test)]
mod token_tests;
