use super::*;
use crate::ports::LocalBoxFuture;

const RSA_KEY: &str = include_str!("../../tests/fixtures/rsa-pkcs8.key.pem");
const RSA_CERT: &str = include_str!("../../tests/fixtures/rsa.cert.pem");
const EC_KEY: &str = include_str!("../../tests/fixtures/ec-pkcs8.key.pem");
const SHA1_HEX: &str = "00112233445566778899aabbccddeeff00112233";

/// Signs nothing: these tests look at the configuration only.
struct FakeSigner(JwsAlgorithm);

impl Signer for FakeSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        self.0
    }
    fn sign<'a>(&'a self, _: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn digest<'a>(&'a self, _: bool, _: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async { Ok(vec![0; 32]) })
    }
}

fn fake_signer(_: PrivateKey, algorithm: JwsAlgorithm) -> Result<Rc<dyn Signer>, Error> {
    Ok(Rc::new(FakeSigner(algorithm)))
}

fn secret() -> Option<CredentialOptions> {
    Some(CredentialOptions {
        client_secret: Some(ClientSecret::new("s3cret")),
        ..CredentialOptions::default()
    })
}

fn options() -> ClientOptions {
    ClientOptions {
        client_id: Some("app".into()),
        tenant_id: Some("contoso.onmicrosoft.com".into()),
        credential: secret(),
        ..ClientOptions::default()
    }
}

fn refused(options: ClientOptions) -> Error {
    options.into_config(&fake_signer).unwrap_err()
}

#[test]
fn defaults_unless_set() {
    let config = options().into_config(&fake_signer).unwrap();
    assert_eq!(*config.retry_policy(), RetryPolicy::default());
    assert_eq!(config.expiry_buffer_ms(), 300_000);
    let config = ClientOptions {
        max_retries: Some(0),
        attempt_timeout_ms: Some(whole_number_text(" 250 ")),
        total_timeout_ms: Some(whole_number(3000.0)),
        expiry_buffer_seconds: Some(60),
        max_cache_entries: Some(0),
        ..options()
    }
    .into_config(&fake_signer)
    .unwrap();
    let retry = config.retry_policy();
    assert_eq!(retry.max_retries, 0);
    assert_eq!(retry.attempt_timeout_ms, 250);
    assert_eq!(retry.total_timeout_ms, 3000);
    assert_eq!(retry.base_delay_ms, RetryPolicy::default().base_delay_ms);
    assert_eq!(config.expiry_buffer_ms(), 60_000);
    assert_eq!(config.cache_capacity, 1, "0 entries keeps one");
}

/// Options with one count set.
type WithCount = fn(u64) -> ClientOptions;

#[test]
fn counts_outside_their_range_name_the_option_and_the_range() {
    let cases: [(WithCount, u64, &str, &str); 10] = [
        (
            |n| ClientOptions {
                max_retries: Some(n),
                ..options()
            },
            11,
            "maxRetries",
            "from 0 to 10",
        ),
        (
            |n| ClientOptions {
                max_retries: Some(n),
                ..options()
            },
            whole_number_text("-1"),
            "maxRetries",
            "from 0 to 10",
        ),
        (
            |n| ClientOptions {
                attempt_timeout_ms: Some(n),
                ..options()
            },
            0,
            "attemptTimeoutMs",
            "from 1 to 600000",
        ),
        (
            |n| ClientOptions {
                attempt_timeout_ms: Some(n),
                ..options()
            },
            whole_number_text("1.5"),
            "attemptTimeoutMs",
            "from 1 to 600000",
        ),
        (
            |n| ClientOptions {
                attempt_timeout_ms: Some(n),
                ..options()
            },
            whole_number(1.5),
            "attemptTimeoutMs",
            "from 1 to 600000",
        ),
        (
            |n| ClientOptions {
                total_timeout_ms: Some(n),
                ..options()
            },
            3_600_001,
            "totalTimeoutMs",
            "from 1 to 3600000",
        ),
        (
            |n| ClientOptions {
                total_timeout_ms: Some(n),
                ..options()
            },
            whole_number_text("soon"),
            "totalTimeoutMs",
            "from 1 to 3600000",
        ),
        (
            |n| ClientOptions {
                total_timeout_ms: Some(n),
                ..options()
            },
            whole_number_text("99999999999999999999999"),
            "totalTimeoutMs",
            "from 1 to 3600000",
        ),
        (
            |n| ClientOptions {
                expiry_buffer_seconds: Some(n),
                ..options()
            },
            whole_number(f64::NAN),
            "expiryBufferSeconds",
            "from 0 to 86400",
        ),
        (
            |n| ClientOptions {
                max_cache_entries: Some(n),
                ..options()
            },
            1_000_001,
            "maxCacheEntries",
            "from 0 to 1000000",
        ),
    ];
    for (with, value, field, range) in cases {
        let error = refused(with(value));
        assert_eq!(error.field(), Some(field));
        assert_eq!(
            error.message(),
            format!("{field} must be a whole number {range}")
        );
    }
}

