//! Client settings read from outside the program (environment variables, config files),
//! before any file they name has been read.

use std::rc::Rc;

use crate::client_options::{CertificateKeyOptions, ClientOptions, CredentialOptions};
use crate::credential::AssertionSource;
use crate::error::Error;
use crate::secret::{ClientSecret, Secret};

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
    Secret(ClientSecret),
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

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::credential::AssertionContext;

    fn settings(credential: CredentialSetting) -> AppSettings {
        AppSettings {
            client_id: "app".into(),
            authority: AuthoritySetting::Tenant {
                tenant_id: "t1".into(),
                host: Some("https://login.microsoftonline.us".into()),
            },
            credential,
            scopes: Vec::new(),
        }
    }

    #[test]
    fn certificate_files_are_read_into_the_options() {
        let read: ReadFile = Rc::new(|field, path| Ok(format!("{field}:{path}")));
        let options = settings(CredentialSetting::CertificateFiles {
            key_path: "/key.pem".into(),
            certificate_path: Some("/cert.pem".into()),
            thumbprint: Some("ab".into()),
            send_x5c: true,
        })
        .into_client_options(read)
        .unwrap();
        assert_eq!(options.client_id.as_deref(), Some("app"));
        assert_eq!(options.tenant_id.as_deref(), Some("t1"));
        assert_eq!(
            options.authority_host.as_deref(),
            Some("https://login.microsoftonline.us")
        );
        let certificate = options.credential.unwrap().certificate.unwrap();
        assert_eq!(
            certificate.private_key_pem.unwrap().expose(),
            "certificate:/key.pem"
        );
        assert_eq!(
            certificate.certificate_pem.as_deref(),
            Some("certificate:/cert.pem")
        );
        assert_eq!(certificate.thumbprint.as_deref(), Some("ab"));
        assert!(certificate.send_x5c);
        let unreadable: ReadFile = Rc::new(|field, _| Err(Error::invalid_config(field, "gone")));
        let error = settings(CredentialSetting::CertificateFiles {
            key_path: "/key.pem".into(),
            certificate_path: None,
            thumbprint: None,
            send_x5c: false,
        })
        .into_client_options(unreadable)
        .err()
        .unwrap();
        assert_eq!(error.field(), Some("certificate"));
    }

    #[test]
    fn a_federated_token_file_is_read_afresh_for_each_request() {
        let reads = Rc::new(Cell::new(0));
        let counted = reads.clone();
        let read: ReadFile = Rc::new(move |field, path| {
            counted.set(counted.get() + 1);
            assert_eq!((field, path), ("AZURE_FEDERATED_TOKEN_FILE", "/token"));
            Ok(format!("jwt-{}\n", counted.get()))
        });
        let options = settings(CredentialSetting::FederatedTokenFile("/token".into()))
            .into_client_options(read)
            .unwrap();
        assert_eq!(reads.get(), 0, "nothing read before a token is needed");
        let Some(AssertionSource::Callback(callback)) =
            options.credential.unwrap().client_assertion
        else {
            panic!("a callback");
        };
        let context = || AssertionContext {
            client_id: "app".into(),
            token_endpoint: "https://h/t1/oauth2/v2.0/token".into(),
        };
        let first = futures::executor::block_on(callback(context())).unwrap();
        let second = futures::executor::block_on(callback(context())).unwrap();
        assert_eq!((first.expose(), second.expose()), ("jwt-1", "jwt-2"));
    }
}
