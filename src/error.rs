//! The one error type of the crate: a stable machine-readable code, a message that says what
//! is wrong, a hint that says how to fix it, and the identity provider's details.
//!
//! Messages never contain secrets: constructors take field names and descriptions, never
//! credential values or token text.

use std::borrow::Cow;
use std::fmt;

/// What went wrong, coarsely; [`Error::code`] is the fine-grained, stable string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A configuration value is missing or malformed (code `invalid_config`).
    InvalidConfig,
    /// The authority or token endpoint URL is not acceptable (code `invalid_authority`).
    InvalidAuthority,
    /// The requested scopes are empty or malformed (code `invalid_scope`).
    InvalidScope,
    /// The request could not be sent or no response arrived (code `network_error`).
    Network,
    /// No response arrived within the per-attempt timeout or the total deadline (code `timeout`).
    Timeout,
    /// The caller cancelled the request (code `aborted`).
    Aborted,
    /// The identity provider throttles this client; see [`Error::retry_after_ms`]
    /// (code `throttled`).
    Throttled,
    /// The token endpoint answered with an OAuth2 error; the code is the provider's
    /// `error` value, e.g. `invalid_client`.
    IdentityProvider,
    /// The token endpoint answered with something that is not a usable token response
    /// (code `invalid_response`).
    InvalidResponse,
    /// Signing a client assertion or preparing a key failed (code `crypto_error`).
    Crypto,
}

impl ErrorKind {
    /// The code an error of this kind has unless it carries its own; distinct per kind, so it
    /// also names the kind (the broker's coordination wire format relies on that).
    pub(crate) fn default_code(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::InvalidAuthority => "invalid_authority",
            ErrorKind::InvalidScope => "invalid_scope",
            ErrorKind::Network => "network_error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Aborted => "aborted",
            ErrorKind::Throttled => "throttled",
            ErrorKind::IdentityProvider => "server_error",
            ErrorKind::InvalidResponse => "invalid_response",
            ErrorKind::Crypto => "crypto_error",
        }
    }
}

/// Details of an identity provider's error response, as Entra ID sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdpErrorDetails {
    /// HTTP status of the response.
    pub status: u16,
    /// `error_description`, e.g. `AADSTS7000215: Invalid client secret provided. …`.
    pub description: Option<String>,
    /// AADSTS numbers: `error_codes`, or parsed from the description.
    pub aadsts: Vec<i64>,
    /// `trace_id`, for Microsoft support.
    pub trace_id: Option<String>,
    /// `timestamp` of the error.
    pub timestamp: Option<String>,
}

/// An error from configuring the client or acquiring a token. Boxed, so `Result`s stay small
/// on the success path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<ErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorInner {
    kind: ErrorKind,
    code: Cow<'static, str>,
    message: String,
    field: Option<&'static str>,
    hint: Option<String>,
    correlation_id: Option<String>,
    retry_after_ms: Option<u64>,
    idp: Option<Box<IdpErrorDetails>>,
}

