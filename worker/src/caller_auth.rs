//! Caller authentication: `Authorization: Bearer <broker key>`.

use cctoken::Secret;

/// Whether `authorization` (the header's value) presents `broker_key`. The key comparison
/// is constant-time ([`Secret::matches`]).
pub fn presents_key(authorization: Option<&str>, broker_key: &Secret) -> bool {
    authorization
        .and_then(bearer_token)
        .is_some_and(|presented| broker_key.matches(presented))
}

fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}
