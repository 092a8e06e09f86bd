//! Client settings read from outside the program (environment variables, config files),
//! before any file they name has been read.

use std::rc::Rc;

use crate::client_options::{CertificateKeyOptions, ClientOptions, CredentialOptions};
use crate::credential::AssertionSource;
use crate::error::Error;
use crate::secret::Secret;

/// Reads a file's text for the host; `field` names the setting that gave the path.
pub type ReadFile = Rc<dyn Fn(&'static str, &str) -> Result<String, Error>>;

/// Where the authority comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthoritySetting {
    /// A full authority URL.
    Authority(String),
    /// A tenant, with the cloud's host if not the public cloud.
    Tenant {
        /// Tenant id or domain.
        tenant_id: String,
        /// Authority host, e.g. `https://login.microsoftonline.us`.
        host: Option<String>,
    },
}

/// The credential the settings name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSetting {
    /// A client secret.
    Secret(Secret),
    /// PEM files: the private key (possibly with the certificate) and optionally the
    /// certificate apart.
    CertificateFiles {
        /// File holding the private key (and maybe the certificate chain).
        key_path: String,
        /// File holding the certificate chain, when apart from the key.
        certificate_path: Option<String>,
        /// SHA-1 thumbprint (hex) instead of a certificate.
        thumbprint: Option<String>,
        /// Send the chain as `x5c`.
        send_x5c: bool,
    },
    /// A file holding a federated token, read afresh for every token request.
    FederatedTokenFile(String),
}

/// Everything needed to build a client, as read from settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSettings {
    /// Application (client) id.
    pub client_id: String,
    /// Authority or tenant.
    pub authority: AuthoritySetting,
    /// Credential.
    pub credential: CredentialSetting,
    /// Scopes the settings ask for (config files may name them).
    pub scopes: Vec<String>,
}

impl AppSettings {
    /// The client options these settings name, with the files they name read through
    /// `read_file` (a federated token file afresh for every token request: the platform
    /// rotates it).
    pub fn into_client_options(self, read_file: ReadFile) -> Result<ClientOptions, Error> {
        let mut options = ClientOptions {
            client_id: Some(self.client_id),
            ..ClientOptions::default()
        };
        match self.authority {
            AuthoritySetting::Authority(authority) => options.authority = Some(authority),
            AuthoritySetting::Tenant { tenant_id, host } => {
                options.tenant_id = Some(tenant_id);
                options.authority_host = host;
            }
        }
        let mut credential = CredentialOptions::default();
        match self.credential {
            CredentialSetting::Secret(secret) => credential.client_secret = Some(secret),
            CredentialSetting::CertificateFiles {
                key_path,
                certificate_path,
                thumbprint,
                send_x5c,
            } => {
                let certificate_pem = certificate_path
                    .map(|path| read_file("certificate", &path))
                    .transpose()?;
                credential.certificate = Some(CertificateKeyOptions {
                    private_key_pem: Some(Secret::new(read_file("certificate", &key_path)?)),
                    certificate_pem,
                    thumbprint,
                    send_x5c,
                    ..CertificateKeyOptions::default()
                });
            }
            CredentialSetting::FederatedTokenFile(path) => {
                credential.client_assertion =
                    Some(AssertionSource::Callback(Rc::new(move |_context| {
                        let token = read_file("AZURE_FEDERATED_TOKEN_FILE", &path)
                            .map(|token| Secret::new(token.trim()));
                        Box::pin(std::future::ready(token))
                    })));
            }
        }
        options.credential = Some(credential);
        Ok(options)
    }
}
