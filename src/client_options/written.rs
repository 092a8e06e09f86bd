//! [`ClientOptions`] written back as the options object a host's constructor takes (what the
//! npm module's `loadConfigFile` returns), as a small tree the host turns into its own values.

use super::ClientOptions;
use crate::credential::AssertionSource;
use crate::error::Error;
use crate::secret::{ClientSecret, Secret};

/// A written option's value.
pub enum Written<'a> {
    /// A string (the secret too: the written options are the caller's to keep).
    Text(&'a str),
    /// A boolean.
    Flag(bool),
    /// An object of named values, in order.
    Object(Vec<(&'static str, Written<'a>)>),
}

impl ClientOptions {
    /// The options as written: those a config file or the environment can set (the
    /// endpoint, the client id and the credential). A credential that is a callback has no
    /// written form.
    pub fn written(&self) -> Result<Vec<(&'static str, Written<'_>)>, Error> {
        let mut written = texts(&[
            ("clientId", self.client_id.as_deref()),
            ("authority", self.authority.as_deref()),
            ("tenantId", self.tenant_id.as_deref()),
            ("authorityHost", self.authority_host.as_deref()),
            ("tokenEndpoint", self.token_endpoint.as_deref()),
        ]);
        let Some(credential) = &self.credential else {
            return Ok(written);
        };
        let secret = credential.client_secret.as_ref().map(ClientSecret::expose);
        let mut credential_fields = texts(&[("clientSecret", secret)]);
        if let Some(certificate) = &credential.certificate {
            let mut fields = vec![("sendX5c", Written::Flag(certificate.send_x5c))];
            fields.extend(texts(&[
                (
                    "privateKeyPem",
                    certificate.private_key_pem.as_ref().map(Secret::expose),
                ),
                ("certificatePem", certificate.certificate_pem.as_deref()),
                ("thumbprint", certificate.thumbprint.as_deref()),
            ]));
            credential_fields.push(("certificate", Written::Object(fields)));
        }
        match &credential.client_assertion {
            Some(AssertionSource::Fixed(assertion)) => {
                credential_fields.push(("clientAssertion", Written::Text(assertion.expose())))
            }
            // Config files name no federated token file, the one source of callbacks.
            Some(AssertionSource::Callback(_)) => {
                return Err(Error::invalid_config(
                    "configFile",
                    "a clientAssertion callback cannot be written as options",
                ))
            }
            None => {}
        }
        written.push(("credential", Written::Object(credential_fields)));
        Ok(written)
    }
}

/// The given ones of `fields`.
fn texts<'a>(fields: &[(&'static str, Option<&'a str>)]) -> Vec<(&'static str, Written<'a>)> {
    fields
        .iter()
        .filter_map(|&(name, value)| Some((name, Written::Text(value?))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_options::{CertificateKeyOptions, CredentialOptions};

    /// The written tree as compact JSON-like text, for comparing.
    fn show(fields: &[(&str, Written<'_>)]) -> String {
        let shown: Vec<String> = fields
            .iter()
            .map(|(name, value)| match value {
                Written::Text(text) => format!("{name}:{text:?}"),
                Written::Flag(flag) => format!("{name}:{flag}"),
                Written::Object(fields) => format!("{name}:{}", show(fields)),
            })
            .collect();
        format!("{{{}}}", shown.join(","))
    }

    #[test]
    fn endpoint_client_and_credential_are_written() {
        let options = ClientOptions {
            client_id: Some("app".into()),
            tenant_id: Some("t".into()),
            max_retries: Some(1),
            credential: Some(CredentialOptions {
                client_secret: Some(ClientSecret::new("s")),
                certificate: Some(CertificateKeyOptions {
                    private_key_pem: Some(Secret::new("key")),
                    thumbprint: Some("ab".into()),
                    ..CertificateKeyOptions::default()
                }),
                client_assertion: Some(AssertionSource::Fixed(Secret::new("jwt"))),
            }),
            ..ClientOptions::default()
        };
        assert_eq!(
            show(&options.written().unwrap()),
            r#"{clientId:"app",tenantId:"t",credential:{clientSecret:"s",certificate:{sendX5c:false,privateKeyPem:"key",thumbprint:"ab"},clientAssertion:"jwt"}}"#
        );
        assert_eq!(show(&ClientOptions::default().written().unwrap()), "{}");
    }

    #[test]
    fn a_callback_has_no_written_form() {
        let options = ClientOptions {
            credential: Some(CredentialOptions {
                client_assertion: Some(AssertionSource::Callback(std::rc::Rc::new(|_| {
                    Box::pin(std::future::ready(Ok(Secret::new("jwt"))))
                }))),
                ..CredentialOptions::default()
            }),
            ..ClientOptions::default()
        };
        let error = options.written().err().unwrap();
        assert_eq!(error.field(), Some("configFile"));
    }
}
