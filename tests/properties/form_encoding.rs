//! The token request body is standard `application/x-www-form-urlencoded`: a form decoder
//! gives back exactly the parameters that went in, in order, whatever their characters.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cctoken::credential::ResolvedCredential;
use cctoken::request::{build_token_request, TokenRequestParts, JWT_BEARER_ASSERTION_TYPE};
use cctoken::{ClientSecret, ScopeRules, ScopeSet, Secret, TokenEndpoint};
use proptest::collection::vec;
use proptest::prelude::*;

/// Any text, and text dense in the characters form encoding treats specially.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[&=+%; ~*._/:?#a-z\u{e4}\u{1f600}\r\n]{0,16}"
    ]
}

fn non_empty_text() -> impl Strategy<Value = String> {
    text().prop_filter("credentials are not empty", |s| !s.is_empty())
}

fn credential() -> impl Strategy<Value = ResolvedCredential> {
    prop_oneof![
        non_empty_text().prop_map(|s| ResolvedCredential::SecretPost(ClientSecret::new(s))),
        non_empty_text().prop_map(|s| ResolvedCredential::SecretBasic(ClientSecret::new(s))),
        non_empty_text().prop_map(|s| ResolvedCredential::Assertion(Secret::new(s))),
    ]
}

/// Scopes as the generic rules accept them: no whitespace, no control characters.
fn scopes() -> impl Strategy<Value = ScopeSet> {
    vec("[^\\s\\p{Cc}]{1,12}", 1..5)
        .prop_map(|scopes| ScopeSet::parse(scopes, ScopeRules::Generic).unwrap())
}

fn decode(encoded: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}

/// `byte_serialize`'s output alphabet: unreserved characters, `+` for space, `%XX` escapes.
fn is_canonical_form(body: &str) -> bool {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
                if !(i + 2 < bytes.len() && hex(bytes[i + 1]) && hex(bytes[i + 2])) {
                    return false;
                }
                i += 3;
                continue;
            }
            b if b.is_ascii_alphanumeric() || b"*-._+=&".contains(&b) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

proptest! {
    #[test]
    fn body_decodes_to_the_parameters_that_went_in(
        client_id in text(),
        scopes in scopes(),
        credential in credential(),
        claims in proptest::option::of(text()),
        extra_body in vec((text(), text()), 0..4),
    ) {
        let endpoint = TokenEndpoint::generic("https://sso.example.com/oauth/token").unwrap();
        let request = build_token_request(TokenRequestParts {
            endpoint: &endpoint,
            client_id: &client_id,
            scopes: &scopes,
            credential: &credential,
            claims: claims.as_deref(),
            extra_body: &extra_body,
            correlation_id: "c0ffee00-0000-4000-8000-000000000001",
            timeout_ms: 10_000,
        });

        let mut expected: Vec<(String, String)> = Vec::new();
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        if !matches!(credential, ResolvedCredential::SecretBasic(_)) {
            expected.push(pair("client_id", &client_id));
        }
        expected.push(pair("scope", &scopes.to_request_param()));
        match &credential {
            ResolvedCredential::SecretPost(secret) => {
                expected.push(pair("client_secret", secret.expose()));
            }
            ResolvedCredential::SecretBasic(_) => {}
            ResolvedCredential::Assertion(assertion) => {
                expected.push(pair("client_assertion_type", JWT_BEARER_ASSERTION_TYPE));
                expected.push(pair("client_assertion", assertion.expose()));
            }
        }
        expected.push(pair("grant_type", "client_credentials"));
        if let Some(claims) = &claims {
            expected.push(pair("claims", claims));
        }
        expected.extend(extra_body.iter().cloned());

        prop_assert_eq!(decode(&request.body), expected);
        prop_assert!(is_canonical_form(&request.body), "{}", request.body);
    }

    #[test]
    fn basic_authorization_decodes_to_client_id_and_secret(
        client_id in text(),
        secret in non_empty_text(),
    ) {
        let endpoint = TokenEndpoint::generic("https://sso.example.com/oauth/token").unwrap();
        let scopes = ScopeSet::parse(["read"], ScopeRules::Generic).unwrap();
        let credential = ResolvedCredential::SecretBasic(ClientSecret::new(secret.clone()));
        let request = build_token_request(TokenRequestParts {
            endpoint: &endpoint,
            client_id: &client_id,
            scopes: &scopes,
            credential: &credential,
            claims: None,
            extra_body: &[],
            correlation_id: "c0ffee00-0000-4000-8000-000000000001",
            timeout_ms: 10_000,
        });
        let header = request.header("authorization").unwrap();
        let encoded = header.strip_prefix("Basic ").unwrap();
        let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
        // Both halves are form-encoded, so the first ':' is the separator (RFC 6749 §2.3.1).
        let (id_part, secret_part) = decoded.split_once(':').unwrap();
        prop_assert!(is_canonical_form(id_part) && is_canonical_form(secret_part));
        let value = |part: &str| decode(&format!("v={part}")).remove(0).1;
        prop_assert_eq!(value(id_part), client_id);
        prop_assert_eq!(value(secret_part), secret);
        prop_assert_eq!(
            decode(&request.body),
            vec![
                ("scope".to_owned(), "read".to_owned()),
                ("grant_type".to_owned(), "client_credentials".to_owned()),
            ]
        );
    }
}