#[test]
fn hosts_read_counts_as_whole_numbers_or_none() {
    assert_eq!(whole_number(600_000.0), 600_000);
    assert_eq!(whole_number_text(" 42 "), 42);
    for number in [-1.0, 0.5, f64::INFINITY, 9_007_199_254_740_992.0] {
        assert_eq!(whole_number(number), NOT_A_WHOLE_NUMBER, "{number}");
    }
    for text in ["", "+1", "1e3", "0x10", "18446744073709551616"] {
        assert_eq!(whole_number_text(text), NOT_A_WHOLE_NUMBER, "{text}");
    }
}

#[test]
fn exactly_one_endpoint_choice() {
    let endpoint =
        |authority: Option<&str>, tenant: Option<&str>, host: Option<&str>, url: Option<&str>| {
            ClientOptions {
                authority: authority.map(Into::into),
                tenant_id: tenant.map(Into::into),
                authority_host: host.map(Into::into),
                token_endpoint: url.map(Into::into),
                ..options()
            }
            .into_config(&fake_signer)
            .map(|config| config.token_endpoint().url())
        };
    assert_eq!(
        endpoint(
            None,
            Some("t1"),
            Some("https://login.microsoftonline.us"),
            None
        )
        .unwrap(),
        "https://login.microsoftonline.us/t1/oauth2/v2.0/token"
    );
    assert!(endpoint(
        Some("https://login.microsoftonline.com/t1"),
        None,
        None,
        None
    )
    .is_ok());
    assert!(endpoint(None, None, None, Some("https://idp.example/token")).is_ok());
    for (authority, tenant, host, url, message) in [
        (None, None, None, None, "authority is required"),
        (Some("https://h/t"), Some("t"), None, None, "exactly one"),
        (
            None,
            Some("t"),
            None,
            Some("https://h/token"),
            "exactly one",
        ),
        (
            Some("https://h/t"),
            None,
            Some("https://h"),
            None,
            "exactly one",
        ),
        (
            None,
            None,
            Some("https://h"),
            Some("https://h/token"),
            "exactly one",
        ),
    ] {
        let error = endpoint(authority, tenant, host, url).unwrap_err();
        assert_eq!(error.field(), Some("authority"));
        assert!(error.message().contains(message), "{}", error.message());
    }
    let error = endpoint(None, None, None, Some("ftp://h/token")).unwrap_err();
    assert_eq!(error.field(), Some("tokenEndpoint"));
}

#[test]
fn client_id_comes_first_and_credential_takes_exactly_one() {
    assert_eq!(refused(ClientOptions::default()).field(), Some("clientId"));
    let none = refused(ClientOptions {
        credential: None,
        ..options()
    });
    assert_eq!(none.field(), Some("credential"));
    assert!(none.message().contains("needs one of"));
    let two = refused(ClientOptions {
        credential: Some(CredentialOptions {
            client_secret: Some(ClientSecret::new("s")),
            certificate: Some(CertificateKeyOptions::default()),
            ..CredentialOptions::default()
        }),
        ..options()
    });
    assert_eq!(two.field(), Some("credential"));
    assert!(two.message().contains("exactly one"));
    let method = refused(ClientOptions {
        client_auth_method: Some("private_key_jwt".into()),
        ..options()
    });
    assert_eq!(method.field(), Some("clientAuthMethod"));
    let empty = refused(ClientOptions {
        credential: Some(CredentialOptions {
            client_assertion: Some(AssertionSource::Fixed(Secret::new(""))),
            ..CredentialOptions::default()
        }),
        ..options()
    });
    assert_eq!(empty.field(), Some("credential.clientAssertion"));
}

fn certificate(options: CertificateKeyOptions) -> Result<JwsAlgorithm, Error> {
    let config = ClientOptions {
        credential: Some(CredentialOptions {
            certificate: Some(options),
            ..CredentialOptions::default()
        }),
        tenant_id: None,
        token_endpoint: Some("https://idp.example/token".into()),
        ..self::options()
    }
    .into_config(&fake_signer)?;
    match &config.credential {
        Credential::Certificate(certificate) => Ok(certificate.algorithm()),
        other => panic!("not a certificate: {other:?}"),
    }
}

fn key(pem: &str) -> CertificateKeyOptions {
    CertificateKeyOptions {
        private_key_pem: Some(Secret::new(pem)),
        ..CertificateKeyOptions::default()
    }
}

