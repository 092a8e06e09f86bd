//! Client capabilities (`clientCapabilities`, e.g. `["cp1"]`) and the `claims` request they
//! become: `{"access_token":{"xms_cc":{"values":["cp1"]}}}`, sent with every token request so
//! that resources supporting continuous access evaluation (CAE) get long-lived, revocable
//! tokens, and merged with a claims challenge when a request carries one, as MSAL does.

use serde_json::{Map, Value};

use crate::error::Error;

/// The option's name, as errors' `field` names it.
pub const CLIENT_CAPABILITIES: &str = "clientCapabilities";
/// Most capabilities one client may declare (Entra knows one today, `cp1`).
const MAX_CAPABILITIES: usize = 16;
/// Longest capability name.
const MAX_CAPABILITY_LEN: usize = 64;

/// The declared capabilities, validated: each 1 to 64 ASCII letters, digits, `_`, `-` or `.`,
/// at most 16 of them; repeats are dropped, the first kept. An empty list declares none (no
/// `claims` is sent), as in MSAL.
pub fn validate_capabilities(capabilities: Vec<String>) -> Result<Vec<String>, Error> {
    if capabilities.len() > MAX_CAPABILITIES {
        return Err(Error::invalid_config(
            CLIENT_CAPABILITIES,
            format!(
                "clientCapabilities takes at most {MAX_CAPABILITIES} capabilities, e.g. [\"cp1\"]"
            ),
        ));
    }
    let mut kept: Vec<String> = Vec::with_capacity(capabilities.len());
    for (index, capability) in capabilities.into_iter().enumerate() {
        let usable = (1..=MAX_CAPABILITY_LEN).contains(&capability.len())
            && capability
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !usable {
            // Not quoted: an error message repeats nothing pasted into the settings.
            return Err(Error::invalid_config(
                CLIENT_CAPABILITIES,
                format!("clientCapabilities[{index}] must be a capability name of 1 to {MAX_CAPABILITY_LEN} letters, digits, '_', '-' or '.', e.g. \"cp1\" (continuous access evaluation)"),
            ));
        }
        if !kept.contains(&capability) {
            kept.push(capability);
        }
    }
    Ok(kept)
}

/// The claims request declaring `capabilities`:
/// `{"access_token":{"xms_cc":{"values":[…]}}}`. `None` when there are none.
pub fn capabilities_claims(capabilities: &[String]) -> Option<String> {
    (!capabilities.is_empty()).then(|| capabilities_object(capabilities).to_string())
}

fn capabilities_object(capabilities: &[String]) -> Value {
    let values = capabilities.iter().cloned().map(Value::String).collect();
    let mut xms_cc = Map::new();
    xms_cc.insert("values".into(), Value::Array(values));
    let mut access_token = Map::new();
    access_token.insert("xms_cc".into(), Value::Object(xms_cc));
    let mut claims = Map::new();
    claims.insert("access_token".into(), Value::Object(access_token));
    Value::Object(claims)
}

/// The claims sent for a request carrying the claims challenge `challenge` (JSON) from a
/// client declaring `capabilities`: the two merged deep, as MSAL.NET does. Objects merge
/// member by member; for the same member in both, the challenge's value wins, but two arrays
/// are joined (without repeats) and a `null` in the challenge is ignored. So a challenge's own
/// `access_token` members are kept beside `xms_cc`. Members come out in name order.
///
/// A challenge that is not a JSON object is refused (`invalid_config`, field `claims`)
/// without quoting it. Without capabilities the challenge is sent as given.
pub fn merge_claims(capabilities: &[String], challenge: &str) -> Result<String, Error> {
    if capabilities.is_empty() {
        return Ok(challenge.to_owned());
    }
    let refused = || {
        Error::invalid_config(
            "claims",
            "claims must be a JSON object (a claims challenge, e.g. {\"access_token\":{\"nbf\":{\"essential\":true,\"value\":\"1604106651\"}}}) to be merged with clientCapabilities",
        )
    };
    let challenge: Value = serde_json::from_str(challenge).map_err(|_| refused())?;
    if !challenge.is_object() {
        return Err(refused());
    }
    let mut merged = capabilities_object(capabilities);
    merge_into(&mut merged, challenge);
    Ok(merged.to_string())
}

