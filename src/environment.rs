//! Settings from environment variables, with @azure/identity's names and precedence
//! (EnvironmentCredential, then WorkloadIdentityCredential).

use crate::error::Error;
use crate::secret::ClientSecret;
use crate::settings::{AppSettings, AuthoritySetting, CredentialSetting};

/// Reads `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, then the first credential present of
/// `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH` (+ `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`)
/// and `AZURE_FEDERATED_TOKEN_FILE`, and `AZURE_AUTHORITY_HOST`. `lookup` returns a variable's
/// value; empty values count as unset.
pub fn settings_from_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<AppSettings, Error> {
    let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    let required = |name: &'static str, what: &str| {
        get(name).ok_or_else(|| {
            Error::invalid_config(name, format!("{name} is not set: it must hold {what}"))
        })
    };
    let tenant_id = required("AZURE_TENANT_ID", "the Directory (tenant) ID")?;
    let client_id = required("AZURE_CLIENT_ID", "the Application (client) ID")?;
    let credential = if let Some(secret) = get("AZURE_CLIENT_SECRET") {
        CredentialSetting::Secret(ClientSecret::new(secret))
    } else if let Some(path) = get("AZURE_CLIENT_CERTIFICATE_PATH") {
        if get("AZURE_CLIENT_CERTIFICATE_PASSWORD").is_some() {
            return Err(Error::invalid_config(
                "AZURE_CLIENT_CERTIFICATE_PASSWORD",
                "encrypted keys are not supported: convert once with `openssl pkcs12 -in cert.pfx -nodes -out cert.pem` (or `openssl pkcs8 -topk8 -nocrypt` for a PEM key), keep the result in a secret store, and unset AZURE_CLIENT_CERTIFICATE_PASSWORD",
            ));
        }
        let send_x5c = get("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN").is_some_and(|value| {
            matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1")
        });
        CredentialSetting::CertificateFiles {
            key_path: path,
            certificate_path: None,
            thumbprint: None,
            send_x5c,
        }
    } else if let Some(path) = get("AZURE_FEDERATED_TOKEN_FILE") {
        CredentialSetting::FederatedTokenFile(path)
    } else {
        return Err(Error::invalid_config(
            "AZURE_CLIENT_SECRET",
            "no credential in the environment: set AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE",
        ));
    };
    Ok(AppSettings {
        client_id,
        authority: AuthoritySetting::Tenant {
            tenant_id,
            host: get("AZURE_AUTHORITY_HOST"),
        },
        credential,
        scopes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<AppSettings, Error> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        settings_from_environment(|name| map.get(name).cloned())
    }

    const BASE: [(&str, &str); 2] = [("AZURE_TENANT_ID", "t1"), ("AZURE_CLIENT_ID", "c1")];

    #[test]
    fn secret_wins_over_certificate_and_federated_token() {
        let settings = env(&[
            BASE[0],
            BASE[1],
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/t"),
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us"),
        ])
        .unwrap();
        assert_eq!(
            settings.credential,
            CredentialSetting::Secret(ClientSecret::new("s"))
        );
        assert_eq!(
            settings.authority,
            AuthoritySetting::Tenant {
                tenant_id: "t1".into(),
                host: Some("https://login.microsoftonline.us".into())
            }
        );
    }

    #[test]
    fn certificate_then_federated_token() {
        let settings = env(&[
            BASE[0],
            BASE[1],
            ("AZURE_CLIENT_SECRET", ""),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem"),
            ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "True"),
        ])
        .unwrap();
        assert_eq!(
            settings.credential,
            CredentialSetting::CertificateFiles {
                key_path: "/c.pem".into(),
                certificate_path: None,
                thumbprint: None,
                send_x5c: true
            }
        );
        let settings = env(&[BASE[0], BASE[1], ("AZURE_FEDERATED_TOKEN_FILE", "/t")]).unwrap();
        assert_eq!(
            settings.credential,
            CredentialSetting::FederatedTokenFile("/t".into())
        );
    }

    #[test]
    fn names_what_is_missing() {
        assert_eq!(env(&[]).unwrap_err().field(), Some("AZURE_TENANT_ID"));
        assert_eq!(
            env(&[BASE[0]]).unwrap_err().field(),
            Some("AZURE_CLIENT_ID")
        );
        assert_eq!(env(&BASE).unwrap_err().field(), Some("AZURE_CLIENT_SECRET"));
        let error = env(&[
            BASE[0],
            BASE[1],
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pfx"),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw"),
        ])
        .unwrap_err();
        assert!(error
            .message()
            .starts_with("encrypted keys are not supported"));
        assert!(!error.message().contains("pw "));
    }
}
