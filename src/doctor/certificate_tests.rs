//! The certificate check against real keys and certificates made by
//! `tests/fixtures/doctor/make.sh` (dates fixed there, so the tests name them).

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/doctor/", $name))
    };
}

const RSA_CERT: &str = fixture!("rsa.cert.pem");
const RSA_KEY: &str = fixture!("rsa.key.pem");
const RSA_PKCS1: &str = fixture!("rsa-pkcs1.key.pem");
const EC_CERT: &str = fixture!("ec.cert.pem");
const EC_KEY: &str = fixture!("ec.key.pem");
const EC_NO_PUBLIC: &str = fixture!("ec-no-public.key.pem");
const OTHER_RSA: &str = fixture!("other-rsa.key.pem");
const OTHER_EC: &str = fixture!("other-ec.key.pem");
const EXPIRED_CERT: &str = fixture!("expired.cert.pem");
const EXPIRING_CERT: &str = fixture!("expiring.cert.pem");

/// 2026-12-03T00:00:00Z: ten days before `expiring.cert.pem` ends.
const DEC_3_2026: u64 = 1_796_256_000_000;
const RENEW: &str = "create a new certificate, upload it to the app registration (Certificates & secrets) beside the old one, switch the configuration to it, then remove the old one";
const BY_HAND: &str = "compare `openssl pkey -in key.pem -pubout` with `openssl x509 -in cert.pem -noout -pubkey`: they must be the same";

