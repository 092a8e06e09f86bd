//! How the client proves its identity: a client secret, a certificate (a client assertion
//! signed through the [`Signer`] port), or a client assertion from elsewhere (federated
//! credentials, workload identity).

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use crate::assertion::{
    base64url, compact_jwt, signing_input, uuid_v4, AssertionHeader, JwsAlgorithm, Thumbprint,
};
use crate::error::Error;
use crate::ports::{LocalBoxFuture, Signer};
use crate::secret::{ClientSecret, Secret};

/// How a client secret is sent (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretAuthMethod {
    /// `client_secret` in the form body (Entra's way; the default).
    Post,
    /// HTTP Basic with the form-urlencoded id and secret.
    Basic,
}

/// What an assertion callback is told about the request it signs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionContext {
    /// The client id.
    pub client_id: String,
    /// The token endpoint URL (without query parameters).
    pub token_endpoint: String,
}

/// Produces a client assertion when a token must be fetched.
pub type AssertionCallback =
    Rc<dyn Fn(AssertionContext) -> LocalBoxFuture<'static, Result<Secret, Error>>>;

/// The application's credential.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credential {
    /// A client secret.
    ClientSecret {
        /// The secret.
        secret: ClientSecret,
        /// Where it goes: the body or HTTP Basic.
        method: SecretAuthMethod,
    },
    /// A private key (and usually its certificate) signing a fresh assertion per request.
    Certificate(Rc<CertificateCredential>),
    /// A ready-made assertion, fixed or produced by a callback per request.
    Assertion(AssertionSource),
}

/// Where a client assertion comes from.
#[derive(Clone)]
pub enum AssertionSource {
    /// The same assertion every time (the caller refreshes the client when it expires).
    Fixed(Secret),
    /// Called each time a token must be fetched.
    Callback(AssertionCallback),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ClientSecret { method, .. } => {
                write!(f, "ClientSecret({method:?}, <redacted>)")
            }
            Credential::Certificate(certificate) => {
                write!(f, "Certificate({:?})", certificate.signer.algorithm())
            }
            Credential::Assertion(AssertionSource::Fixed(_)) => {
                f.write_str("Assertion(<redacted>)")
            }
            Credential::Assertion(AssertionSource::Callback(_)) => {
                f.write_str("Assertion(<callback>)")
            }
        }
    }
}

impl Credential {
    /// A client secret sent in the body; the secret must not be empty.
    pub fn client_secret(secret: impl Into<String>) -> Result<Self, Error> {
        Self::client_secret_with(secret, SecretAuthMethod::Post)
    }

    /// A client secret sent as `method` says.
    pub fn client_secret_with(
        secret: impl Into<String>,
        method: SecretAuthMethod,
    ) -> Result<Self, Error> {
        let secret = ClientSecret::new(secret);
        if secret.is_empty() {
            return Err(Error::invalid_config(
                "credential.clientSecret",
                "credential.clientSecret is empty: pass the secret's value (not its id) from the app registration's \"Certificates & secrets\" page",
            ));
        }
        Ok(Credential::ClientSecret { secret, method })
    }

    /// A fixed client assertion; it must not be empty.
    pub fn client_assertion(assertion: impl Into<String>) -> Result<Self, Error> {
        let assertion = Secret::new(assertion);
        if assertion.is_empty() {
            return Err(Error::invalid_config(
                "credential.clientAssertion",
                "credential.clientAssertion is empty: pass a signed JWT or a function returning one",
            ));
        }
        Ok(Credential::Assertion(AssertionSource::Fixed(assertion)))
    }