/// Lays `from` over `into` (see [`merge_claims`]).
fn merge_into(into: &mut Value, from: Value) {
    match (into, from) {
        (_, Value::Null) => {}
        (Value::Object(into), Value::Object(from)) => {
            for (name, value) in from {
                match into.get_mut(&name) {
                    Some(existing) => merge_into(existing, value),
                    None => {
                        into.insert(name, value);
                    }
                }
            }
        }
        (Value::Array(into), Value::Array(from)) => {
            for item in from {
                if !into.contains(&item) {
                    into.push(item);
                }
            }
        }
        (into, from) => *into = from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn cp1() -> Vec<String> {
        vec!["cp1".into()]
    }

    #[test]
    fn at_most_sixteen_capabilities() {
        let named = |n: usize| (0..n).map(|i| format!("cp{i}")).collect::<Vec<_>>();
        assert_eq!(validate_capabilities(named(16)).unwrap().len(), 16);
        assert_eq!(
            validate_capabilities(named(17)).unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
    }

    #[test]
    fn capabilities_become_the_xms_cc_claims_request() {
        assert_eq!(
            capabilities_claims(&cp1()).as_deref(),
            Some(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#)
        );
        assert_eq!(
            capabilities_claims(&["cp1".into(), "cp2".into()]).as_deref(),
            Some(r#"{"access_token":{"xms_cc":{"values":["cp1","cp2"]}}}"#)
        );
        assert_eq!(capabilities_claims(&[]), None);
    }

    #[test]
    fn a_challenge_without_access_token_is_merged_beside_it() {
        assert_eq!(
            merge_claims(&cp1(), r#"{"id_token":{"auth_time":{"essential":true}}}"#).unwrap(),
            r#"{"access_token":{"xms_cc":{"values":["cp1"]}},"id_token":{"auth_time":{"essential":true}}}"#
        );
        assert_eq!(
            merge_claims(&cp1(), "{}").unwrap(),
            r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#
        );
    }

    #[test]
    fn a_challenges_access_token_members_are_kept() {
        // Entra's CAE challenge: a token issued after `nbf`.
        let challenge = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;
        assert_eq!(
            merge_claims(&cp1(), challenge).unwrap(),
            r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"},"xms_cc":{"values":["cp1"]}}}"#
        );
        // Both name xms_cc: the values are joined, without repeats.
        let challenge = r#"{"access_token":{"xms_cc":{"values":["cp2","cp1"]},"acrs":{"essential":true,"value":"c1"}}}"#;
        assert_eq!(
            merge_claims(&cp1(), challenge).unwrap(),
            r#"{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1","cp2"]}}}"#
        );
        // A null is ignored; any other value of the challenge wins.
        assert_eq!(
            merge_claims(&cp1(), r#"{"access_token":null}"#).unwrap(),
            r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#
        );
        assert_eq!(
            merge_claims(&cp1(), r#"{"access_token":{"xms_cc":"x"}}"#).unwrap(),
            r#"{"access_token":{"xms_cc":"x"}}"#
        );
    }

    #[test]
    fn without_capabilities_the_challenge_is_sent_as_given() {
        assert_eq!(merge_claims(&[], "not json").unwrap(), "not json");
        let challenge = r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#;
        assert_eq!(merge_claims(&[], challenge).unwrap(), challenge);
    }

    #[test]
    fn a_challenge_that_is_no_json_object_is_refused_without_quoting_it() {
        for challenge in ["", "not json secret-ish", "[]", "\"secret-ish\"", "{\"a\":"] {
            let error = merge_claims(&cp1(), challenge).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidConfig);
            assert_eq!(error.code(), "invalid_config");
            assert_eq!(error.field(), Some("claims"));
            assert!(error.message().contains("JSON object"));
            assert!(!error.message().contains("secret-ish"));
        }
    }

    #[test]
    fn capabilities_are_validated() {
        assert_eq!(
            validate_capabilities(vec!["cp1".into(), "cp2".into(), "cp1".into()]).unwrap(),
            vec!["cp1".to_owned(), "cp2".to_owned()]
        );
        assert!(validate_capabilities(vec![]).unwrap().is_empty());
        for bad in ["", "cp 1", "cp1\"}", &"c".repeat(65)] {
            let error = validate_capabilities(vec!["cp1".into(), bad.into()]).unwrap_err();
            assert_eq!(error.field(), Some("clientCapabilities"));
            assert!(error.message().starts_with("clientCapabilities[1] must be"));
        }
        let many = (0..17).map(|i| format!("cp{i}")).collect();
        assert!(validate_capabilities(many)
            .unwrap_err()
            .message()
            .contains("at most 16"));
    }
}
