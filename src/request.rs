//! Building the token request: a pure function from configuration to bytes.

use crate::authority::TokenEndpoint;
use crate::credential::Credential;
use crate::ports::HttpRequest;
use crate::scope::ScopeSet;

/// The form content type of OAuth2 token requests (RFC 6749 §4.4.2).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Builds the client-credentials token request (RFC 6749 §4.4.2) in the parameter order
/// MSAL uses: `client_id`, `scope`, the credential, `grant_type`.
pub fn build_token_request(
    endpoint: &TokenEndpoint,
    client_id: &str,
    credential: &Credential,
    scopes: &ScopeSet,
) -> HttpRequest {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("client_id", client_id);
    form.append_pair("scope", &scopes.to_request_param());
    match credential {
        Credential::ClientSecret(secret) => {
            form.append_pair("client_secret", secret.expose());
        }
    }
    form.append_pair("grant_type", "client_credentials");
    HttpRequest {
        method: "POST",
        url: endpoint.url().to_owned(),
        headers: vec![
            ("content-type".to_owned(), FORM_CONTENT_TYPE.to_owned()),
            ("accept".to_owned(), "application/json".to_owned()),
        ],
        body: form.finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_exact_entra_request() {
        let endpoint = TokenEndpoint::from_authority(
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
        )
        .unwrap();
        let credential = Credential::client_secret("s3cr&t=+/ value").unwrap();
        let scopes = ScopeSet::parse([
            "https://graph.microsoft.com/.default",
            "api://6e1f/.default",
        ])
        .unwrap();
        let request = build_token_request(
            &endpoint,
            "11111111-2222-3333-4444-555555555555",
            &credential,
            &scopes,
        );

        assert_eq!(request.method, "POST");
        assert_eq!(
            request.url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            request.headers,
            vec![
                (
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded".to_owned()
                ),
                ("accept".to_owned(), "application/json".to_owned()),
            ]
        );
        assert_eq!(
            request.body,
            "client_id=11111111-2222-3333-4444-555555555555\
             &scope=https%3A%2F%2Fgraph.microsoft.com%2F.default+api%3A%2F%2F6e1f%2F.default\
             &client_secret=s3cr%26t%3D%2B%2F+value\
             &grant_type=client_credentials"
        );
    }

    #[test]
    fn body_round_trips_through_a_form_decoder() {
        let endpoint = TokenEndpoint::from_authority("http://127.0.0.1:1/t").unwrap();
        let credential = Credential::client_secret("ä ö~!*'()%").unwrap();
        let scopes = ScopeSet::parse(["a/.default", "b/.default"]).unwrap();
        let request = build_token_request(&endpoint, "id", &credential, &scopes);
        let decoded: Vec<(String, String)> = form_urlencoded::parse(request.body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            decoded,
            vec![
                ("client_id".into(), "id".into()),
                ("scope".into(), "a/.default b/.default".into()),
                ("client_secret".into(), "ä ö~!*'()%".into()),
                ("grant_type".into(), "client_credentials".into()),
            ]
        );
    }
}