    /// Resolves the credential for one token request: signs a fresh assertion (new `jti`) or
    /// asks the callback, as needed.
    pub async fn resolve(
        &self,
        client_id: &str,
        token_endpoint: &str,
        audience: &str,
        now_ms: u64,
    ) -> Result<ResolvedCredential, Error> {
        match self {
            Credential::ClientSecret { secret, method } => Ok(match method {
                SecretAuthMethod::Post => ResolvedCredential::SecretPost(secret.clone()),
                SecretAuthMethod::Basic => ResolvedCredential::SecretBasic(secret.clone()),
            }),
            Credential::Certificate(certificate) => certificate
                .sign_assertion(audience, client_id, now_ms)
                .await
                .map(ResolvedCredential::Assertion),
            Credential::Assertion(AssertionSource::Fixed(assertion)) => {
                Ok(ResolvedCredential::Assertion(assertion.clone()))
            }
            Credential::Assertion(AssertionSource::Callback(callback)) => {
                let assertion = callback(AssertionContext {
                    client_id: client_id.to_owned(),
                    token_endpoint: token_endpoint.to_owned(),
                })
                .await?;
                if assertion.is_empty() {
                    return Err(Error::invalid_config(
                        "credential.clientAssertion",
                        "the clientAssertion callback returned an empty assertion",
                    ));
                }
                Ok(ResolvedCredential::Assertion(assertion))
            }
        }
    }
}

/// A credential ready to be put on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedCredential {
    /// `client_secret` in the body.
    SecretPost(ClientSecret),
    /// HTTP Basic authentication.
    SecretBasic(ClientSecret),
    /// `client_assertion_type` + `client_assertion` in the body.
    Assertion(Secret),
}

/// How a certificate credential identifies its key.
#[derive(Debug, Clone, Default)]
pub struct CertificateOptions {
    /// Certificate chain DER, leaf first (may be empty when a thumbprint is given).
    pub certificate_chain: Vec<Vec<u8>>,
    /// SHA-256 thumbprint (base64url), instead of computing it from the certificate.
    pub thumbprint_sha256: Option<String>,
    /// SHA-1 thumbprint (base64url), instead of computing it from the certificate.
    pub thumbprint_sha1: Option<String>,
    /// Send the chain as `x5c` (subject name / issuer authentication).
    pub send_x5c: bool,
    /// `kid` header (ES256 with generic OIDC servers).
    pub key_id: Option<String>,
}

/// A private key that signs client assertions, with what identifies it to the server.
pub struct CertificateCredential {
    signer: Rc<dyn Signer>,
    options: CertificateOptions,
    /// The header, built on first use: the thumbprint may need a digest from the signer.
    header: RefCell<Option<AssertionHeader>>,
}

impl CertificateCredential {
    /// Checks the options that make sense for any server. A key needs no identifier at all
    /// for servers that know the client's one key (RFC 7523); Entra's stricter rule is
    /// [`Self::check_entra_identification`], applied by [`crate::ClientConfig::new`].
    pub fn new(signer: Rc<dyn Signer>, options: CertificateOptions) -> Result<Self, Error> {
        let has_certificate = !options.certificate_chain.is_empty();
        if signer.algorithm() != JwsAlgorithm::Rs256
            && options.thumbprint_sha1.is_some()
            && !has_certificate
            && options.thumbprint_sha256.is_none()
        {
            return Err(Error::invalid_config(
                "credential.certificate",
                "a SHA-1 thumbprint (x5t) identifies the key only in RS256 assertions: set algorithm: \"RS256\", or pass thumbprintSha256 or the certificate",
            ));
        }
        if options.send_x5c && !has_certificate {
            return Err(Error::invalid_config(
                "credential.certificate.sendX5c",
                "sendX5c needs certificatePem: x5c carries the certificate chain",
            ));
        }
        Ok(CertificateCredential {
            signer,
            options,
            header: RefCell::new(None),
        })
    }

