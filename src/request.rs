//! Building the token request: a pure function from resolved parts to bytes.

use crate::authority::TokenEndpoint;
use crate::credential::ResolvedCredential;
use crate::ports::HttpRequest;
use crate::scope::ScopeSet;
use crate::secret::basic_credentials;

/// The form content type of OAuth2 token requests (RFC 6749 §4.4.2).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// `client_assertion_type` for JWT client assertions (RFC 7523).
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The `x-client-SKU` header: which library sent the request, for Entra's diagnostics.
pub const CLIENT_SKU: &str = "cctoken";
/// Longest reply read, so a hostile or broken endpoint cannot exhaust memory.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The form field a cctoken broker reads as "skip your caches" (not an OAuth2 parameter):
/// `BrokerClient` sends it with a forced refresh, since skipping its own cache is not enough,
/// or the broker hands back the very token being replaced.
pub const FORCE_REFRESH_PARAMETER: &str = "force_refresh";
/// The form field (and JSON body member) a cctoken broker reads as the tenant to serve, when
/// it is not the broker app's own: `BrokerClient` sends a request's `tenant` in it.
pub const TENANT_PARAMETER: &str = "tenant";

/// Everything one token request is made of.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequestParts<'a> {
    /// Where the request goes.
    pub endpoint: &'a TokenEndpoint,
    /// The client id.
    pub client_id: &'a str,
    /// The scopes.
    pub scopes: &'a ScopeSet,
    /// The credential for this request.
    pub credential: &'a ResolvedCredential,
    /// A claims challenge (JSON), sent as `claims`.
    pub claims: Option<&'a str>,
    /// Caller-supplied body parameters, appended last.
    pub extra_body: &'a [(String, String)],
    /// The `client-request-id`: a UUID Entra logs with the request.
    pub correlation_id: &'a str,
    /// Per-attempt timeout for adapters that can abort requests.
    pub timeout_ms: u64,
}

