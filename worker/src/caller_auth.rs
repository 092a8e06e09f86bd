//! Caller authentication: `Authorization: Bearer <broker key>`.

/// Whether `authorization` (the header's value) presents `expected_key`.
///
/// The comparison takes the same time wherever the first difference is, so response times
/// do not reveal how much of a guessed key was right.
pub fn presents_key(authorization: Option<&str>, expected_key: &str) -> bool {
    let Some(presented) = authorization.and_then(bearer_token) else {
        return false;
    };
    constant_time_eq(presented.as_bytes(), expected_key.as_bytes())
}

fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_bearer_key() {
        assert!(presents_key(Some("Bearer k-123"), "k-123"));
        assert!(presents_key(Some("bearer  k-123 "), "k-123"));
        assert!(!presents_key(Some("Bearer k-124"), "k-123"));
        assert!(!presents_key(Some("Bearer k-12"), "k-123"));
        assert!(!presents_key(Some("Basic k-123"), "k-123"));
        assert!(!presents_key(Some("Bearer "), ""));
        assert!(!presents_key(None, "k-123"));
    }
}
