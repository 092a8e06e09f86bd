//! Client assertions (RFC 7523 `private_key_jwt`): the JWT a certificate credential signs
//! for every token request.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Serialize;

use crate::error::Error;

/// How long an assertion is valid, as MSAL does.
pub const ASSERTION_LIFETIME_S: u64 = 600;

/// The JWS algorithms a client assertion can be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlgorithm {
    /// RSASSA-PSS with SHA-256 (salt 32): Entra's default for certificates.
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256: ADFS and older tenants.
    Rs256,
    /// ECDSA P-256 with SHA-256: generic OIDC servers.
    Es256,
}

impl JwsAlgorithm {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlgorithm::Ps256 => "PS256",
            JwsAlgorithm::Rs256 => "RS256",
            JwsAlgorithm::Es256 => "ES256",
        }
    }

    /// Parses `PS256`, `RS256` or `ES256`.
    pub fn parse(field: &'static str, name: &str) -> Result<Self, Error> {
        match name {
            "PS256" => Ok(JwsAlgorithm::Ps256),
            "RS256" => Ok(JwsAlgorithm::Rs256),
            "ES256" => Ok(JwsAlgorithm::Es256),
            _ => Err(Error::invalid_config(
                field,
                format!("{field} must be \"PS256\", \"RS256\" or \"ES256\""),
            )),
        }
    }
}

/// Which certificate thumbprint header identifies the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thumbprint {
    /// `x5t#S256`: base64url SHA-256 of the certificate DER.
    Sha256(String),
    /// `x5t`: base64url SHA-1 of the certificate DER.
    Sha1(String),
}

/// The JOSE header of a client assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionHeader {
    /// Signing algorithm.
    pub algorithm: JwsAlgorithm,
    /// Certificate thumbprint, if the key is identified by one.
    pub thumbprint: Option<Thumbprint>,
    /// `kid`, if the key is identified by a key id.
    pub key_id: Option<String>,
    /// `x5c`: the certificate chain DER, leaf first (subject name / issuer auth).
    pub x5c: Vec<Vec<u8>>,
}

#[derive(Serialize)]
struct HeaderJson<'a> {
    alg: &'static str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5t: Option<&'a str>,
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    x5t_s256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    x5c: Vec<String>,
}

#[derive(Serialize)]
struct ClaimsJson<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: &'a str,
    nbf: u64,
    iat: u64,
    exp: u64,
}

/// `base64url(header) "." base64url(claims)`: the bytes the signer signs. Claims: `aud` =
/// `audience`, `iss` = `sub` = `client_id`, `jti`, `nbf` = `iat` = now, `exp` = now + 600 s.
pub fn signing_input(
    header: &AssertionHeader,
    audience: &str,
    client_id: &str,
    jti: &str,
    now_ms: u64,
) -> String {
    let (x5t, x5t_s256) = match &header.thumbprint {
        Some(Thumbprint::Sha1(value)) => (Some(value.as_str()), None),
        Some(Thumbprint::Sha256(value)) => (None, Some(value.as_str())),
        None => (None, None),
    };
    let header_json = HeaderJson {
        alg: header.algorithm.as_str(),
        typ: "JWT",
        x5t,
        x5t_s256,
        kid: header.key_id.as_deref(),
        x5c: header.x5c.iter().map(|der| STANDARD.encode(der)).collect(),
    };
    let now_s = now_ms / 1000;
    let claims = ClaimsJson {
        aud: audience,
        iss: client_id,
        sub: client_id,
        jti,
        nbf: now_s,
        iat: now_s,
        exp: now_s + ASSERTION_LIFETIME_S,
    };
    // Serialising these plain structs cannot fail.
    let header_text = serde_json::to_vec(&header_json).unwrap_or_default();
    let claims_text = serde_json::to_vec(&claims).unwrap_or_default();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header_text),
        URL_SAFE_NO_PAD.encode(claims_text)
    )
}

/// The compact JWT: signing input, `.`, base64url signature.
pub fn compact_jwt(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// base64url without padding, as thumbprint headers use.
pub fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A thumbprint given as hex (as the Azure portal shows it) in base64url form; `field` names
/// the option in errors, `expected_len` is 20 (SHA-1) or 32 (SHA-256) bytes.
pub fn thumbprint_from_hex(
    field: &'static str,
    hex: &str,
    expected_len: usize,
) -> Result<String, Error> {
    let clean: String = hex.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    let bytes = decode_hex(&clean).filter(|bytes| bytes.len() == expected_len);
    bytes.map(|b| base64url(&b)).ok_or_else(|| {
        Error::invalid_config(
            field,
            format!(
                "{field} must be {} hex digits (the certificate's {} thumbprint)",
                expected_len * 2,
                if expected_len == 20 {
                    "SHA-1"
                } else {
                    "SHA-256"
                }
            ),
        )
    })
}

/// The bytes that `hex` spells, two hex digits (either case) each, or `None` for anything
/// else: an odd count, a sign, a prefix, a space (`from_str_radix` per pair would take a
/// leading sign, reading "+f" as 0x0f). Thumbprints and the broker's key hashes use it.
pub fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let digit = |byte: u8| char::from(byte).to_digit(16);
    let bytes = hex.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4 | digit(pair[1])?) as u8))
        .collect()
}

