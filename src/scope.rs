//! Scope sets: what a token is requested for, and the key it is cached under.

use crate::error::Error;

/// Longest scope accepted; real scopes are far shorter, and a bound keeps cache keys and
/// request bodies small whatever a caller sends.
const MAX_SCOPE_LEN: usize = 1024;
/// Most scopes in one request.
const MAX_SCOPES: usize = 64;

/// A validated, de-duplicated, non-empty set of scopes.
///
/// Order on the wire follows the caller's order (first occurrence wins); the cache key is
/// order-independent, so `["a", "b"]` and `["b", "a"]` share one cached token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSet {
    in_request_order: Vec<String>,
    cache_key: String,
}

impl ScopeSet {
    /// Validates scopes: at least one, none empty, none containing whitespace or control
    /// characters (scopes are space-separated on the wire).
    pub fn parse<I, S>(scopes: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut in_request_order: Vec<String> = Vec::new();
        for (index, scope) in scopes.into_iter().enumerate() {
            let scope = scope.as_ref();
            validate_one(index, scope)?;
            if !in_request_order.iter().any(|seen| seen == scope) {
                in_request_order.push(scope.to_owned());
            }
            if in_request_order.len() > MAX_SCOPES {
                return Err(Error::invalid_scope(format!(
                    "too many scopes: at most {MAX_SCOPES} may be requested at once"
                )));
            }
        }
        if in_request_order.is_empty() {
            return Err(Error::invalid_scope(
                "scopes is empty: pass at least one scope, e.g. \"https://graph.microsoft.com/.default\"",
            ));
        }
        let mut sorted = in_request_order.clone();
        sorted.sort();
        let cache_key = sorted.join(" ");
        Ok(ScopeSet {
            in_request_order,
            cache_key,
        })
    }

    /// The value of the `scope` request parameter: scopes joined by single spaces.
    pub fn to_request_param(&self) -> String {
        self.in_request_order.join(" ")
    }

    /// An order-independent key for caching tokens of this scope set.
    pub fn cache_key(&self) -> &str {
        &self.cache_key
    }

    /// The scopes in request order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.in_request_order.iter().map(String::as_str)
    }
}

fn validate_one(index: usize, scope: &str) -> Result<(), Error> {
    if scope.is_empty() {
        return Err(Error::invalid_scope(format!(
            "scopes[{index}] is empty: remove it or name a resource, e.g. \"api://my-api/.default\""
        )));
    }
    if scope.len() > MAX_SCOPE_LEN {
        return Err(Error::invalid_scope(format!(
            "scopes[{index}] is {} characters long; at most {MAX_SCOPE_LEN} are accepted",
            scope.len()
        )));
    }
    if scope.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_scope(format!(
            "scopes[{index}] contains whitespace or a control character; pass each scope as its own list item"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn keeps_request_order_and_drops_duplicates() {
        let scopes = ScopeSet::parse(["b/.default", "a/.default", "b/.default"]).unwrap();
        assert_eq!(scopes.to_request_param(), "b/.default a/.default");
        assert_eq!(scopes.cache_key(), "a/.default b/.default");
    }

    #[test]
    fn cache_key_ignores_order() {
        let ab = ScopeSet::parse(["a", "b"]).unwrap();
        let ba = ScopeSet::parse(["b", "a"]).unwrap();
        assert_eq!(ab.cache_key(), ba.cache_key());
    }

    #[test]
    fn rejects_empty_lists_and_bad_scopes() {
        let empty: [&str; 0] = [];
        let error = ScopeSet::parse(empty).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidScope);
        assert!(error.message().starts_with("scopes is empty"));

        let error = ScopeSet::parse(["ok", ""]).unwrap_err();
        assert!(error.message().starts_with("scopes[1] is empty"));

        let error = ScopeSet::parse(["a b"]).unwrap_err();
        assert!(error.message().contains("whitespace"));

        let error = ScopeSet::parse(["a\r\nX-Injected: 1"]).unwrap_err();
        assert!(error.message().contains("control character"));

        let long = "x".repeat(MAX_SCOPE_LEN + 1);
        assert!(ScopeSet::parse([long]).is_err());

        let many: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("s{i}")).collect();
        assert!(ScopeSet::parse(many).is_err());
    }
}