    /// Entra ID finds the uploaded certificate that signed an assertion by its thumbprint:
    /// PS256 (and ES256) assertions carry `x5t#S256`, RS256 ones `x5t` (SHA-1), so the
    /// certificate or that thumbprint must be given.
    pub fn check_entra_identification(&self) -> Result<(), Error> {
        let options = &self.options;
        let has_certificate = !options.certificate_chain.is_empty();
        let identified = match self.algorithm() {
            JwsAlgorithm::Rs256 => has_certificate || options.thumbprint_sha1.is_some(),
            _ => has_certificate || options.thumbprint_sha256.is_some(),
        };
        if identified {
            return Ok(());
        }
        Err(Error::invalid_config(
            "credential.certificate",
            match self.algorithm() {
                JwsAlgorithm::Rs256 => "Entra ID needs to know which uploaded certificate signed: RS256 assertions carry its SHA-1 thumbprint (x5t), so pass certificatePem or thumbprint",
                _ => "Entra ID needs to know which uploaded certificate signed: pass certificatePem (or thumbprintSha256) with the private key",
            },
        ))
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> JwsAlgorithm {
        self.signer.algorithm()
    }

    async fn header(&self) -> Result<AssertionHeader, Error> {
        if let Some(header) = self.header.borrow().as_ref() {
            return Ok(header.clone());
        }
        let leaf = self.options.certificate_chain.first();
        let thumbprint = match (self.algorithm(), leaf) {
            (JwsAlgorithm::Rs256, _) if self.options.thumbprint_sha1.is_some() => {
                self.options.thumbprint_sha1.clone().map(Thumbprint::Sha1)
            }
            (JwsAlgorithm::Rs256, Some(leaf)) => Some(Thumbprint::Sha1(base64url(
                &self.signer.digest(false, leaf).await?,
            ))),
            (_, _) if self.options.thumbprint_sha256.is_some() => self
                .options
                .thumbprint_sha256
                .clone()
                .map(Thumbprint::Sha256),
            (_, Some(leaf)) => Some(Thumbprint::Sha256(base64url(
                &self.signer.digest(true, leaf).await?,
            ))),
            (_, None) => None,
        };
        let header = AssertionHeader {
            algorithm: self.algorithm(),
            thumbprint,
            key_id: self.options.key_id.clone(),
            x5c: if self.options.send_x5c {
                self.options.certificate_chain.clone()
            } else {
                Vec::new()
            },
        };
        *self.header.borrow_mut() = Some(header.clone());
        Ok(header)
    }

    /// Signs a fresh assertion (new `jti`) for `audience`.
    pub async fn sign_assertion(
        &self,
        audience: &str,
        client_id: &str,
        now_ms: u64,
    ) -> Result<Secret, Error> {
        let header = self.header().await?;
        let jti = uuid_v4()?;
        let input = signing_input(&header, audience, client_id, &jti, now_ms);
        let signature = self.signer.sign(input.as_bytes()).await?;
        Ok(Secret::new(compact_jwt(&input, &signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use std::cell::Cell;

    /// Signs by echoing a marker and counts digests, so tests see what reached the signer.
    struct FakeSigner {
        algorithm: JwsAlgorithm,
        digests: Cell<usize>,
    }

    impl Signer for FakeSigner {
        fn algorithm(&self) -> JwsAlgorithm {
            self.algorithm
        }
        fn sign<'a>(&'a self, input: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
            Box::pin(async move { Ok(format!("sig({})", input.len()).into_bytes()) })
        }
        fn digest<'a>(
            &'a self,
            sha256: bool,
            data: &'a [u8],
        ) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
            self.digests.set(self.digests.get() + 1);
            Box::pin(async move { Ok(vec![if sha256 { 0xee } else { 0x11 }; data.len()]) })
        }
    }

    fn signer(algorithm: JwsAlgorithm) -> Rc<FakeSigner> {
        Rc::new(FakeSigner {
            algorithm,
            digests: Cell::new(0),
        })
    }

    fn header_of(jwt: &str) -> serde_json::Value {
        let head = jwt.split('.').next().unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap()
    }

    fn claims_of(jwt: &str) -> serde_json::Value {
        let claims = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
    }

    #[test]
    fn ps256_uses_the_sha256_thumbprint_computed_once() {
        let fake = signer(JwsAlgorithm::Ps256);
        let credential = CertificateCredential::new(
            fake.clone(),
            CertificateOptions {
                certificate_chain: vec![vec![1, 2], vec![3]],
                send_x5c: true,
                ..Default::default()
            },
        )
        .unwrap();
        let first = pollster::block_on(credential.sign_assertion("aud", "app", 5_000)).unwrap();
        let second = pollster::block_on(credential.sign_assertion("aud", "app", 5_000)).unwrap();
        assert_eq!(
            fake.digests.get(),
            1,
            "the thumbprint is computed once per client"
        );
        let header = header_of(first.expose());
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["x5t#S256"], base64url(&[0xee, 0xee]));
        assert_eq!(header["x5c"], serde_json::json!(["AQI=", "Aw=="]));
        assert!(header.get("x5t").is_none());
        assert_ne!(
            claims_of(first.expose())["jti"],
            claims_of(second.expose())["jti"],
            "every assertion gets a fresh jti"
        );
        let (input, signature) = first.expose().rsplit_once('.').unwrap();
        assert_eq!(
            signature,
            base64url(format!("sig({})", input.len()).as_bytes())
        );
    }

    #[test]
    fn rs256_uses_the_sha1_thumbprint() {
        let credential = CertificateCredential::new(
            signer(JwsAlgorithm::Rs256),
            CertificateOptions {
                certificate_chain: vec![vec![9, 9, 9]],
                ..Default::default()
            },
        )
        .unwrap();
        let jwt = pollster::block_on(credential.sign_assertion("aud", "app", 0)).unwrap();
        let header = header_of(jwt.expose());
        assert_eq!(header["x5t"], base64url(&[0x11, 0x11, 0x11]));
        assert!(header.get("x5t#S256").is_none());
        assert!(header.get("x5c").is_none());
    }

    #[test]
    fn given_thumbprints_and_key_ids_need_no_certificate() {
        let by_thumbprint = CertificateCredential::new(
            signer(JwsAlgorithm::Ps256),
            CertificateOptions {
                thumbprint_sha256: Some("given".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let jwt = pollster::block_on(by_thumbprint.sign_assertion("aud", "app", 0)).unwrap();
        assert_eq!(header_of(jwt.expose())["x5t#S256"], "given");

        // RS256: a given SHA-1 thumbprint wins over one computed from the certificate.
        let rs256 = CertificateCredential::new(
            signer(JwsAlgorithm::Rs256),
            CertificateOptions {
                certificate_chain: vec![vec![0x30, 0x00]],
                thumbprint_sha1: Some("given-sha1".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let jwt = pollster::block_on(rs256.sign_assertion("aud", "app", 0)).unwrap();
        assert_eq!(
            header_of(jwt.expose()),
            serde_json::json!({"alg":"RS256","typ":"JWT","x5t":"given-sha1"})
        );

        let es256 = CertificateCredential::new(
            signer(JwsAlgorithm::Es256),
            CertificateOptions {
                key_id: Some("k1".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let jwt = pollster::block_on(es256.sign_assertion("aud", "app", 0)).unwrap();
        assert_eq!(
            header_of(jwt.expose()),
            serde_json::json!({"alg":"ES256","typ":"JWT","kid":"k1"})
        );
    }

    #[test]
    fn rejects_options_that_cannot_identify_the_key() {
        for (algorithm, options, expected) in [
            (
                JwsAlgorithm::Ps256,
                CertificateOptions {
                    thumbprint_sha1: Some("x".into()),
                    ..Default::default()
                },
                "only in RS256",
            ),
            (
                JwsAlgorithm::Es256,
                CertificateOptions {
                    send_x5c: true,
                    ..Default::default()
                },
                "sendX5c needs certificatePem",
            ),
        ] {
            let error = CertificateCredential::new(signer(algorithm), options)
                .err()
                .unwrap();
            assert!(error.message().contains(expected), "{error}");
            assert!(!error.message().contains("Entra"), "{error}");
        }
    }

    #[test]
    fn any_algorithm_signs_with_a_key_id_or_no_identifier_at_all() {
        for algorithm in [
            JwsAlgorithm::Ps256,
            JwsAlgorithm::Rs256,
            JwsAlgorithm::Es256,
        ] {
            let bare = CertificateCredential::new(signer(algorithm), CertificateOptions::default())
                .unwrap();
            let jwt =
                pollster::block_on(bare.sign_assertion("https://idp/token", "app", 0)).unwrap();
            assert_eq!(
                header_of(jwt.expose()),
                serde_json::json!({"alg": algorithm.as_str(), "typ": "JWT"})
            );
            let error = bare.check_entra_identification().unwrap_err();
            assert!(error.message().starts_with("Entra ID needs"), "{error}");
            assert_eq!(
                error.message().contains("SHA-1 thumbprint (x5t)"),
                algorithm == JwsAlgorithm::Rs256,
                "{error}"
            );
            // Entra needs the thumbprint the algorithm's header carries: SHA-1 for RS256.
            let thumbprinted = |sha1: bool| {
                CertificateCredential::new(
                    signer(algorithm),
                    CertificateOptions {
                        thumbprint_sha1: sha1.then(|| "t1".into()),
                        thumbprint_sha256: (!sha1).then(|| "t256".into()),
                        ..Default::default()
                    },
                )
            };
            let with_certificate = CertificateCredential::new(
                signer(algorithm),
                CertificateOptions {
                    certificate_chain: vec![vec![0x30, 0x00]],
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(with_certificate.check_entra_identification().is_ok());
            let rs256 = algorithm == JwsAlgorithm::Rs256;
            assert!(thumbprinted(rs256)
                .unwrap()
                .check_entra_identification()
                .is_ok());
            if let Ok(other) = thumbprinted(!rs256) {
                assert!(other.check_entra_identification().is_err(), "{algorithm:?}");
            }
            let bare = Credential::Certificate(Rc::new(bare));
            let generic =
                crate::TokenEndpoint::generic("https://idp.example/oauth2/token").unwrap();
            assert!(crate::ClientConfig::new("app", generic, bare.clone()).is_ok());
            let entra = crate::TokenEndpoint::from_authority(
                "https://login.microsoftonline.com/contoso.com",
            )
            .unwrap();
            let error = crate::ClientConfig::new("app", entra, bare).unwrap_err();
            assert_eq!(error.field(), Some("credential.certificate"));

            let with_kid = CertificateCredential::new(
                signer(algorithm),
                CertificateOptions {
                    key_id: Some("key-2026".into()),
                    ..Default::default()
                },
            )
            .unwrap();
            let jwt =
                pollster::block_on(with_kid.sign_assertion("https://idp/token", "app", 0)).unwrap();
            assert_eq!(
                header_of(jwt.expose()),
                serde_json::json!({"alg": algorithm.as_str(), "typ": "JWT", "kid": "key-2026"})
            );
        }
    }

    #[test]
    fn callbacks_get_the_client_and_endpoint() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        let credential = Credential::Assertion(AssertionSource::Callback(Rc::new(move |ctx| {
            log.borrow_mut().push(ctx);
            Box::pin(async { Ok(Secret::new("federated.jwt.value")) })
        })));
        let resolved =
            pollster::block_on(credential.resolve("app", "https://idp/token", "aud", 0)).unwrap();
        assert_eq!(
            resolved,
            ResolvedCredential::Assertion(Secret::new("federated.jwt.value"))
        );
        assert_eq!(
            seen.borrow().as_slice(),
            &[AssertionContext {
                client_id: "app".into(),
                token_endpoint: "https://idp/token".into()
            }]
        );
        let empty = Credential::Assertion(AssertionSource::Callback(Rc::new(|_| {
            Box::pin(async { Ok(Secret::new("")) })
        })));
        assert!(pollster::block_on(empty.resolve("app", "e", "a", 0)).is_err());
    }

    #[test]
    fn secrets_resolve_by_method_and_never_print() {
        let post = Credential::client_secret("hunter2").unwrap();
        let basic = Credential::client_secret_with("hunter2", SecretAuthMethod::Basic).unwrap();
        assert_eq!(
            pollster::block_on(post.resolve("a", "e", "a", 0)).unwrap(),
            ResolvedCredential::SecretPost(ClientSecret::new("hunter2"))
        );
        assert_eq!(
            pollster::block_on(basic.resolve("a", "e", "a", 0)).unwrap(),
            ResolvedCredential::SecretBasic(ClientSecret::new("hunter2"))
        );
        assert_eq!(
            format!("{post:?} {basic:?}"),
            "ClientSecret(Post, <redacted>) ClientSecret(Basic, <redacted>)"
        );
        assert_eq!(
            format!("{:?}", Credential::client_assertion("a.b.c").unwrap()),
            "Assertion(<redacted>)"
        );
        assert_eq!(
            Credential::client_secret("").unwrap_err().field(),
            Some("credential.clientSecret")
        );
        assert!(Credential::client_assertion("").is_err());
        assert!(!format!("{:?}", Credential::client_assertion("a.b.c").unwrap()).contains("a.b.c"));
    }
}
