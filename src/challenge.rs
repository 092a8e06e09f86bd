//! What a protected API's refusal says: a claims challenge in `WWW-Authenticate` (401), or
//! missing application permissions (403).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// The claims JSON of a `WWW-Authenticate: Bearer … claims="<base64>"` challenge, decoded
/// (base64 or base64url). `None` when the header carries no decodable claims parameter.
pub fn claims_from_challenge(www_authenticate: &str) -> Option<String> {
    let value = auth_param(www_authenticate, "claims")?;
    let trimmed = value.trim_end_matches('=');
    let decoded = URL_SAFE_NO_PAD
        .decode(trimmed)
        .ok()
        .or_else(|| STANDARD.decode(&value).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded {
        Some(json) if json.trim_start().starts_with('{') => Some(json),
        _ => None,
    }
}

/// The value of `name="value"` (or `name=value`) in a `WWW-Authenticate` header.
fn auth_param(header: &str, name: &str) -> Option<String> {
    let lower = header.to_ascii_lowercase();
    let mut search_from = 0;
    while let Some(found) = lower[search_from..].find(name) {
        let start = search_from + found;
        search_from = start + name.len();
        let preceded_ok = start == 0 || matches!(lower.as_bytes()[start - 1], b' ' | b',' | b'\t');
        let rest = header[start + name.len()..].trim_start();
        if !preceded_ok || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        return Some(match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or_default().to_owned(),
            None => rest.split([',', ' ']).next().unwrap_or_default().to_owned(),
        });
    }
    None
}

/// True when a 403 says the app lacks application permissions (Microsoft Graph answers
/// `Authorization_RequestDenied` / "Insufficient privileges to complete the operation").
pub fn is_insufficient_privileges(status: u16, body: &str) -> bool {
    status == 403
        && (body.contains("Authorization_RequestDenied")
            || body.contains("Insufficient privileges"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_claims_challenges() {
        let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;
        let encoded = STANDARD.encode(claims);
        let header = format!(
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="{encoded}""#
        );
        assert_eq!(claims_from_challenge(&header).as_deref(), Some(claims));
        let url_safe = URL_SAFE_NO_PAD.encode(claims);
        assert_eq!(
            claims_from_challenge(&format!("Bearer claims={url_safe}, error=x")).as_deref(),
            Some(claims)
        );
        assert_eq!(
            claims_from_challenge(&format!("Bearer claims=\"{claims}\"")).as_deref(),
            None,
            "quotes inside JSON end a quoted value early; such a header is malformed"
        );
        assert_eq!(
            claims_from_challenge(r#"Bearer error="invalid_token""#),
            None
        );
        assert_eq!(claims_from_challenge(r#"Bearer xclaims="e30=""#), None);
        assert_eq!(
            claims_from_challenge(r#"Bearer claims="not base64!""#),
            None
        );
    }

    #[test]
    fn recognises_missing_application_permissions() {
        let graph = r#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#;
        assert!(is_insufficient_privileges(403, graph));
        assert!(!is_insufficient_privileges(401, graph));
        assert!(!is_insufficient_privileges(
            403,
            r#"{"error":{"code":"Forbidden"}}"#
        ));
    }
}