#[test]
fn the_certificate_recipe_chooses_the_algorithm() {
    assert_eq!(certificate(key(EC_KEY)).unwrap(), JwsAlgorithm::Es256);
    assert_eq!(certificate(key(RSA_KEY)).unwrap(), JwsAlgorithm::Ps256);
    let combined = key(&format!("{RSA_KEY}\n{RSA_CERT}"));
    assert_eq!(certificate(combined).unwrap(), JwsAlgorithm::Ps256);
    let sha1_only = CertificateKeyOptions {
        thumbprint: Some(SHA1_HEX.into()),
        ..key(RSA_KEY)
    };
    assert_eq!(certificate(sha1_only).unwrap(), JwsAlgorithm::Rs256);
    let named = CertificateKeyOptions {
        algorithm: Some("RS256".into()),
        certificate_pem: Some(RSA_CERT.into()),
        ..key(RSA_KEY)
    };
    assert_eq!(certificate(named).unwrap(), JwsAlgorithm::Rs256);
}

#[test]
fn certificate_problems_name_the_option() {
    let field = |options| certificate(options).unwrap_err().field();
    assert_eq!(
        field(CertificateKeyOptions::default()),
        Some("credential.certificate.privateKeyPem")
    );
    assert_eq!(
        field(key(RSA_CERT)),
        Some("credential.certificate.privateKeyPem")
    );
    let thumbprint = CertificateKeyOptions {
        thumbprint: Some("abc".into()),
        ..key(RSA_KEY)
    };
    assert_eq!(field(thumbprint), Some("credential.certificate.thumbprint"));
    let chain = CertificateKeyOptions {
        certificate_pem: Some(RSA_KEY.into()),
        ..key(RSA_KEY)
    };
    assert_eq!(field(chain), Some("credential.certificate.certificatePem"));
    let algorithm = CertificateKeyOptions {
        algorithm: Some("HS256".into()),
        ..key(RSA_KEY)
    };
    assert_eq!(field(algorithm), Some("credential.certificate.algorithm"));
    // Entra needs the certificate or a thumbprint to find the key.
    let error = ClientOptions {
        credential: Some(CredentialOptions {
            certificate: Some(key(RSA_KEY)),
            ..CredentialOptions::default()
        }),
        ..options()
    }
    .into_config(&fake_signer)
    .unwrap_err();
    assert_eq!(error.field(), Some("credential.certificate"));
}

#[test]
fn an_endpoint_override_replaces_the_whole_choice() {
    let mut merged = ClientOptions {
        authority_host: Some("https://login.microsoftonline.us".into()),
        max_retries: Some(1),
        ..options()
    };
    merged.merge(ClientOptions {
        token_endpoint: Some("https://idp.example/token".into()),
        max_retries: Some(0),
        ..ClientOptions::default()
    });
    assert_eq!(merged.tenant_id, None);
    assert_eq!(merged.authority_host, None);
    assert_eq!(merged.client_id.as_deref(), Some("app"), "kept");
    let config = merged.into_config(&fake_signer).unwrap();
    assert_eq!(config.token_endpoint().url(), "https://idp.example/token");
    assert_eq!(config.retry_policy().max_retries, 0);
}

#[test]
fn extra_query_parameters_are_replaced_only_when_given() {
    let with_slice = || ClientOptions {
        extra_query_parameters: vec![("slice".into(), "testslice".into())],
        ..options()
    };
    let mut kept = with_slice();
    kept.merge(ClientOptions::default());
    assert_eq!(
        kept.extra_query_parameters,
        with_slice().extra_query_parameters
    );
    let mut replaced = with_slice();
    replaced.merge(ClientOptions {
        extra_query_parameters: vec![("dc".into(), "ESTS-PUB-WUS2-AZ1-FD000-TEST1".into())],
        ..ClientOptions::default()
    });
    assert_eq!(
        replaced.extra_query_parameters,
        [("dc".to_owned(), "ESTS-PUB-WUS2-AZ1-FD000-TEST1".to_owned())]
    );
}

#[test]
fn a_client_assertion_callback_is_the_credential() {
    let callback: crate::credential::AssertionCallback =
        Rc::new(|_| Box::pin(async { Ok(Secret::new("a.signed.jwt")) }));
    let config = ClientOptions {
        credential: Some(CredentialOptions {
            client_assertion: Some(AssertionSource::Callback(callback)),
            ..CredentialOptions::default()
        }),
        ..options()
    }
    .into_config(&fake_signer)
    .unwrap();
    assert!(matches!(
        config.credential,
        Credential::Assertion(AssertionSource::Callback(_))
    ));
}
