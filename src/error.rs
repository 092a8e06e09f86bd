//! The one error type of the crate: a stable machine-readable code, a message that says what
//! is wrong and how to fix it, and, for identity-provider errors, the provider's details.
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
    /// The token endpoint answered with an OAuth2 error; the code is the provider's
    /// `error` value, e.g. `invalid_client`.
    IdentityProvider,
    /// The token endpoint answered with something that is not a usable token response
    /// (code `invalid_response`).
    InvalidResponse,
}

impl ErrorKind {
    fn default_code(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::InvalidAuthority => "invalid_authority",
            ErrorKind::InvalidScope => "invalid_scope",
            ErrorKind::Network => "network_error",
            ErrorKind::IdentityProvider => "server_error",
            ErrorKind::InvalidResponse => "invalid_response",
        }
    }
}

/// Details of an OAuth2 error response, as Entra ID sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdpErrorDetails {
    /// HTTP status of the response.
    pub status: u16,
    /// `error_description`, e.g. `AADSTS7000215: Invalid client secret provided. …`.
    pub description: Option<String>,
    /// `error_codes`, e.g. `[7000215]`.
    pub error_codes: Vec<i64>,
    /// `trace_id`, for Microsoft support.
    pub trace_id: Option<String>,
    /// `correlation_id`, for Microsoft support.
    pub correlation_id: Option<String>,
}

/// An error from configuring the client or acquiring a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    code: Cow<'static, str>,
    message: String,
    field: Option<&'static str>,
    idp: Option<Box<IdpErrorDetails>>,
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            code: Cow::Borrowed(kind.default_code()),
            message: message.into(),
            field: None,
            idp: None,
        }
    }

    /// A missing or malformed configuration value; `field` names it as users spell it.
    pub fn invalid_config(field: &'static str, message: impl Into<String>) -> Self {
        Error {
            field: Some(field),
            ..Error::new(ErrorKind::InvalidConfig, message)
        }
    }

    /// An unacceptable authority or token endpoint URL.
    pub fn invalid_authority(field: &'static str, message: impl Into<String>) -> Self {
        Error {
            field: Some(field),
            ..Error::new(ErrorKind::InvalidAuthority, message)
        }
    }

    /// Empty or malformed scopes.
    pub fn invalid_scope(message: impl Into<String>) -> Self {
        Error {
            field: Some("scopes"),
            ..Error::new(ErrorKind::InvalidScope, message)
        }
    }

    /// The request could not be sent or its response could not be read.
    pub fn network(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Network, message)
    }

    /// A response that is not a usable token response.
    pub fn invalid_response(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidResponse, message)
    }

    /// An OAuth2 error answered by the token endpoint; `error` is its `error` field.
    pub fn identity_provider(
        error: impl Into<String>,
        message: impl Into<String>,
        details: IdpErrorDetails,
    ) -> Self {
        Error {
            code: Cow::Owned(error.into()),
            idp: Some(Box::new(details)),
            ..Error::new(ErrorKind::IdentityProvider, message)
        }
    }

    /// The coarse kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// A stable machine-readable code, e.g. `invalid_config` or the provider's
    /// `invalid_client`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// A human-readable explanation that says how to fix the problem.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The configuration field at fault, when there is one (e.g. `clientId`).
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// The identity provider's error details, for [`ErrorKind::IdentityProvider`].
    pub fn idp_details(&self) -> Option<&IdpErrorDetails> {
        self.idp.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_starts_with_the_code() {
        let error = Error::invalid_config("clientId", "clientId is required");
        assert_eq!(error.to_string(), "invalid_config: clientId is required");
        assert_eq!(error.field(), Some("clientId"));
        assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    }

    #[test]
    fn identity_provider_errors_carry_the_provider_code() {
        let error = Error::identity_provider(
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
            IdpErrorDetails {
                status: 401,
                error_codes: vec![7000215],
                ..Default::default()
            },
        );
        assert_eq!(error.code(), "invalid_client");
        assert_eq!(error.idp_details().map(|d| d.status), Some(401));
    }
}
