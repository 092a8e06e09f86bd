//! The broker's KV entries: what each is called, how long it lives, and the stored form of
//! its sealed value (the Worker seals with AES-256-GCM through WebCrypto). Freshness is the
//! core's rule ([`crate::cache`]); KV's TTL only lets dead entries disappear.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use crate::cache::CachedToken;

/// KV refuses TTLs under 60 seconds.
const MIN_KV_TTL_S: u64 = 60;
/// Tokens with less left than this are not worth sharing.
const MIN_SHARED_LIFETIME_MS: u64 = 2 * 60 * 1000;

/// The KV key for a SHA-256 of the core's store key.
pub fn kv_key_for_hash(hash: &[u8]) -> String {
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("token:v2:{hex}")
}

/// The `expirationTtl` for a token expiring at `expires_on_ms`, or `None` when it has too
/// little left to be worth sharing. The entry lives until the token stops being served (its
/// expiry minus the buffer), and at least as long as KV allows.
pub fn kv_ttl_s(expires_on_ms: u64, now_ms: u64, expiry_buffer_ms: u64) -> Option<u64> {
    let left_ms = expires_on_ms.saturating_sub(now_ms);
    if left_ms < MIN_SHARED_LIFETIME_MS {
        return None;
    }
    Some((left_ms.saturating_sub(expiry_buffer_ms) / 1000).max(MIN_KV_TTL_S))
}

/// AES-GCM's 96-bit IV, which leads each stored value.
pub const IV_BYTES: usize = 12;

/// The stored form: `base64(iv || ciphertext+tag)`.
pub fn encode_sealed(iv: &[u8], ciphertext: &[u8]) -> String {
    let mut out = iv.to_vec();
    out.extend_from_slice(ciphertext);
    STANDARD.encode(out)
}

/// The bytes of a stored value, at least an IV and one more byte (AES-GCM's tag is 16).
pub fn decode_sealed(sealed: &str) -> Result<Vec<u8>, &'static str> {
    let bytes = STANDARD.decode(sealed).map_err(|_| "not base64")?;
    if bytes.len() <= IV_BYTES {
        return Err("too short");
    }
    Ok(bytes)
}

/// The plaintext sealed into a KV entry: [`CachedToken::to_json`]'s object with one more
/// member, `sealed_at_ms`, from which an isolate in fleet mode leases the entry (so an entry
/// answers only briefly after the coordinator wrote it).
pub fn kv_plaintext(token: &CachedToken, sealed_at_ms: u64) -> String {
    let mut stored: Value = serde_json::from_str(&token.to_json()).unwrap_or(Value::Null);
    if let Some(members) = stored.as_object_mut() {
        members.insert("sealed_at_ms".to_owned(), sealed_at_ms.into());
    }
    stored.to_string()
}

