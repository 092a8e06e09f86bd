//! The certificate check: who the certificate names, its thumbprints as Entra shows them,
//! how long it stays valid, and whether the private key belongs to it (a mismatch is
//! otherwise only found by Entra, as AADSTS700027, on every token request).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

use super::finding::{CheckId, ExitClass, Finding};
use super::time::{human_duration, iso8601};
use super::x509::{certificate_fields, hex, private_key_public_part, KeyPublicPart, PublicKey};
use crate::pem::{parse_certificates, parse_private_key};

/// A certificate under 30 days from expiry is worth a ⚠: time enough to upload a new one.
const EXPIRY_WARNING_MS: i64 = 30 * 86_400_000;

const CERTIFICATE_FIELD: &str = "credential.certificate.certificatePem";
const KEY_FIELD: &str = "credential.certificate.privateKeyPem";

/// What the certificate check needs. The thumbprints' digests come from the host
/// (WebCrypto's `digest`, or Node's `X509Certificate.fingerprint`), as every digest the client
/// uses does ([`crate::ports::Signer::digest`]): the core carries no hash functions of its own.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInput {
    /// The certificate PEM (a chain: the first certificate is the one checked).
    pub certificate_pem: String,
    /// The private key PEM, when the credential has one. A secret: never printed.
    #[serde(default)]
    pub private_key_pem: Option<String>,
    /// SHA-1 of the first certificate's DER, in hex (separators such as `:` allowed).
    #[serde(default)]
    pub sha1_hex: Option<String>,
    /// SHA-256 of the first certificate's DER, in hex.
    #[serde(default)]
    pub sha256_hex: Option<String>,
    /// The local clock, in milliseconds since the epoch.
    pub now_ms: u64,
}

impl fmt::Debug for CertificateInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateInput")
            .field("certificate_pem", &self.certificate_pem.len())
            .field(
                "private_key_pem",
                &self.private_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("sha1_hex", &self.sha1_hex)
            .field("sha256_hex", &self.sha256_hex)
            .field("now_ms", &self.now_ms)
            .finish()
    }
}

/// The first certificate's DER, for the host to digest into
/// [`CertificateInput::sha1_hex`]/[`CertificateInput::sha256_hex`].
pub fn leaf_certificate_der(certificate_pem: &str) -> Result<Vec<u8>, crate::Error> {
    Ok(parse_certificates(CERTIFICATE_FIELD, certificate_pem)?.swap_remove(0))
}

/// The certificate's findings, in order: [`CheckId::Certificate`] (subject, thumbprints),
/// [`CheckId::CertificateExpiry`], and [`CheckId::KeyMatch`] when a private key is given.
/// A certificate that cannot be read gives one ✗ and nothing else.
pub fn check_certificate(input: &CertificateInput) -> Vec<Finding> {
    let der = match leaf_certificate_der(&input.certificate_pem) {
        Ok(der) => der,
        Err(error) => {
            return vec![Finding::fail(
                CheckId::Certificate,
                ExitClass::Configuration,
                "the certificate could not be read",
                error.message(),
            )]
        }
    };
    let Some(fields) = certificate_fields(&der) else {
        return vec![Finding::fail(
            CheckId::Certificate,
            ExitClass::Configuration,
            "the certificate could not be read: its first CERTIFICATE block is not an X.509 certificate",
            "pass the certificate itself (PEM, \"-----BEGIN CERTIFICATE-----\"), e.g. as exported with `openssl x509 -in cert.pem`",
        )];
    };
    let mut details = vec![thumbprint_line(
        "SHA-1",
        "x5t",
        input.sha1_hex.as_deref(),
        20,
    )];
    details.push(thumbprint_line(
        "SHA-256",
        "x5t#S256",
        input.sha256_hex.as_deref(),
        32,
    ));
    let key = fields.public_key.as_ref().map_or_else(
        || "a key type this library does not use".to_owned(),
        PublicKey::describe,
    );
    let mut findings = vec![Finding::ok(
        CheckId::Certificate,
        format!("certificate {} ({key})", fields.subject),
    )
    .with_details(details)];
    findings.push(expiry_finding(
        fields.not_before_ms,
        fields.not_after_ms,
        input.now_ms,
    ));
    if let Some(key_pem) = &input.private_key_pem {
        findings.push(key_match_finding(key_pem, fields.public_key.as_ref()));
    }
    findings
}

/// One thumbprint as the Entra portal shows it (upper-case hex, no separators) and as an
/// assertion header carries it (base64url).
fn thumbprint_line(name: &str, header: &str, digest_hex: Option<&str>, length: usize) -> String {
    match digest_hex.and_then(|text| parse_hex(text, length)) {
        Some(digest) => format!(
            "{name} thumbprint {} ({header} {})",
            hex(&digest),
            URL_SAFE_NO_PAD.encode(&digest)
        ),
        None => format!("{name} thumbprint not computed"),
    }
}

/// Hex with optional `:`/space separators, of exactly `length` bytes.
fn parse_hex(text: &str, length: usize) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b':' && !b.is_ascii_whitespace())
        .map(|b| {
            char::from(b)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        })
        .collect::<Option<_>>()?;
    (digits.len() == length * 2).then(|| {
        digits
            .chunks_exact(2)
            // Arithmetic rather than `<< 4 | …`, whose `|` and `^` cannot be told apart.
            .map(|pair| pair[0] * 16 + pair[1])
            .collect()
    })
}

