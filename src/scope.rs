//! Scope sets: what a token is requested for, and the key it is cached under.
//!
//! Entra ID issues app-only tokens for exactly one resource, requested as
//! `<resource>/.default`; other OAuth2 servers accept free-form scopes. [`ScopeRules`] says
//! which rules apply.

use crate::error::Error;

/// Longest scope accepted; real scopes are far shorter, and a bound keeps cache keys and
/// request bodies small whatever a caller sends.
const MAX_SCOPE_LEN: usize = 1024;
/// Most scopes in one request.
const MAX_SCOPES: usize = 64;
const DEFAULT_SUFFIX: &str = "/.default";

/// Which scope rules a token endpoint imposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeRules {
    /// Entra ID client credentials: one `<resource>/.default` scope.
    Entra,
    /// Any OAuth2 server: non-empty scopes without whitespace.
    Generic,
}

/// A validated, de-duplicated, non-empty set of scopes.
///
/// Order on the wire follows the caller's order (first occurrence wins); the cache key
/// ignores order, so `["a", "b"]` and `["b", "a"]` share one cached token. Under Entra's
/// rules it also ignores the case of the resource URI's scheme and host, as Entra does;
/// elsewhere scopes are case-sensitive strings (RFC 6749 §3.3), so `app://READ` is not
/// `app://read`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSet {
    in_request_order: Vec<String>,
    cache_key: String,
}

/// The `.default` scope of a resource: `https://graph.microsoft.com` →
/// `https://graph.microsoft.com/.default`. A v1 resource whose audience ends in a slash keeps
/// it, so `https://database.windows.net/` → `https://database.windows.net//.default`: Entra
/// derives the token's audience from everything before `/.default`.
pub fn scope_for_resource(resource: &str) -> Result<String, Error> {
    if resource.is_empty()
        || resource
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid_scope(
            "the resource must be a non-empty URI or app id without whitespace, e.g. \"https://graph.microsoft.com\"",
        )
        .with_field("resource"));
    }
    Ok(format!("{resource}{DEFAULT_SUFFIX}"))
}