/// A random UUID v4, e.g. for `jti` and `client-request-id`.
pub fn uuid_v4() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    crate::random::fill(&mut bytes)
        .map_err(|_| Error::crypto("no secure random number source is available"))?;
    Ok(format_uuid_v4(bytes))
}

fn format_uuid_v4(mut bytes: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(HEX[usize::from(byte >> 4)] as char);
        text.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_part(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn builds_header_and_claims_as_entra_expects() {
        let header = AssertionHeader {
            algorithm: JwsAlgorithm::Ps256,
            thumbprint: Some(Thumbprint::Sha256("QjALvYflN8eNBZ8Z".into())),
            key_id: None,
            x5c: vec![vec![1, 2, 3], vec![4]],
        };
        let input = signing_input(
            &header,
            "https://login.microsoftonline.com/t/oauth2/v2.0/token",
            "app",
            "jti-1",
            1_800_000_000_999,
        );
        let (head, claims) = input.split_once('.').unwrap();
        assert_eq!(
            decode_part(head),
            serde_json::json!({"alg":"PS256","typ":"JWT","x5t#S256":"QjALvYflN8eNBZ8Z","x5c":["AQID","BA=="]})
        );
        assert_eq!(
            decode_part(claims),
            serde_json::json!({
                "aud":"https://login.microsoftonline.com/t/oauth2/v2.0/token",
                "iss":"app","sub":"app","jti":"jti-1",
                "nbf":1_800_000_000u64,"iat":1_800_000_000u64,"exp":1_800_000_600u64
            })
        );
        assert_eq!(compact_jwt("a.b", &[0xfb, 0xff]), "a.b.-_8");
    }

    #[test]
    fn sha1_thumbprint_and_kid_headers() {
        let header = AssertionHeader {
            algorithm: JwsAlgorithm::Rs256,
            thumbprint: Some(Thumbprint::Sha1("abc".into())),
            key_id: Some("key-7".into()),
            x5c: vec![],
        };
        let input = signing_input(&header, "aud", "app", "j", 0);
        let head = decode_part(input.split('.').next().unwrap());
        assert_eq!(
            head,
            serde_json::json!({"alg":"RS256","typ":"JWT","x5t":"abc","kid":"key-7"})
        );
    }

    #[test]
    fn thumbprints_from_hex() {
        assert_eq!(
            thumbprint_from_hex("thumbprint", "00FF00ff00ff00ff00ff00ff00ff00ff00ff00ff", 20)
                .unwrap(),
            base64url(&[
                0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255
            ])
        );
        assert!(thumbprint_from_hex("thumbprint", "00", 20).is_err());
        assert!(thumbprint_from_hex("thumbprint", &"zz".repeat(20), 20).is_err());
        assert!(thumbprint_from_hex("thumbprintSha256", &"é".repeat(32), 32).is_err());
        // Found by the `pem` fuzz target: each digit pair went through `from_str_radix`,
        // which accepts a leading '+', so "+f" read as 0x0f.
        assert!(
            thumbprint_from_hex("thumbprint", "00FF00+f00ff00ff00ff00ff00ff00ff00ff00ff", 20)
                .is_err()
        );
        assert!(thumbprint_from_hex("thumbprint", &"+0".repeat(20), 20).is_err());
        assert_eq!(decode_hex("00aBfF"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(decode_hex(""), Some(vec![]));
        for bad in ["0", "abc", "+f", "-1", " 1", "0x", "éa", "g0"] {
            assert_eq!(decode_hex(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn uuids_are_version_4_and_unique() {
        assert_eq!(
            format_uuid_v4([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        let counting: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(
            format_uuid_v4(counting),
            "00010203-0405-4607-8809-0a0b0c0d0e0f"
        );
        let a = uuid_v4().unwrap();
        let b = uuid_v4().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn algorithm_names() {
        for name in ["PS256", "RS256", "ES256"] {
            assert_eq!(
                JwsAlgorithm::parse("algorithm", name).unwrap().as_str(),
                name
            );
        }
        assert!(JwsAlgorithm::parse("algorithm", "HS256").is_err());
    }
}
