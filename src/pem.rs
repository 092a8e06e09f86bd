//! PEM and the little DER needed around it: private keys (PKCS#8, PKCS#1, SEC1) and
//! certificate chains, turned into what WebCrypto imports (PKCS#8) and what JWT headers
//! carry (certificate DER).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::Error;
use crate::secret::LEAK_WINDOW;

/// DER of the OID rsaEncryption (1.2.840.113549.1.1.1).
pub(crate) const OID_RSA_ENCRYPTION: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// DER of the OID id-ecPublicKey (1.2.840.10045.2.1).
pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER of the OID prime256v1 / P-256 (1.2.840.10045.3.1.7).
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The kind of a private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// RSA (PS256 or RS256).
    Rsa,
    /// EC on P-256 (ES256).
    EcP256,
}

/// A private key as PKCS#8 DER, ready for WebCrypto's `importKey("pkcs8", …)`. `Debug`
/// does not print the key.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey {
    /// RSA or EC P-256.
    pub key_type: KeyType,
    /// PKCS#8 `PrivateKeyInfo` DER.
    pub pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({:?}, <redacted>)", self.key_type)
    }
}

struct PemBlock {
    label: String,
    der: Vec<u8>,
}

/// Longest PEM label quoted back in errors; real ones ("ENCRYPTED PRIVATE KEY") are shorter.
const MAX_LABEL_LEN: usize = 40;

/// A label worth quoting: short `[A-Z0-9 ]` words such as "ENCRYPTED PRIVATE KEY". The input
/// is a secret (a private key), so anything else is never quoted back: on a damaged BEGIN
/// line the text up to the next dashes runs on into the key body. Words stay shorter than
/// [`LEAK_WINDOW`], so not even an all-capitals run of a key body can pass as one.
fn is_plain_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
        && label.split(' ').all(|word| word.len() < LEAK_WINDOW)
}

fn pem_blocks(field: &'static str, pem: &str) -> Result<Vec<PemBlock>, Error> {
    let mut blocks = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after_begin = &rest[start + "-----BEGIN ".len()..];
        // Single-line PEMs (newlines turned into spaces by a secret store) still parse: the
        // label ends at the next five dashes, not at the end of the line.
        let label = after_begin
            .find("-----")
            .map(|end| &after_begin[..end])
            .filter(|label| is_plain_label(label))
            .ok_or_else(|| {
                Error::invalid_config(
                    field,
                    format!("{field} has a malformed BEGIN line: it must read \"-----BEGIN <LABEL>-----\" with five dashes on each side, e.g. \"-----BEGIN PRIVATE KEY-----\" (its text is not shown: it is part of a secret)"),
                )
            })?;
        let body_start = &after_begin[label.len() + "-----".len()..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start.find(&end_marker).ok_or_else(|| {
            Error::invalid_config(
                field,
                format!("{field} has a \"BEGIN {label}\" block without its \"END {label}\" line"),
            )
        })?;
        let base64_text: String = body_start[..body_end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = STANDARD.decode(base64_text.as_bytes()).map_err(|_| {
            Error::invalid_config(
                field,
                format!("{field}: the {label} block is not valid base64"),
            )
        })?;
        blocks.push(PemBlock {
            label: label.to_owned(),
            der,
        });
        rest = &body_start[body_end + end_marker.len()..];
    }
    Ok(blocks)
}

/// The private key in `pem` (which may also hold certificates). Accepts PKCS#8
/// (`BEGIN PRIVATE KEY`), PKCS#1 (`BEGIN RSA PRIVATE KEY`) and SEC1 (`BEGIN EC PRIVATE KEY`,
/// P-256); the latter two are wrapped into PKCS#8.
pub fn parse_private_key(field: &'static str, pem: &str) -> Result<PrivateKey, Error> {
    let blocks = pem_blocks(field, pem)?;
    let block = blocks
        .iter()
        .find(|block| block.label.ends_with("PRIVATE KEY"))
        .ok_or_else(|| {
            Error::invalid_config(
                field,
                format!("{field} holds no private key: expected a PEM block \"-----BEGIN PRIVATE KEY-----\" (PKCS#8) or \"-----BEGIN RSA PRIVATE KEY-----\" (PKCS#1)"),
            )
        })?;
    match block.label.as_str() {
        "PRIVATE KEY" => {
            let key_type = pkcs8_key_type(&block.der).ok_or_else(|| {
                Error::invalid_config(
                    field,
                    format!("{field} is not an RSA or EC P-256 PKCS#8 key"),
                )
            })?;
            Ok(PrivateKey {
                key_type,
                pkcs8_der: block.der.clone(),
            })
        }
        "RSA PRIVATE KEY" => Ok(PrivateKey {
            key_type: KeyType::Rsa,
            pkcs8_der: wrap_pkcs8(&algorithm_identifier(OID_RSA_ENCRYPTION, &[0x05, 0x00]), &block.der),
        }),
        "EC PRIVATE KEY" => Ok(PrivateKey {
            key_type: KeyType::EcP256,
            pkcs8_der: wrap_pkcs8(&algorithm_identifier(OID_EC_PUBLIC_KEY, &der(0x06, OID_P256)), &block.der),
        }),
        "ENCRYPTED PRIVATE KEY" => Err(Error::invalid_config(
            field,
            format!("{field} is encrypted with a password, which is not supported: decrypt it once with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-plain.pem` and keep the result in a secret store"),
        )),
        other => Err(Error::invalid_config(
            field,
            format!("{field} holds a \"{other}\" block; expected PKCS#8 (\"BEGIN PRIVATE KEY\") or PKCS#1 (\"BEGIN RSA PRIVATE KEY\")"),
        )),
    }
}

/// The DER of every certificate in `pem`, in order (leaf first).
pub fn parse_certificates(field: &'static str, pem: &str) -> Result<Vec<Vec<u8>>, Error> {
    let certificates: Vec<Vec<u8>> = pem_blocks(field, pem)?
        .into_iter()
        .filter(|block| block.label == "CERTIFICATE")
        .map(|block| block.der)
        .collect();
    if certificates.is_empty() {
        return Err(Error::invalid_config(
            field,
            format!("{field} holds no certificate: expected a PEM block \"-----BEGIN CERTIFICATE-----\""),
        ));
    }
    Ok(certificates)
}

/// Reads `PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, … }` far enough to
/// tell RSA from EC P-256.
fn pkcs8_key_type(der_bytes: &[u8]) -> Option<KeyType> {
    let (tag, info, _) = read_tlv(der_bytes)?;
    if tag != 0x30 {
        return None;
    }
    let (_, _, after_version) = read_tlv(info)?;
    let (tag, algorithm, _) = read_tlv(after_version)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, oid, parameters) = read_tlv(algorithm)?;
    if tag != 0x06 {
        return None;
    }
    if oid == OID_RSA_ENCRYPTION {
        return Some(KeyType::Rsa);
    }
    if oid == OID_EC_PUBLIC_KEY {
        let (tag, curve, _) = read_tlv(parameters)?;
        return (tag == 0x06 && curve == OID_P256).then_some(KeyType::EcP256);
    }
    None
}