impl Error {
    /// An error of `kind` with its default code.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorInner {
            kind,
            code: Cow::Borrowed(kind.default_code()),
            message: message.into(),
            field: None,
            hint: None,
            correlation_id: None,
            retry_after_ms: None,
            idp: None,
        }))
    }

    /// A missing or malformed configuration value; `field` names it as users spell it.
    pub fn invalid_config(field: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidConfig, message).with_field(field)
    }

    /// An unacceptable authority or token endpoint URL.
    pub fn invalid_authority(field: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidAuthority, message).with_field(field)
    }

    /// Empty or malformed scopes.
    pub fn invalid_scope(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidScope, message).with_field("scopes")
    }

    /// The request could not be sent or its response could not be read.
    pub fn network(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Network, message)
    }

    /// A response that is not a usable token response.
    pub fn invalid_response(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidResponse, message)
    }

    /// Signing or key preparation failed.
    pub fn crypto(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Crypto, message)
    }

    /// An OAuth2 error answered by the token endpoint; `error` is its `error` field.
    pub fn identity_provider(
        error_code: impl Into<String>,
        message: impl Into<String>,
        details: IdpErrorDetails,
    ) -> Self {
        let mut error = Error::new(ErrorKind::IdentityProvider, message);
        error.0.code = Cow::Owned(error_code.into());
        error.0.idp = Some(Box::new(details));
        error
    }

    /// Attaches the identity provider's reply details (status and what it said).
    pub fn with_idp_details(mut self, details: IdpErrorDetails) -> Self {
        self.0.idp = Some(Box::new(details));
        self
    }

    /// Names the configuration field at fault.
    pub fn with_field(mut self, field: &'static str) -> Self {
        self.0.field = Some(field);
        self
    }

    /// Adds advice on how to fix the problem.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }

    /// Records the correlation id (`client-request-id`) of the request that failed.
    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.0.correlation_id = Some(correlation_id.into());
        self
    }

    /// Records how long to wait before trying again.
    pub fn with_retry_after_ms(mut self, retry_after_ms: u64) -> Self {
        self.0.retry_after_ms = Some(retry_after_ms);
        self
    }

    /// The coarse kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// A stable machine-readable code, e.g. `invalid_config` or the provider's
    /// `invalid_client`.
    pub fn code(&self) -> &str {
        &self.0.code
    }

    /// A human-readable explanation of what went wrong.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The configuration field at fault, when there is one (e.g. `clientId`).
    pub fn field(&self) -> Option<&'static str> {
        self.0.field
    }

    /// Concrete advice on how to fix the problem, when known.
    pub fn hint(&self) -> Option<&str> {
        self.0.hint.as_deref()
    }

    /// The `client-request-id` sent with the failed request; Entra logs it.
    pub fn correlation_id(&self) -> Option<&str> {
        self.0.correlation_id.as_deref()
    }

    /// How long to wait before trying again, in milliseconds, when known.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.0.retry_after_ms
    }

    /// The identity provider's error details, for [`ErrorKind::IdentityProvider`] and
    /// HTTP-level failures.
    pub fn idp_details(&self) -> Option<&IdpErrorDetails> {
        self.0.idp.as_deref()
    }

    /// The HTTP status of the identity provider's reply, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.idp.as_ref().map(|details| details.status)
    }

    /// Whether the same request may succeed later with nothing changed on the caller's side:
    /// no answer arrived (network, timeout), the provider throttles, or it answered HTTP 429,
    /// 500, 502, 503 or 504 without a [refusal](Self::is_refusal). The one rule behind
    /// whether the client tries again (the retry policy then only picks the delay, honouring
    /// `Retry-After`), the broker's 503 (against 502) and the CLI's exit code.
    pub fn is_transient(&self) -> bool {
        match self.kind() {
            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Throttled => true,
            ErrorKind::IdentityProvider => {
                !self.is_refusal() && matches!(self.status(), Some(429 | 500 | 502 | 503 | 504))
            }
            _ => false,
        }
    }

    /// Whether the provider refused the request itself with an RFC 6749 §5.2 error
    /// (`invalid_client`, `invalid_scope`…), or the cctoken broker refused the caller a tenant
    /// (`tenant_not_granted`): retrying cannot help, whatever the status (a gateway such as
    /// the broker passes them on with 502).
    pub fn is_refusal(&self) -> bool {
        self.kind() == ErrorKind::IdentityProvider
            && matches!(
                self.code(),
                "invalid_request"
                    | "invalid_client"
                    | "invalid_grant"
                    | "unauthorized_client"
                    | "unsupported_grant_type"
                    | "invalid_scope"
                    // The cctoken broker's refusal of a tenant the caller is not granted:
                    // a grant, like its 403 invalid_scope for a scope not granted.
                    | "tenant_not_granted"
            )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)?;
        if let Some(hint) = &self.0.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// An identity provider's refusal with `status` and `code`, for tests across the crate.
#[cfg(test)]
pub(crate) fn from_idp(status: u16, code: &str) -> Error {
    Error::identity_provider(
        code,
        "refused",
        IdpErrorDetails {
            status,
            ..IdpErrorDetails::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_means_the_same_request_may_succeed_later() {
        for error in [
            Error::network("connection reset"),
            Error::new(ErrorKind::Timeout, "no answer"),
            Error::new(ErrorKind::Throttled, "slow down"),
            from_idp(429, "too_many_requests"),
            from_idp(500, "server_error"),
            from_idp(502, "server_error"),
            from_idp(503, "temporarily_unavailable"),
            from_idp(504, "server_error"),
        ] {
            assert!(error.is_transient(), "{error}");
            assert!(!error.is_refusal(), "{error}");
        }
        for error in [
            from_idp(400, "server_error"),
            from_idp(401, "invalid_client"),
            from_idp(502, "invalid_client"),
            from_idp(503, "invalid_scope"),
            Error::invalid_response("no access_token"),
            Error::invalid_config("clientId", "missing"),
            Error::new(ErrorKind::Aborted, "cancelled"),
            Error::new(ErrorKind::Crypto, "no key"),
        ] {
            assert!(!error.is_transient(), "{error}");
        }
        for code in [
            "invalid_request",
            "invalid_client",
            "invalid_grant",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
        ] {
            assert!(from_idp(400, code).is_refusal(), "{code}");
            assert!(!from_idp(503, code).is_transient(), "{code}");
        }
        assert!(!Error::invalid_config("scopes", "x").is_refusal());
    }

    #[test]
    fn display_starts_with_the_code_and_ends_with_the_hint() {
        let error = Error::invalid_config("clientId", "clientId is required");
        assert_eq!(error.to_string(), "invalid_config: clientId is required");
        assert_eq!(error.field(), Some("clientId"));
        assert_eq!(error.kind(), ErrorKind::InvalidConfig);
        let error = error.with_hint("copy it from the app registration");
        assert_eq!(
            error.to_string(),
            "invalid_config: clientId is required (hint: copy it from the app registration)"
        );
    }

    #[test]
    fn identity_provider_errors_carry_the_provider_code() {
        let error = Error::identity_provider(
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
            IdpErrorDetails {
                status: 401,
                aadsts: vec![7000215],
                ..Default::default()
            },
        )
        .with_correlation_id("c-1")
        .with_retry_after_ms(5);
        assert_eq!(error.code(), "invalid_client");
        assert_eq!(error.status(), Some(401));
        assert_eq!(error.correlation_id(), Some("c-1"));
        assert_eq!(error.retry_after_ms(), Some(5));
    }
}