/// Builds the client-credentials token request (RFC 6749 §4.4.2). Body order: `client_id`,
/// `scope`, the credential, `grant_type`, `claims`, extra parameters. With HTTP Basic the
/// client authenticates in the `Authorization` header and `client_id` stays out of the body
/// (RFC 6749 §2.3: one authentication method per request).
pub fn build_token_request(parts: TokenRequestParts<'_>) -> HttpRequest {
    let mut form = form_urlencoded::Serializer::new(String::new());
    let mut headers = vec![
        ("content-type".to_owned(), FORM_CONTENT_TYPE.to_owned()),
        ("accept".to_owned(), "application/json".to_owned()),
        (
            "client-request-id".to_owned(),
            parts.correlation_id.to_owned(),
        ),
        ("return-client-request-id".to_owned(), "true".to_owned()),
        ("x-client-sku".to_owned(), CLIENT_SKU.to_owned()),
        (
            "x-client-ver".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
    ];
    if !matches!(parts.credential, ResolvedCredential::SecretBasic(_)) {
        form.append_pair("client_id", parts.client_id);
    }
    form.append_pair("scope", &parts.scopes.to_request_param());
    match parts.credential {
        ResolvedCredential::SecretPost(secret) => {
            form.append_pair("client_secret", secret.expose());
        }
        ResolvedCredential::SecretBasic(secret) => {
            headers.push((
                "authorization".to_owned(),
                basic_authorization(parts.client_id, secret.expose()),
            ));
        }
        ResolvedCredential::Assertion(assertion) => {
            form.append_pair("client_assertion_type", JWT_BEARER_ASSERTION_TYPE);
            form.append_pair("client_assertion", assertion.expose());
        }
    }
    form.append_pair("grant_type", "client_credentials");
    if let Some(claims) = parts.claims {
        form.append_pair("claims", claims);
    }
    form.extend_pairs(parts.extra_body);
    HttpRequest {
        method: "POST",
        url: parts.endpoint.url(),
        headers,
        body: form.finish(),
        timeout_ms: parts.timeout_ms,
        max_response_bytes: MAX_RESPONSE_BYTES,
    }
}

/// RFC 6749 §2.3.1: form-urlencode id and secret, join with `:`, base64.
fn basic_authorization(client_id: &str, secret: &str) -> String {
    format!("Basic {}", basic_credentials(client_id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::ScopeRules;
    use crate::secret::{ClientSecret, Secret};

    fn parts<'a>(
        endpoint: &'a TokenEndpoint,
        scopes: &'a ScopeSet,
        credential: &'a ResolvedCredential,
    ) -> TokenRequestParts<'a> {
        TokenRequestParts {
            endpoint,
            client_id: "11111111-2222-3333-4444-555555555555",
            scopes,
            credential,
            claims: None,
            extra_body: &[],
            correlation_id: "c0ffee00-0000-4000-8000-000000000001",
            timeout_ms: 10_000,
        }
    }

    fn entra() -> TokenEndpoint {
        TokenEndpoint::from_authority("https://login.microsoftonline.com/contoso.onmicrosoft.com")
            .unwrap()
    }

    #[test]
    fn builds_the_exact_entra_request() {
        let endpoint = entra();
        let scopes =
            ScopeSet::parse(["https://graph.microsoft.com/.default"], ScopeRules::Entra).unwrap();
        let credential = ResolvedCredential::SecretPost(ClientSecret::new("s3cr&t=+/ value"));
        let request = build_token_request(parts(&endpoint, &scopes, &credential));

        assert_eq!(request.method, "POST");
        assert_eq!(
            request.url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        let expected_headers: Vec<(String, String)> = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json"),
            ("client-request-id", "c0ffee00-0000-4000-8000-000000000001"),
            ("return-client-request-id", "true"),
            ("x-client-sku", "cctoken"),
            ("x-client-ver", env!("CARGO_PKG_VERSION")),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(request.headers, expected_headers);
        assert_eq!(
            request.body,
            "client_id=11111111-2222-3333-4444-555555555555\
             &scope=https%3A%2F%2Fgraph.microsoft.com%2F.default\
             &client_secret=s3cr%26t%3D%2B%2F+value\
             &grant_type=client_credentials"
        );
        assert_eq!(request.max_response_bytes, 1024 * 1024);
    }

    #[test]
    fn assertion_claims_and_extra_parameters_follow_grant_type() {
        let endpoint = entra();
        let scopes = ScopeSet::parse(["api://x/.default"], ScopeRules::Entra).unwrap();
        let credential = ResolvedCredential::Assertion(Secret::new("h.c.s"));
        let extra = [("resource_hint".to_owned(), "a b".to_owned())];
        let request = build_token_request(TokenRequestParts {
            claims: Some(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#),
            extra_body: &extra,
            ..parts(&endpoint, &scopes, &credential)
        });
        assert_eq!(
            request.body,
            "client_id=11111111-2222-3333-4444-555555555555\
             &scope=api%3A%2F%2Fx%2F.default\
             &client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer\
             &client_assertion=h.c.s\
             &grant_type=client_credentials\
             &claims=%7B%22access_token%22%3A%7B%22xms_cc%22%3A%7B%22values%22%3A%5B%22cp1%22%5D%7D%7D%7D\
             &resource_hint=a+b"
        );
    }

    #[test]
    fn basic_auth_encodes_id_and_secret_before_base64() {
        let endpoint = TokenEndpoint::generic("https://sso.example.com/oauth/token").unwrap();
        let scopes = ScopeSet::parse(["read:all", "write"], ScopeRules::Generic).unwrap();
        let credential = ResolvedCredential::SecretBasic(ClientSecret::new("p@ss:w rd"));
        let request = build_token_request(TokenRequestParts {
            client_id: "my app",
            ..parts(&endpoint, &scopes, &credential)
        });
        // base64("my+app:p%40ss%3Aw+rd")
        assert_eq!(
            request.header("authorization"),
            Some("Basic bXkrYXBwOnAlNDBzcyUzQXcrcmQ=")
        );
        assert_eq!(
            request.body,
            "scope=read%3Aall+write&grant_type=client_credentials"
        );
        assert!(!format!("{request:?}").contains("bXkrYXBw"));
    }

    #[test]
    fn body_round_trips_through_a_form_decoder() {
        let endpoint = TokenEndpoint::from_authority("http://127.0.0.1:1/t").unwrap();
        let scopes = ScopeSet::parse(["a", "b"], ScopeRules::Generic).unwrap();
        let credential = ResolvedCredential::SecretPost(ClientSecret::new("ä ö~!*'()%"));
        let request = build_token_request(parts(&endpoint, &scopes, &credential));
        let decoded: Vec<(String, String)> = form_urlencoded::parse(request.body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            decoded,
            vec![
                (
                    "client_id".into(),
                    "11111111-2222-3333-4444-555555555555".into()
                ),
                ("scope".into(), "a b".into()),
                ("client_secret".into(), "ä ö~!*'()%".into()),
                ("grant_type".into(), "client_credentials".into()),
            ]
        );
    }
}