impl ScopeSet {
    /// Validates scopes under `rules`: at least one, none empty or with whitespace or control
    /// characters, and for Entra exactly one resource's `/.default` scope.
    pub fn parse<I, S>(scopes: I, rules: ScopeRules) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut in_request_order: Vec<String> = Vec::new();
        let mut normalized: Vec<String> = Vec::new();
        for (index, scope) in scopes.into_iter().enumerate() {
            let scope = scope.as_ref();
            validate_one(index, scope)?;
            if rules == ScopeRules::Entra {
                validate_entra(index, scope)?;
            }
            let key = normalize(scope, rules);
            if !normalized.contains(&key) {
                normalized.push(key);
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
        if rules == ScopeRules::Entra && in_request_order.len() > 1 {
            return Err(Error::invalid_scope(format!(
                "Entra ID issues an app-only token for one resource at a time, but {} were requested ({}): call acquireTokenForClient once per resource",
                in_request_order.len(),
                in_request_order.join(", ")
            )));
        }
        normalized.sort();
        Ok(ScopeSet {
            in_request_order,
            cache_key: normalized.join(" "),
        })
    }

    /// The value of the `scope` request parameter: scopes joined by single spaces.
    pub fn to_request_param(&self) -> String {
        self.in_request_order.join(" ")
    }

    /// An order-independent key for caching tokens of this scope set (and, under Entra's
    /// rules, independent of the resource host's case).
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

fn validate_entra(index: usize, scope: &str) -> Result<(), Error> {
    if scope.ends_with(DEFAULT_SUFFIX) && scope.len() > DEFAULT_SUFFIX.len() {
        return Ok(());
    }
    let looks_like_resource = match scope.split_once("://") {
        // "https://graph.microsoft.com", "api://my-api", "https://database.windows.net/"
        Some((_, rest)) => !rest.trim_end_matches('/').contains('/'),
        // An application id GUID.
        None => scope.len() == 36 && scope.chars().filter(|c| *c == '-').count() == 4,
    };
    if looks_like_resource {
        let suggestion = format!("{scope}{DEFAULT_SUFFIX}");
        return Err(Error::invalid_scope(format!(
            "scopes[{index}] \"{scope}\" is a resource, not a scope"
        ))
        .with_hint(format!(
            "request \"{suggestion}\" (scopeForResource(\"{scope}\") builds it)"
        )));
    }
    let resource = scope
        .rsplit_once('/')
        .map(|(resource, _)| resource)
        .filter(|resource| resource.contains("://"));
    let suggestion = match resource {
        Some(resource) => format!("\"{resource}{DEFAULT_SUFFIX}\""),
        None => "\"<resource>/.default\", e.g. \"https://graph.microsoft.com/.default\"".to_owned(),
    };
    Err(Error::invalid_scope(format!(
        "scopes[{index}] \"{scope}\" looks like a delegated permission; app-only tokens carry the application permissions granted to the app"
    ))
    .with_hint(format!(
        "request {suggestion} and grant the application permissions (app roles) in the app registration"
    )))
}

/// Under Entra's rules, lower-cases the scheme and host of a URI scope (Entra matches resource
/// URIs that way); every other scope is kept as it is.
fn normalize(scope: &str, rules: ScopeRules) -> String {
    if rules != ScopeRules::Entra {
        return scope.to_owned();
    }
    match scope.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => scope.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn generic<const N: usize>(scopes: [&str; N]) -> Result<ScopeSet, Error> {
        ScopeSet::parse(scopes, ScopeRules::Generic)
    }

    fn entra<const N: usize>(scopes: [&str; N]) -> Result<ScopeSet, Error> {
        ScopeSet::parse(scopes, ScopeRules::Entra)
    }

    #[test]
    fn keeps_request_order_and_drops_duplicates() {
        let scopes = generic(["b", "a", "b", "A"]).unwrap();
        assert_eq!(scopes.to_request_param(), "b a A");
        assert_eq!(scopes.cache_key(), "A a b");
    }

    #[test]
    fn cache_key_ignores_order_and_host_case() {
        assert_eq!(
            generic(["a", "b"]).unwrap().cache_key(),
            generic(["b", "a"]).unwrap().cache_key()
        );
        let upper = entra(["HTTPS://Graph.Microsoft.COM/.default"]).unwrap();
        let lower = entra(["https://graph.microsoft.com/.default"]).unwrap();
        assert_eq!(upper.cache_key(), lower.cache_key());
        assert_eq!(
            upper.to_request_param(),
            "HTTPS://Graph.Microsoft.COM/.default"
        );
        assert_ne!(
            generic(["https://x.example/Path"]).unwrap().cache_key(),
            generic(["https://x.example/path"]).unwrap().cache_key()
        );
    }

    #[test]
    fn generic_scopes_are_case_sensitive_everywhere() {
        let both = generic([
            "app://read",
            "app://READ",
            "HTTPS://X.example/a",
            "https://x.example/a",
        ])
        .unwrap();
        assert_eq!(
            both.to_request_param(),
            "app://read app://READ HTTPS://X.example/a https://x.example/a"
        );
        assert_ne!(
            generic(["app://READ"]).unwrap().cache_key(),
            generic(["app://read"]).unwrap().cache_key()
        );
        let deduped = entra([
            "https://X.example/a/.default",
            "https://x.example/a/.default",
        ])
        .unwrap();
        assert_eq!(deduped.to_request_param(), "https://X.example/a/.default");
    }

    #[test]
    fn rejects_empty_lists_and_bad_scopes() {
        let error = generic([]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidScope);
        assert!(error.message().starts_with("scopes is empty"));
        assert!(generic(["ok", ""])
            .unwrap_err()
            .message()
            .starts_with("scopes[1] is empty"));
        assert!(generic(["a b"])
            .unwrap_err()
            .message()
            .contains("whitespace"));
        assert!(generic(["a\r\nX-Injected: 1"])
            .unwrap_err()
            .message()
            .contains("control character"));
        assert!(ScopeSet::parse(["x".repeat(MAX_SCOPE_LEN + 1)], ScopeRules::Generic).is_err());
        assert!(ScopeSet::parse(["x".repeat(MAX_SCOPE_LEN)], ScopeRules::Generic).is_ok());
        let many: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("s{i}")).collect();
        assert!(ScopeSet::parse(&many, ScopeRules::Generic).is_err());
        let most = ScopeSet::parse(&many[..MAX_SCOPES], ScopeRules::Generic).unwrap();
        assert_eq!(most.iter().count(), 64);
        for resource in ["", "a b", "api://x\n"] {
            let error = scope_for_resource(resource).unwrap_err();
            assert_eq!(error.field(), Some("resource"), "{resource:?}");
        }
    }

    #[test]
    fn entra_tells_an_app_id_from_other_scopes_by_its_shape() {
        // 36 characters with four dashes: an application id, so a resource.
        let app_id = entra(["11111111-2222-3333-4444-555555555555"]).unwrap_err();
        assert!(app_id.message().contains("is a resource"), "{app_id}");
        for not_an_app_id in ["x".repeat(36), "a-b-c-d-e".to_owned()] {
            let error = entra([not_an_app_id.as_str()]).unwrap_err();
            assert!(
                error
                    .message()
                    .contains("looks like a delegated permission"),
                "{error}"
            );
        }
    }

    #[test]
    fn entra_accepts_one_default_scope() {
        for scope in [
            "https://graph.microsoft.com/.default",
            "api://my-api/.default",
            "https://database.windows.net//.default",
            "00000003-0000-0000-c000-000000000000/.default",
        ] {
            assert!(entra([scope]).is_ok(), "{scope}");
        }
        let same_twice = entra(["api://x/.default", "API://X/.default"]).unwrap();
        assert_eq!(same_twice.to_request_param(), "api://x/.default");
    }

    #[test]
    fn entra_explains_bare_resources() {
        for (resource, suggestion) in [
            (
                "https://graph.microsoft.com",
                "https://graph.microsoft.com/.default",
            ),
            ("api://my-api", "api://my-api/.default"),
            (
                "https://database.windows.net/",
                "https://database.windows.net//.default",
            ),
            (
                "00000003-0000-0000-c000-000000000000",
                "00000003-0000-0000-c000-000000000000/.default",
            ),
        ] {
            let error = entra([resource]).unwrap_err();
            assert_eq!(error.code(), "invalid_scope");
            assert!(
                error.message().contains("is a resource, not a scope"),
                "{error}"
            );
            assert!(
                error.hint().unwrap().contains(&format!("\"{suggestion}\"")),
                "{error}"
            );
        }
        assert!(entra(["/.default"]).is_err());
    }

    #[test]
    fn entra_explains_delegated_scopes() {
        let error = entra(["User.Read"]).unwrap_err();
        assert!(error.message().contains("delegated permission"), "{error}");
        assert!(error
            .hint()
            .unwrap()
            .contains("https://graph.microsoft.com/.default"));
        let error = entra(["https://graph.microsoft.com/User.Read.All"]).unwrap_err();
        assert!(error
            .hint()
            .unwrap()
            .starts_with("request \"https://graph.microsoft.com/.default\""));
    }

    #[test]
    fn entra_rejects_more_than_one_resource() {
        let error = entra(["api://a/.default", "api://b/.default"]).unwrap_err();
        assert!(
            error.message().contains("one resource at a time"),
            "{error}"
        );
        assert!(generic(["api://a/.default", "api://b/.default"]).is_ok());
    }

    #[test]
    fn scope_for_resource_appends_default_keeping_trailing_slashes() {
        assert_eq!(
            scope_for_resource("https://database.windows.net/").unwrap(),
            "https://database.windows.net//.default"
        );
        assert_eq!(
            scope_for_resource("https://graph.microsoft.com").unwrap(),
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            scope_for_resource("").unwrap_err().field(),
            Some("resource")
        );
    }
}