fn input(certificate: &str, key: Option<&str>, fixture_name: Option<&str>) -> CertificateInput {
    let digest = |suffix: &str| {
        fixture_name.map(|name| {
            std::fs::read_to_string(format!(
                "{}/tests/fixtures/doctor/{name}.{suffix}.hex",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        })
    };
    CertificateInput {
        certificate_pem: certificate.into(),
        private_key_pem: key.map(str::to_owned),
        sha1_hex: digest("sha1"),
        sha256_hex: digest("sha256"),
        now_ms: DEC_3_2026,
    }
}

#[test]
fn a_matching_rsa_pair_is_all_ok() {
    let findings = check_certificate(&input(RSA_CERT, Some(RSA_KEY), Some("rsa")));
    assert_eq!(
        findings,
        vec![
            Finding::ok(
                CheckId::Certificate,
                "certificate CN=cctoken doctor RSA,O=Contoso\\, Ltd,C=US (RSA-2048)"
            )
            .with_details(vec![
                "SHA-1 thumbprint F8C39B31587492454BC7F4B8BABE0802B03D186C (x5t -MObMVh0kkVLx_S4ur4IArA9GGw)".into(),
                "SHA-256 thumbprint DA2951CFC571AE45176EE1560A19E0EBFF1B6EBAAF8E97C540B7A07B15B9E507 (x5t#S256 2ilRz8VxrkUXbuFWChng6_8bbrqvjpfFQLegexW55Qc)".into(),
            ]),
            Finding::ok(
                CheckId::CertificateExpiry,
                "the certificate is valid until 2036-01-01T00:00:00Z (3316 days left)"
            ),
            Finding::ok(
                CheckId::KeyMatch,
                "the private key (RSA-2048) belongs to the certificate"
            ),
        ]
    );
    assert_eq!(exit_code(&findings), 0);
    // PKCS#1 reads the same key.
    let pkcs1 = check_certificate(&input(RSA_CERT, Some(RSA_PKCS1), None));
    assert_eq!(pkcs1[2], findings[2]);
    assert_eq!(
        pkcs1[0].details,
        [
            "SHA-1 thumbprint not computed",
            "SHA-256 thumbprint not computed"
        ]
    );
}

#[test]
fn thumbprints_accept_colon_separated_hex_and_ignore_wrong_lengths() {
    let mut colons = input(EC_CERT, None, None);
    colons.sha1_hex = Some("8C:32:BB:F6:57:11:35:2C:01:26:BF:DA:EB:3E:B7:9A:29:AD:43:a8".into());
    colons.sha256_hex = Some("abcd".into());
    let findings = check_certificate(&colons);
    assert_eq!(findings.len(), 2, "no key, no key-match finding");
    assert_eq!(
        findings[0].summary,
        "certificate CN=cctoken doctor EC (EC P-256)"
    );
    assert_eq!(
        findings[0].details,
        [
            "SHA-1 thumbprint 8C32BBF65711352C0126BFDAEB3EB79A29AD43A8 (x5t jDK79lcRNSwBJr_a6z63mimtQ6g)",
            "SHA-256 thumbprint not computed"
        ]
    );
}

#[test]
fn a_matching_ec_pair_is_ok() {
    let findings = check_certificate(&input(EC_CERT, Some(EC_KEY), Some("ec")));
    assert_eq!(
        findings[2],
        Finding::ok(
            CheckId::KeyMatch,
            "the private key (EC P-256) belongs to the certificate"
        )
    );
}

#[test]
fn a_mismatched_pair_fails_naming_aadsts700027() {
    let fix = format!("Entra would refuse every assertion with AADSTS700027 (signature verification failed): pass the certificate made for this key, and upload that one to the app registration; {BY_HAND}");
    for (certificate, key, summary) in [
        (
            RSA_CERT,
            OTHER_RSA,
            "the private key (RSA-2048) does not belong to the certificate (RSA-2048)",
        ),
        (
            EC_CERT,
            OTHER_EC,
            "the private key (EC P-256) does not belong to the certificate (EC P-256)",
        ),
        (
            RSA_CERT,
            EC_KEY,
            "the private key (EC P-256) does not belong to the certificate (RSA-2048)",
        ),
    ] {
        let findings = check_certificate(&input(certificate, Some(key), None));
        assert_eq!(
            findings[2],
            Finding::fail(
                CheckId::KeyMatch,
                ExitClass::Configuration,
                summary,
                fix.clone()
            )
        );
        assert_eq!(exit_code(&findings), 2);
        let shown = render(&findings);
        for line in key.lines().filter(|line| !line.starts_with("-----")) {
            assert!(!shown.contains(line), "key material printed");
        }
    }
}

#[test]
fn an_ec_key_without_its_public_part_is_finished_from_a_jwk() {
    let findings = check_certificate(&input(EC_CERT, Some(EC_NO_PUBLIC), None));
    assert_eq!(
        findings[2],
        Finding::warn(
            CheckId::KeyMatch,
            "the private key (EC P-256) carries no public key, so it cannot be compared with the certificate here",
            BY_HAND
        )
    );
    // What WebCrypto's exportKey("jwk") gives after importing the key (with d, never read).
    let jwk: serde_json::Value = serde_json::from_str(fixture!("ec.jwk.json")).unwrap();
    let mut private_jwk = jwk.clone();
    private_jwk["d"] = "c2VjcmV0".into();
    assert_eq!(
        check_key_matches_jwk(EC_CERT, &private_jwk.to_string()),
        Finding::ok(
            CheckId::KeyMatch,
            "the private key (EC P-256) belongs to the certificate"
        )
    );
    assert_eq!(
        check_key_matches_jwk(RSA_CERT, &jwk.to_string()).status,
        Status::Fail
    );
    assert_eq!(
        check_key_matches_jwk(RSA_CERT, fixture!("rsa.jwk.json")),
        Finding::ok(
            CheckId::KeyMatch,
            "the private key (RSA-2048) belongs to the certificate"
        )
    );
    for unreadable in [
        "",
        "{}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"!\"}",
        "[1]",
    ] {
        assert_eq!(
            check_key_matches_jwk(EC_CERT, unreadable),
            Finding::warn(
                CheckId::KeyMatch,
                "the key or the certificate could not be read, so they cannot be compared",
                BY_HAND
            )
        );
    }
}

#[test]
fn expiry_is_ok_then_warns_under_30_days_then_fails() {
    let expiring = check_certificate(&input(EXPIRING_CERT, None, None));
    assert_eq!(
        expiring[1],
        Finding::warn(
            CheckId::CertificateExpiry,
            "the certificate is valid until 2026-12-13T00:00:00Z (10 days left)",
            RENEW
        )
    );
    let expired = check_certificate(&input(EXPIRED_CERT, Some(RSA_KEY), None));
    assert_eq!(
        expired[1],
        Finding::fail(
            CheckId::CertificateExpiry,
            ExitClass::Configuration,
            "the certificate expired on 2025-01-01T00:00:00Z (701 days ago)",
            RENEW
        )
    );
    assert_eq!(
        expired[2].status,
        Status::Ok,
        "the expired certificate is still the key's"
    );
    let mut early = input(RSA_CERT, None, None);
    early.now_ms = 1_700_000_000_000;
    assert_eq!(
        check_certificate(&early)[1],
        Finding::warn(
            CheckId::CertificateExpiry,
            "the certificate is not valid until 2026-01-01T00:00:00Z",
            "check this machine's clock; if it is right, wait or use a certificate valid now"
        )
    );
}

#[test]
fn unreadable_inputs_fail_without_quoting_them() {
    let findings = check_certificate(&input(RSA_KEY, None, None));
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].status, Status::Fail);
    assert!(findings[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("holds no certificate"));
    let not_x509 = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    assert_eq!(
        check_certificate(&input(not_x509, None, None))[0].summary,
        "the certificate could not be read: its first CERTIFICATE block is not an X.509 certificate"
    );
    let bad_key = check_certificate(&input(
        RSA_CERT,
        Some("-----BEGIN PRIVATE KEY-----\n@@\n-----END PRIVATE KEY-----"),
        None,
    ));
    assert_eq!(bad_key[2].summary, "the private key could not be read");
    assert_eq!(bad_key[2].exit, Some(ExitClass::Configuration));
    let debug = format!("{:?}", input(RSA_CERT, Some(RSA_KEY), None));
    assert!(
        debug.contains("<redacted>") && !debug.contains("PRIVATE"),
        "{debug}"
    );
}

#[test]
fn truncated_certificates_never_panic() {
    let der = leaf_certificate_der(RSA_CERT).unwrap();
    for length in 0..der.len() {
        assert_eq!(
            super::x509::certificate_fields(&der[..length]),
            None,
            "{length}"
        );
    }
    let key = crate::pem::parse_private_key("k", EC_KEY)
        .unwrap()
        .pkcs8_der;
    for length in 0..key.len() {
        let _ = super::x509::private_key_public_part(&key[..length]);
    }
}
