//! The few X.509 and key fields the certificate check reads: subject, validity, the
//! SubjectPublicKeyInfo, and the public half a private key carries. Built on the crate's one
//! DER reader ([`crate::pem`]); every function returns `None` on malformed input, never panics.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::finding::printable;
use super::time::asn1_time_ms;
use crate::pem::{read_tlv, OID_EC_PUBLIC_KEY, OID_P256, OID_RSA_ENCRYPTION};

/// DER of the OID secp384r1 / P-384 (1.3.132.0.34).
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// Longest subject printed; real ones are far shorter.
const MAX_SUBJECT_CHARS: usize = 200;

/// An elliptic curve, by what the key or certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    /// Another curve: named by its dotted OID.
    Other(String),
}

impl Curve {
    fn from_oid(oid: &[u8]) -> Self {
        match oid {
            OID_P256 => Curve::P256,
            OID_P384 => Curve::P384,
            other => Curve::Other(dotted_oid(other)),
        }
    }

    pub(crate) fn name(&self) -> &str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::Other(oid) => oid,
        }
    }
}

/// A public key as a certificate or a private key carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The curve and the SEC1 point (uncompressed `04‖x‖y` or compressed `02/03‖x`).
    Ec { curve: Curve, point: Vec<u8> },
}

impl PublicKey {
    /// "RSA-2048", "EC P-256".
    pub(crate) fn describe(&self) -> String {
        match self {
            PublicKey::Rsa { n, .. } => {
                let unused = n.first().map_or(0, |b| b.leading_zeros() as usize);
                let bits = (n.len() * 8).saturating_sub(unused);
                format!("RSA-{bits}")
            }
            PublicKey::Ec { curve, .. } => format!("EC {}", curve.name()),
        }
    }

    /// The same key? EC points compare on `x` and the parity of `y` when either is
    /// compressed (that is all a compressed point holds).
    pub(crate) fn same_as(&self, other: &PublicKey) -> bool {
        match (self, other) {
            (PublicKey::Rsa { n, e }, PublicKey::Rsa { n: n2, e: e2 }) => n == n2 && e == e2,
            (
                PublicKey::Ec { curve, point },
                PublicKey::Ec {
                    curve: c2,
                    point: p2,
                },
            ) => curve == c2 && ec_points_equal(point, p2),
            _ => false,
        }
    }

    /// From a JWK's public members (`kty` RSA: `n`, `e`; EC: `crv`, `x`, `y`).
    pub(crate) fn from_jwk(jwk: &serde_json::Value) -> Option<Self> {
        let member = |name: &str| URL_SAFE_NO_PAD.decode(jwk.get(name)?.as_str()?).ok();
        match jwk.get("kty")?.as_str()? {
            "RSA" => Some(PublicKey::Rsa {
                n: strip_zeros(&member("n")?),
                e: strip_zeros(&member("e")?),
            }),
            "EC" => {
                let curve = match jwk.get("crv")?.as_str()? {
                    "P-256" => Curve::P256,
                    "P-384" => Curve::P384,
                    other => Curve::Other(other.to_owned()),
                };
                let mut point = vec![0x04];
                point.extend(member("x")?);
                point.extend(member("y")?);
                Some(PublicKey::Ec { curve, point })
            }
            _ => None,
        }
    }
}

fn ec_points_equal(a: &[u8], b: &[u8]) -> bool {
    if a.first() == Some(&0x04) && b.first() == Some(&0x04) {
        return a == b;
    }
    // At least one compressed point: `x` and the parity of `y` are all it holds.
    let x_and_parity = |point: &[u8]| -> Option<(Vec<u8>, u8)> {
        let (&form, rest) = point.split_first()?;
        match form {
            0x04 if !rest.is_empty() && rest.len().is_multiple_of(2) => {
                let (x, y) = rest.split_at(rest.len() / 2);
                Some((x.to_vec(), y.last()? & 1))
            }
            0x02 | 0x03 if !rest.is_empty() => Some((rest.to_vec(), form & 1)),
            _ => None,
        }
    };
    matches!((x_and_parity(a), x_and_parity(b)), (Some(one), Some(other)) if one == other)
}