/// One DER tag-length-value: (tag, contents, the bytes after it).
pub(crate) fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (length_bytes, after) = rest.split_at(count);
        rest = after;
        length_bytes
            .iter()
            .fold(0usize, |acc, byte| (acc << 8) | usize::from(*byte))
    };
    if rest.len() < length {
        return None;
    }
    let (contents, after) = rest.split_at(length);
    Some((tag, contents, after))
}

fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = contents.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|byte| *byte == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(contents);
    out
}

fn algorithm_identifier(oid: &[u8], parameters: &[u8]) -> Vec<u8> {
    let mut contents = der(0x06, oid);
    contents.extend_from_slice(parameters);
    der(0x30, &contents)
}

fn wrap_pkcs8(algorithm: &[u8], private_key: &[u8]) -> Vec<u8> {
    let mut contents = der(0x02, &[0x00]);
    contents.extend_from_slice(algorithm);
    contents.extend(der(0x04, private_key));
    der(0x30, &contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_PKCS8: &str = include_str!("../tests/fixtures/rsa-pkcs8.key.pem");
    const RSA_PKCS1: &str = include_str!("../tests/fixtures/rsa-pkcs1.key.pem");
    const EC_PKCS8: &str = include_str!("../tests/fixtures/ec-pkcs8.key.pem");
    const EC_SEC1: &str = include_str!("../tests/fixtures/ec-sec1.key.pem");
    const RSA_CERT: &str = include_str!("../tests/fixtures/rsa.cert.pem");
    const EC_CERT: &str = include_str!("../tests/fixtures/ec.cert.pem");
    const ENCRYPTED: &str = include_str!("../tests/fixtures/rsa-encrypted.key.pem");

    #[test]
    fn reads_pkcs8_keys() {
        let rsa = parse_private_key("k", RSA_PKCS8).unwrap();
        assert_eq!(rsa.key_type, KeyType::Rsa);
        let ec = parse_private_key("k", EC_PKCS8).unwrap();
        assert_eq!(ec.key_type, KeyType::EcP256);
        assert!(!format!("{rsa:?}").contains(&format!("{:?}", &rsa.pkcs8_der[..8])));
    }

    #[test]
    fn wraps_pkcs1_into_the_same_pkcs8_openssl_writes() {
        let from_pkcs1 = parse_private_key("k", RSA_PKCS1).unwrap();
        let pkcs8 = parse_private_key("k", RSA_PKCS8).unwrap();
        assert_eq!(from_pkcs1, pkcs8);
    }

    #[test]
    fn wraps_sec1_into_pkcs8_that_reads_back_as_p256() {
        let from_sec1 = parse_private_key("k", EC_SEC1).unwrap();
        assert_eq!(from_sec1.key_type, KeyType::EcP256);
        assert_eq!(pkcs8_key_type(&from_sec1.pkcs8_der), Some(KeyType::EcP256));
    }

    #[test]
    fn finds_the_key_and_certificates_in_one_combined_pem() {
        let combined = format!("{RSA_CERT}\n{RSA_PKCS8}\n{EC_CERT}");
        assert_eq!(
            parse_private_key("k", &combined).unwrap().key_type,
            KeyType::Rsa
        );
        let chain = parse_certificates("c", &combined).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0], parse_certificates("c", RSA_CERT).unwrap()[0]);
    }

    #[test]
    fn explains_what_is_wrong() {
        for (pem, expected) in [
            ("", "holds no private key"),
            (RSA_CERT, "holds no private key"),
            (ENCRYPTED, "openssl pkcs8 -topk8 -nocrypt"),
            (
                "-----BEGIN PRIVATE KEY-----\n@@@\n-----END PRIVATE KEY-----",
                "not valid base64",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n",
                "without its \"END PRIVATE KEY\" line",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----",
                "not an RSA or EC P-256",
            ),
            (
                "-----BEGIN DSA PRIVATE KEY-----\nMAA=\n-----END DSA PRIVATE KEY-----",
                "\"DSA PRIVATE KEY\"",
            ),
        ] {
            let error = parse_private_key("privateKeyPem", pem).unwrap_err();
            assert_eq!(error.field(), Some("privateKeyPem"));
            assert!(error.message().contains(expected), "{error}");
        }
        let error = parse_certificates("certificatePem", RSA_PKCS8).unwrap_err();
        assert!(error.message().contains("holds no certificate"));
    }

    /// The base64 lines of a PEM file: the key material no error may show.
    fn body_lines(pem: &str) -> Vec<&str> {
        pem.lines()
            .filter(|line| !line.starts_with("-----") && !line.trim().is_empty())
            .collect()
    }

    fn assert_shows_no_key_material(error: &Error, pem: &str) {
        let shown = format!("{error} {error:?} {:?}", error.hint());
        for line in body_lines(pem) {
            assert!(!crate::secret::leaks(&shown, line), "{shown}");
        }
    }

    #[test]
    fn a_damaged_begin_line_is_named_never_quoted() {
        let body: String = body_lines(RSA_PKCS8).join("\n");
        for damaged in [
            format!("-----BEGIN PRIVATE KEY----\n{body}\n-----END PRIVATE KEY-----\n"),
            format!("-----BEGIN PRIVATE KEY\n{body}\n-----END PRIVATE KEY-----\n"),
            format!("-----BEGIN private key-----\n{body}\n-----END private key-----\n"),
            format!(
                "-----BEGIN {}-----\n{body}\n",
                &body[..20].to_ascii_uppercase()
            ),
            format!("-----BEGIN ABCDEFGHIJKLMNOPQRSTUVWXYZ KEY-----\n{body}\n"),
        ] {
            for error in [
                parse_private_key("privateKeyPem", &damaged).unwrap_err(),
                parse_certificates("certificatePem", &damaged).unwrap_err(),
            ] {
                assert!(error.message().contains("malformed BEGIN line"), "{error}");
                assert_shows_no_key_material(&error, RSA_PKCS8);
            }
        }
    }

    #[test]
    fn labels_are_quoted_only_when_plain() {
        let error = parse_private_key(
            "k",
            "-----BEGIN DSA PRIVATE KEY-----\nMAA=\n-----END DSA PRIVATE KEY-----",
        )
        .unwrap_err();
        assert!(error.message().contains("\"DSA PRIVATE KEY\""), "{error}");
        // Words of 15 characters are quoted; 16 could be a run of key material, so they never are.
        let fifteen = "-----BEGIN ABCDEFGHIJKLMNO PRIVATE KEY-----\nMAA=\n-----END ABCDEFGHIJKLMNO PRIVATE KEY-----";
        let error = parse_private_key("k", fifteen).unwrap_err();
        assert!(
            error.message().contains("\"ABCDEFGHIJKLMNO PRIVATE KEY\""),
            "{error}"
        );
        let sixteen = fifteen.replace("ABCDEFGHIJKLMNO", "ABCDEFGHIJKLMNOP");
        let error = parse_private_key("k", &sixteen).unwrap_err();
        assert!(error.message().contains("malformed BEGIN line"), "{error}");
        assert!(!error.message().contains("ABCDEFGHIJKLMNOP"), "{error}");
        let error = parse_private_key("k", "-----BEGIN PRIVATE KEY-----\nMAA=\n").unwrap_err();
        assert!(error.message().contains("\"END PRIVATE KEY\""), "{error}");
    }

    #[test]
    fn single_line_pems_from_secret_stores_still_parse() {
        let one_line = RSA_PKCS8.replace('\n', " ");
        assert_eq!(
            parse_private_key("k", &one_line).unwrap(),
            parse_private_key("k", RSA_PKCS8).unwrap()
        );
    }

    #[test]
    fn der_reader_survives_truncated_and_hostile_lengths() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x02, 0x01],
        ] {
            assert_eq!(pkcs8_key_type(input), None);
        }
    }
}
