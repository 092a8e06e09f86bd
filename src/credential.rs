//! How the client proves its identity to the token endpoint.

use crate::error::Error;
use crate::secret::Secret;

/// The application's credential.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// A client secret, sent as `client_secret` in the request body.
    ClientSecret(Secret),
}

impl Credential {
    /// A client secret credential; the secret must not be empty.
    pub fn client_secret(secret: impl Into<String>) -> Result<Self, Error> {
        let secret = Secret::new(secret);
        if secret.is_empty() {
            return Err(Error::invalid_config(
                "credential.clientSecret",
                "credential.clientSecret is empty: pass the secret's value (not its id) from the app registration's \"Certificates & secrets\" page",
            ));
        }
        Ok(Credential::ClientSecret(secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_secret_is_rejected_and_names_the_field() {
        let error = Credential::client_secret("").unwrap_err();
        assert_eq!(error.field(), Some("credential.clientSecret"));
    }

    #[test]
    fn debug_hides_the_secret() {
        let credential = Credential::client_secret("hunter2").unwrap();
        assert!(!format!("{credential:?}").contains("hunter2"));
    }
}
