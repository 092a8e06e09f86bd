//! JWS signing and digests with WebCrypto (`crypto.subtle`), present in Node 20+, Deno, Bun
//! and Workers: no RSA or ECDSA code in the wasm.

use std::cell::RefCell;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsValue;

use super::fetch::describe_js_error;
use super::object::object;
use super::webcrypto::subtle_call;
use crate::assertion::JwsAlgorithm;
use crate::error::Error;
use crate::pem::{KeyType, PrivateKey};
use crate::ports::{LocalBoxFuture, Signer};

/// Signs with a PKCS#8 key imported into WebCrypto on first use, then reused.
pub struct WebCryptoSigner {
    algorithm: JwsAlgorithm,
    pkcs8_der: Vec<u8>,
    key: RefCell<Option<JsValue>>,
}

impl WebCryptoSigner {
    /// A signer for `key`; `algorithm` must suit the key type (RSA: PS256/RS256, EC: ES256).
    pub fn new(key: PrivateKey, algorithm: JwsAlgorithm) -> Result<Self, Error> {
        let suits = matches!(
            (key.key_type, algorithm),
            (KeyType::Rsa, JwsAlgorithm::Ps256 | JwsAlgorithm::Rs256)
                | (KeyType::EcP256, JwsAlgorithm::Es256)
        );
        if !suits {
            return Err(Error::invalid_config(
                "credential.certificate.algorithm",
                format!(
                    "{} does not fit a{} key: RSA keys sign PS256 or RS256, EC P-256 keys sign ES256",
                    algorithm.as_str(),
                    if key.key_type == KeyType::Rsa { "n RSA" } else { "n EC P-256" }
                ),
            ));
        }
        Ok(WebCryptoSigner {
            algorithm,
            pkcs8_der: key.pkcs8_der,
            key: RefCell::new(None),
        })
    }

    async fn crypto_key(&self) -> Result<JsValue, Error> {
        if let Some(key) = self.key.borrow().as_ref() {
            return Ok(key.clone());
        }
        let import_algorithm = match self.algorithm {
            JwsAlgorithm::Ps256 => {
                object(&[("name", "RSA-PSS".into()), ("hash", "SHA-256".into())])
            }
            JwsAlgorithm::Rs256 => object(&[
                ("name", "RSASSA-PKCS1-v1_5".into()),
                ("hash", "SHA-256".into()),
            ]),
            JwsAlgorithm::Es256 => {
                object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())])
            }
        };
        let usages: Array = [JsValue::from("sign")].into_iter().collect();
        let key = subtle_call(
            "importKey",
            &[
                "pkcs8".into(),
                Uint8Array::from(self.pkcs8_der.as_slice()).into(),
                import_algorithm.into(),
                JsValue::FALSE,
                usages.into(),
            ],
        )
        .await
        .map_err(|e| {
            Error::crypto(format!(
                "WebCrypto could not import the private key ({}); check that privateKeyPem holds an unencrypted RSA or P-256 key",
                describe_js_error(&e)
            ))
        })?;
        *self.key.borrow_mut() = Some(key.clone());
        Ok(key)
    }
}

impl Signer for WebCryptoSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        self.algorithm
    }

    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let key = self.crypto_key().await?;
            let parameters = match self.algorithm {
                JwsAlgorithm::Ps256 => {
                    object(&[("name", "RSA-PSS".into()), ("saltLength", 32.into())])
                }
                JwsAlgorithm::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5".into())]),
                // WebCrypto returns ECDSA signatures as r || s, which is JWS's form too.
                JwsAlgorithm::Es256 => {
                    object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())])
                }
            };
            let signature = subtle_call(
                "sign",
                &[
                    parameters.into(),
                    key,
                    Uint8Array::from(signing_input).into(),
                ],
            )
            .await
            .map_err(|e| {
                Error::crypto(format!(
                    "WebCrypto could not sign the client assertion: {}",
                    describe_js_error(&e)
                ))
            })?;
            Ok(Uint8Array::new(&signature).to_vec())
        })
    }

    fn digest<'a>(
        &'a self,
        sha256: bool,
        data: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let name = if sha256 { "SHA-256" } else { "SHA-1" };
            let digest = subtle_call("digest", &[name.into(), Uint8Array::from(data).into()])
                .await
                .map_err(|e| {
                    Error::crypto(format!(
                        "WebCrypto could not hash the certificate: {}",
                        describe_js_error(&e)
                    ))
                })?;
            Ok(Uint8Array::new(&digest).to_vec())
        })
    }
}