fn expiry_finding(not_before_ms: i64, not_after_ms: i64, now_ms: u64) -> Finding {
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let check = CheckId::CertificateExpiry;
    let renew = "create a new certificate, upload it to the app registration (Certificates & secrets) beside the old one, switch the configuration to it, then remove the old one";
    if now < not_before_ms {
        return Finding::warn(
            check,
            format!(
                "the certificate is not valid until {}",
                iso8601(not_before_ms)
            ),
            "check this machine's clock; if it is right, wait or use a certificate valid now",
        );
    }
    let left = not_after_ms.saturating_sub(now);
    if left <= 0 {
        return Finding::fail(
            check,
            ExitClass::Configuration,
            format!(
                "the certificate expired on {} ({} ago)",
                iso8601(not_after_ms),
                human_duration(left.unsigned_abs())
            ),
            renew,
        );
    }
    let summary = format!(
        "the certificate is valid until {} ({} left)",
        iso8601(not_after_ms),
        human_duration(left.unsigned_abs())
    );
    if left < EXPIRY_WARNING_MS {
        return Finding::warn(check, summary, renew);
    }
    Finding::ok(check, summary)
}

const COMPARE_BY_HAND: &str = "compare `openssl pkey -in key.pem -pubout` with `openssl x509 -in cert.pem -noout -pubkey`: they must be the same";

fn mismatch(certificate_key: &PublicKey, key: &PublicKey) -> Finding {
    Finding::fail(
        CheckId::KeyMatch,
        ExitClass::Configuration,
        format!(
            "the private key ({}) does not belong to the certificate ({})",
            key.describe(),
            certificate_key.describe()
        ),
        format!("Entra would refuse every assertion with AADSTS700027 (signature verification failed): pass the certificate made for this key, and upload that one to the app registration; {COMPARE_BY_HAND}"),
    )
}

fn matched(key: &PublicKey) -> Finding {
    Finding::ok(
        CheckId::KeyMatch,
        format!(
            "the private key ({}) belongs to the certificate",
            key.describe()
        ),
    )
}

fn key_match_finding(key_pem: &str, certificate_key: Option<&PublicKey>) -> Finding {
    let key = match parse_private_key(KEY_FIELD, key_pem) {
        Ok(key) => key,
        Err(error) => {
            return Finding::fail(
                CheckId::KeyMatch,
                ExitClass::Configuration,
                "the private key could not be read",
                error.message(),
            )
        }
    };
    let Some(certificate_key) = certificate_key else {
        return Finding::warn(
            CheckId::KeyMatch,
            "the certificate's key is of a type this library does not read, so the private key cannot be compared with it",
            COMPARE_BY_HAND,
        );
    };
    match private_key_public_part(&key.pkcs8_der) {
        Some(KeyPublicPart::Known(public)) if public.same_as(certificate_key) => matched(&public),
        Some(KeyPublicPart::Known(public)) => mismatch(certificate_key, &public),
        Some(KeyPublicPart::Absent { curve }) => Finding::warn(
            CheckId::KeyMatch,
            format!("the private key (EC {}) carries no public key, so it cannot be compared with the certificate here", curve.name()),
            COMPARE_BY_HAND,
        ),
        None => Finding::warn(
            CheckId::KeyMatch,
            "the private key's public part could not be read, so it cannot be compared with the certificate here",
            COMPARE_BY_HAND,
        ),
    }
}

/// Finishes [`CheckId::KeyMatch`] for a key without a public part: `public_jwk_json` is the
/// key's public JWK (WebCrypto's `exportKey("jwk", key)` after importing the PKCS#8 key; only
/// `kty`, `n`/`e` or `crv`/`x`/`y` are read, a `d` is ignored and never printed).
pub fn check_key_matches_jwk(certificate_pem: &str, public_jwk_json: &str) -> Finding {
    let certificate_key = leaf_certificate_der(certificate_pem)
        .ok()
        .and_then(|der| certificate_fields(&der))
        .and_then(|fields| fields.public_key);
    let jwk_key = serde_json::from_str::<serde_json::Value>(public_jwk_json)
        .ok()
        .and_then(|jwk| PublicKey::from_jwk(&jwk));
    match (certificate_key, jwk_key) {
        (Some(certificate_key), Some(key)) if key.same_as(&certificate_key) => matched(&key),
        (Some(certificate_key), Some(key)) => mismatch(&certificate_key, &key),
        _ => Finding::warn(
            CheckId::KeyMatch,
            "the key or the certificate could not be read, so they cannot be compared",
            COMPARE_BY_HAND,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{expiry_finding, EXPIRY_WARNING_MS};
    use crate::doctor::Status;

    const NOT_BEFORE: i64 = 1_700_000_000_000;
    const NOT_AFTER: i64 = 1_800_000_000_000;

    fn status_at(now: i64) -> Status {
        expiry_finding(NOT_BEFORE, NOT_AFTER, now as u64).status
    }

    #[test]
    fn expiry_boundaries_are_exact() {
        // Valid from its first millisecond; a certificate is expired at its not-after instant.
        assert_eq!(status_at(NOT_BEFORE - 1), Status::Warn);
        assert_eq!(status_at(NOT_BEFORE), Status::Ok);
        assert_eq!(status_at(NOT_AFTER - 1), Status::Warn);
        assert_eq!(status_at(NOT_AFTER), Status::Fail);
        assert_eq!(status_at(NOT_AFTER + 1), Status::Fail);
        // Exactly 30 days left is still fine; a millisecond less is a ⚠.
        assert_eq!(status_at(NOT_AFTER - EXPIRY_WARNING_MS), Status::Ok);
        assert_eq!(status_at(NOT_AFTER - EXPIRY_WARNING_MS + 1), Status::Warn);
        assert!(
            expiry_finding(NOT_BEFORE, NOT_AFTER, (NOT_BEFORE - 1) as u64)
                .summary
                .starts_with("the certificate is not valid until")
        );
    }
}
