//! The application's (client) id: checked once, then carried as its own type so that no other
//! string (a tenant, a scope, a secret) can be passed where the id is meant.

use std::fmt;
use std::ops::Deref;

use crate::error::Error;

/// Longest client id accepted; Entra ids are GUIDs, other servers use short names.
const MAX_CLIENT_ID_LEN: usize = 256;

/// An application (client) id: non-empty, at most 256 characters, no whitespace or control
/// characters. Not a secret: it is sent in every token request and named in errors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// Checks `value`; the error names the `clientId` option and what it must hold.
    pub fn parse(value: &str) -> Result<Self, Error> {
        if value.is_empty() {
            return Err(Error::invalid_config(
                "clientId",
                "clientId is required: use the Application (client) ID from the app registration",
            ));
        }
        if value.len() > MAX_CLIENT_ID_LEN
            || value.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::invalid_config(
                "clientId",
                format!("clientId must be at most {MAX_CLIENT_ID_LEN} characters without whitespace: use the Application (client) ID from the app registration"),
            ));
        }
        Ok(ClientId(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for ClientId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ids_and_names_the_option_when_it_refuses() {
        let id = ClientId::parse("11111111-2222-3333-4444-555555555555").unwrap();
        assert_eq!(id.as_str(), "11111111-2222-3333-4444-555555555555");
        assert_eq!(id.to_string(), id.as_str());
        assert!(ClientId::parse(&"a".repeat(256)).is_ok());
        for bad in ["", " x", "x y", "x\n", "x\u{7f}", &"a".repeat(257)] {
            let error = ClientId::parse(bad).unwrap_err();
            assert_eq!(error.field(), Some("clientId"), "{bad:?}");
        }
        assert!(ClientId::parse("")
            .unwrap_err()
            .message()
            .starts_with("clientId is required"));
    }
}
