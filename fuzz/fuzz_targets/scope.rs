//! Scope lists (`cctoken::scope`): what callers pass to `acquireTokenForClient`, and the
//! resources passed to `scopeForResource`.
//!
//! Input format: one scope per line; the first line picks the rules (`entra` or anything
//! else for generic), so seeds read as what they test.
#![no_main]

use cctoken::{scope_for_resource, ScopeRules, ScopeSet};
use cctoken_fuzz::{check_error, check_scopes, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = text(data);
    let mut lines = input.split('\n');
    let rules = match lines.next() {
        Some("entra") => ScopeRules::Entra,
        _ => ScopeRules::Generic,
    };
    let scopes: Vec<String> = lines.map(str::to_owned).collect();
    check_scopes(&scopes, rules);
    for resource in &scopes {
        check_resource(resource);
    }
});

/// `scopeForResource` builds a scope that Entra's rules accept (unless the result is longer
/// than any scope may be).
fn check_resource(resource: &str) {
    match scope_for_resource(resource) {
        Ok(scope) => {
            assert_eq!(scope, format!("{resource}/.default"));
            if scope.len() <= 1024 {
                ScopeSet::parse([&scope], ScopeRules::Entra)
                    .expect("scopeForResource's scope is a valid Entra scope");
            }
        }
        Err(error) => {
            check_error(&error);
            assert_eq!(error.field(), Some("resource"));
        }
    }
}