/// The token and `sealed_at_ms` of an opened KV entry; entries written before it existed have
/// none. `None` when the plaintext is not a stored token.
pub fn read_kv_plaintext(json: &str) -> Option<(CachedToken, Option<u64>)> {
    let token = CachedToken::from_json(json).ok()?;
    let stored: Value = serde_json::from_str(json).ok()?;
    let sealed_at_ms = match stored.get("sealed_at_ms") {
        None => None,
        // Present but not a time: not what this module wrote.
        Some(at) => Some(at.as_u64()?),
    };
    Some((token, sealed_at_ms))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::secret::AccessToken;

    fn token() -> CachedToken {
        CachedToken::issued(
            AccessToken::new("tok"),
            "Bearer".into(),
            1_000,
            3_600,
            None,
            None,
        )
    }

    #[test]
    fn the_plaintext_is_the_stored_token_with_when_it_was_sealed() {
        let plaintext = kv_plaintext(&token(), 77);
        assert_eq!(
            serde_json::from_str::<Value>(&plaintext).unwrap(),
            json!({"access_token": "tok", "token_type": "Bearer", "expires_on_ms": 3_601_000, "ext_expires_on_ms": 3_601_000, "refresh_on_ms": null, "sealed_at_ms": 77})
        );
        assert_eq!(read_kv_plaintext(&plaintext), Some((token(), Some(77))));
    }

    #[test]
    fn entries_from_before_sealed_at_still_open() {
        assert_eq!(read_kv_plaintext(&token().to_json()), Some((token(), None)));
        let unreadable = [
            "",
            "[]",
            r#"{"access_token": "tok"}"#,
            r#"{"access_token": "tok", "token_type": "Bearer", "expires_on_ms": 1, "sealed_at_ms": "soon"}"#,
            r#"{"access_token": "tok", "token_type": "Bearer", "expires_on_ms": 1, "sealed_at_ms": -1}"#,
        ];
        for plaintext in unreadable {
            assert_eq!(read_kv_plaintext(plaintext), None, "{plaintext}");
        }
    }

    const BUFFER_MS: u64 = 5 * 60 * 1000;
    const NOW_MS: u64 = 1_700_000_000_000;

    #[test]
    fn an_entry_lives_until_expiry_minus_the_buffer_in_whole_seconds() {
        let expires = NOW_MS + 3_599_000;
        assert_eq!(kv_ttl_s(expires, NOW_MS, BUFFER_MS), Some(3_299));
        // Rounded down: KV must not hold an entry past the moment the token stops being served.
        assert_eq!(kv_ttl_s(expires + 999, NOW_MS, BUFFER_MS), Some(3_299));
        assert_eq!(kv_ttl_s(expires + 1_000, NOW_MS, BUFFER_MS), Some(3_300));
        assert_eq!(kv_ttl_s(expires, NOW_MS, 0), Some(3_599));
    }

    #[test]
    fn kv_gets_at_least_its_minimum_ttl_of_60_seconds() {
        // 61 s past the buffer: above the floor.
        assert_eq!(
            kv_ttl_s(NOW_MS + BUFFER_MS + 61_000, NOW_MS, BUFFER_MS),
            Some(61)
        );
        assert_eq!(
            kv_ttl_s(NOW_MS + BUFFER_MS + 60_000, NOW_MS, BUFFER_MS),
            Some(60)
        );
        assert_eq!(
            kv_ttl_s(NOW_MS + BUFFER_MS + 59_999, NOW_MS, BUFFER_MS),
            Some(60)
        );
        // Less left than the buffer itself: no underflow, the floor.
        assert_eq!(kv_ttl_s(NOW_MS + 200_000, NOW_MS, BUFFER_MS), Some(60));
    }

    #[test]
    fn tokens_with_under_two_minutes_left_are_not_written() {
        assert_eq!(kv_ttl_s(NOW_MS + 120_000, NOW_MS, 0), Some(120));
        assert_eq!(kv_ttl_s(NOW_MS + 119_999, NOW_MS, 0), None);
        assert_eq!(kv_ttl_s(NOW_MS + 120_000, NOW_MS, BUFFER_MS), Some(60));
        assert_eq!(kv_ttl_s(NOW_MS, NOW_MS, BUFFER_MS), None);
        assert_eq!(
            kv_ttl_s(NOW_MS - 1, NOW_MS, BUFFER_MS),
            None,
            "already expired"
        );
    }

    #[test]
    fn kv_keys_are_the_hash_in_lowercase_hex_under_a_versioned_prefix() {
        let hash: Vec<u8> = (0..32).map(|i| i * 8).collect();
        assert_eq!(
            kv_key_for_hash(&hash),
            "token:v2:0008101820283038404850586068707880889098a0a8b0b8c0c8d0d8e0e8f0f8"
        );
    }

    #[test]
    fn a_sealed_value_is_base64_of_the_iv_then_the_ciphertext() {
        let iv = [7u8; IV_BYTES];
        let sealed = encode_sealed(&iv, b"ct+tag");
        assert_eq!(sealed, "BwcHBwcHBwcHBwcHY3QrdGFn");
        let bytes = decode_sealed(&sealed).unwrap();
        assert_eq!(bytes.split_at(IV_BYTES), (&iv[..], &b"ct+tag"[..]));
    }

    #[test]
    fn values_without_ciphertext_or_not_base64_do_not_open() {
        assert_eq!(decode_sealed("not base64!"), Err("not base64"));
        assert_eq!(decode_sealed(""), Err("too short"));
        assert_eq!(
            decode_sealed(&STANDARD.encode([1u8; IV_BYTES])),
            Err("too short")
        );
        assert_eq!(
            decode_sealed(&STANDARD.encode([1u8; IV_BYTES + 1])),
            Ok(vec![1u8; IV_BYTES + 1])
        );
    }
}