fn strip_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

/// What the certificate check reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertificateFields {
    /// RFC 4514 string, made printable.
    pub subject: String,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    /// `None` for a key type the crate does not read (DSA, Ed25519…).
    pub public_key: Option<PublicKey>,
}

/// Reads a certificate's DER far enough for the checks.
pub(crate) fn certificate_fields(der: &[u8]) -> Option<CertificateFields> {
    let (0x30, certificate, _) = read_tlv(der)? else {
        return None;
    };
    let (0x30, tbs, _) = read_tlv(certificate)? else {
        return None;
    };
    let mut rest = tbs;
    // The optional [0] version.
    if rest.first() == Some(&0xa0) {
        rest = read_tlv(rest)?.2;
    }
    let (_serial, _, rest) = read_tlv(rest)?;
    let (_signature, _, rest) = read_tlv(rest)?;
    let (_issuer, _, rest) = read_tlv(rest)?;
    let (0x30, validity, rest) = read_tlv(rest)? else {
        return None;
    };
    let (0x30, subject, rest) = read_tlv(rest)? else {
        return None;
    };
    let (0x30, spki, _) = read_tlv(rest)? else {
        return None;
    };
    let (before_tag, before, after_rest) = read_tlv(validity)?;
    let (after_tag, after, _) = read_tlv(after_rest)?;
    Some(CertificateFields {
        subject: printable(&rfc4514(subject)?, MAX_SUBJECT_CHARS),
        not_before_ms: asn1_time_ms(before_tag, before)?,
        not_after_ms: asn1_time_ms(after_tag, after)?,
        public_key: spki_public_key(spki),
    })
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }` (contents).
fn spki_public_key(spki: &[u8]) -> Option<PublicKey> {
    let (0x30, algorithm, rest) = read_tlv(spki)? else {
        return None;
    };
    let (0x03, bits, _) = read_tlv(rest)? else {
        return None;
    };
    // The first byte of a BIT STRING counts unused bits: keys use whole bytes.
    let key = bits.strip_prefix(&[0])?;
    let (0x06, oid, parameters) = read_tlv(algorithm)? else {
        return None;
    };
    match oid {
        OID_RSA_ENCRYPTION => {
            let (0x30, sequence, _) = read_tlv(key)? else {
                return None;
            };
            let (0x02, n, rest) = read_tlv(sequence)? else {
                return None;
            };
            let (0x02, e, _) = read_tlv(rest)? else {
                return None;
            };
            Some(PublicKey::Rsa {
                n: strip_zeros(n),
                e: strip_zeros(e),
            })
        }
        OID_EC_PUBLIC_KEY => {
            let (0x06, curve, _) = read_tlv(parameters)? else {
                return None;
            };
            Some(PublicKey::Ec {
                curve: Curve::from_oid(curve),
                point: key.to_vec(),
            })
        }
        _ => None,
    }
}

/// The public half a PKCS#8 private key carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyPublicPart {
    Known(PublicKey),
    /// An EC key without the optional `publicKey` field: deriving it needs the curve
    /// arithmetic this crate leaves to WebCrypto.
    Absent {
        curve: Curve,
    },
}

/// Reads the public half of a PKCS#8 `PrivateKeyInfo` (RSA: `n` and `e` of the RSAPrivateKey;
/// EC: the ECPrivateKey's `[1] publicKey`). Only reads public fields: the private ones are
/// skipped, never copied.
pub(crate) fn private_key_public_part(pkcs8: &[u8]) -> Option<KeyPublicPart> {
    let (0x30, info, _) = read_tlv(pkcs8)? else {
        return None;
    };
    let (_version, _, rest) = read_tlv(info)?;
    let (0x30, algorithm, rest) = read_tlv(rest)? else {
        return None;
    };
    let (0x04, private_key, _) = read_tlv(rest)? else {
        return None;
    };
    let (0x06, oid, parameters) = read_tlv(algorithm)? else {
        return None;
    };
    let (0x30, inner, _) = read_tlv(private_key)? else {
        return None;
    };
    let (_version, _, rest) = read_tlv(inner)?;
    match oid {
        OID_RSA_ENCRYPTION => {
            let (0x02, n, rest) = read_tlv(rest)? else {
                return None;
            };
            let (0x02, e, _) = read_tlv(rest)? else {
                return None;
            };
            Some(KeyPublicPart::Known(PublicKey::Rsa {
                n: strip_zeros(n),
                e: strip_zeros(e),
            }))
        }
        OID_EC_PUBLIC_KEY => {
            let (0x06, curve_oid, _) = read_tlv(parameters)? else {
                return None;
            };
            let curve = Curve::from_oid(curve_oid);
            // ECPrivateKey: version, privateKey, [0] parameters OPTIONAL, [1] publicKey OPTIONAL.
            let (_private, _, mut rest) = read_tlv(rest)?;
            while let Some((tag, contents, after)) = read_tlv(rest) {
                if tag == 0xa1 {
                    let (0x03, bits, _) = read_tlv(contents)? else {
                        return None;
                    };
                    let point = bits.strip_prefix(&[0])?.to_vec();
                    return Some(KeyPublicPart::Known(PublicKey::Ec { curve, point }));
                }
                rest = after;
            }
            Some(KeyPublicPart::Absent { curve })
        }
        _ => None,
    }
}

/// A `Name` (the contents of its SEQUENCE) as RFC 4514 writes it: last RDN first.
fn rfc4514(name: &[u8]) -> Option<String> {
    let mut rdns = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        let (0x31, set, after) = read_tlv(rest)? else {
            return None;
        };
        let mut attributes = Vec::new();
        let mut in_set = set;
        while !in_set.is_empty() {
            let (0x30, attribute, after_attribute) = read_tlv(in_set)? else {
                return None;
            };
            let (0x06, oid, value) = read_tlv(attribute)? else {
                return None;
            };
            let (value_tag, value_bytes, _) = read_tlv(value)?;
            let value = match decode_string(value_tag, value_bytes) {
                Some(text) => escape_value(&text),
                // RFC 4514 §2.4: values of unknown syntax as # and the DER in hex.
                None => format!("#{}", hex(value)),
            };
            attributes.push(format!("{}={value}", attribute_name(oid)));
            in_set = after_attribute;
        }
        rdns.push(attributes.join("+"));
        rest = after;
    }
    rdns.reverse();
    Some(rdns.join(","))
}

fn attribute_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x09] => "STREET".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC".into(),
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID".into(),
        // Not an RFC 4514 short name, but the one OpenSSL and Windows show.
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress".into(),
        other => dotted_oid(other),
    }
}

/// The directory string types; Teletex is read as Latin-1, as most software does.
fn decode_string(tag: u8, bytes: &[u8]) -> Option<String> {
    match tag {
        0x0c | 0x13 | 0x16 => std::str::from_utf8(bytes).ok().map(str::to_owned),
        0x14 => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        0x1e if bytes.len().is_multiple_of(2) => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        0x1c if bytes.len().is_multiple_of(4) => bytes
            .chunks_exact(4)
            .map(|quad| char::from_u32(u32::from_be_bytes([quad[0], quad[1], quad[2], quad[3]])))
            .collect(),
        _ => None,
    }
}

/// RFC 4514 §2.4 escaping.
fn escape_value(value: &str) -> String {
    let mut out = String::new();
    let last = value.chars().count().saturating_sub(1);
    for (index, character) in value.chars().enumerate() {
        let special = matches!(character, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (index == 0 && matches!(character, '#' | ' '))
            || (index == last && character == ' ');
        if special {
            out.push('\\');
        }
        out.push(character);
    }
    out
}

fn dotted_oid(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for byte in oid {
        value = value
            .saturating_mul(128)
            .saturating_add(u64::from(byte & 0x7f));
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
