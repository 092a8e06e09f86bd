//! A certificate credential from one PEM holding the private key and (usually) its
//! certificate chain — the shape of AZURE_CLIENT_CERTIFICATE_PATH files and Worker secrets.

use std::rc::Rc;

use super::WebCryptoSigner;
use crate::assertion::JwsAlgorithm;
use crate::credential::{CertificateCredential, CertificateOptions, Credential};
use crate::error::Error;
use crate::pem::{parse_certificates, parse_private_key, KeyType};

/// PS256 for RSA keys, ES256 for P-256 keys; `x5t#S256` from the first certificate.
pub fn credential_from_combined_pem(
    field: &'static str,
    pem: &str,
    send_x5c: bool,
) -> Result<Credential, Error> {
    let key = parse_private_key(field, pem)?;
    let algorithm = match key.key_type {
        KeyType::Rsa => JwsAlgorithm::Ps256,
        KeyType::EcP256 => JwsAlgorithm::Es256,
    };
    let certificate_chain = parse_certificates(field, pem).unwrap_or_default();
    let signer = WebCryptoSigner::new(key, algorithm)?;
    let credential = CertificateCredential::new(
        Rc::new(signer),
        CertificateOptions {
            certificate_chain,
            send_x5c,
            ..CertificateOptions::default()
        },
    )?;
    Ok(Credential::Certificate(Rc::new(credential)))
}
