//! Client settings read from outside the program (environment variables, config files),
//! before any file they name has been read.

use crate::secret::Secret;

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
