//! Parsing the token endpoint's reply: a pure function from status and body to a token or
//! a typed error.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, IdpErrorDetails};
use crate::ports::HttpResponse;
use crate::secret::Secret;

/// A successful token response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: Secret,
    /// The token type, `Bearer` for Entra ID.
    pub token_type: String,
    /// Lifetime in seconds from the moment the response was received.
    pub expires_in_s: u64,
}

#[derive(Deserialize)]
struct SuccessBody {
    access_token: Option<Value>,
    token_type: Option<Value>,
    expires_in: Option<Value>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<i64>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
}

/// Parses a token endpoint response.
///
/// 2xx with a JSON body holding a non-empty `access_token` and a positive `expires_in`
/// (a number, or a numeric string as Entra's v1 endpoint and ADFS send it) is a token.
/// An OAuth2 error body becomes [`crate::ErrorKind::IdentityProvider`] with the provider's
/// `error` as the code. Anything else is [`crate::ErrorKind::InvalidResponse`] or, for a
/// non-2xx status without an OAuth2 error body, an identity-provider error named after the
/// status. Bodies are never quoted in errors: they may hold tokens.
pub fn parse_token_response(response: &HttpResponse) -> Result<TokenResponse, Error> {
    if (200..300).contains(&response.status) {
        parse_success(response)
    } else {
        Err(parse_failure(response))
    }
}

fn parse_success(response: &HttpResponse) -> Result<TokenResponse, Error> {
    let body: SuccessBody = serde_json::from_str(&response.body).map_err(|_| {
        Error::invalid_response(format!(
            "the token endpoint answered HTTP {} but the body is not a JSON object ({}, {} bytes); check that the authority or token endpoint URL points at an OAuth2 token endpoint",
            response.status,
            describe_content_type(response),
            response.body.len()
        ))
    })?;
    let access_token = match body.access_token {
        Some(Value::String(token)) if !token.is_empty() => Secret::new(token),
        _ => {
            return Err(Error::invalid_response(
                "the token response has no access_token string",
            ))
        }
    };
    let token_type = match body.token_type {
        Some(Value::String(kind)) if !kind.is_empty() => kind,
        None | Some(Value::Null) => "Bearer".to_owned(),
        Some(_) => {
            return Err(Error::invalid_response(
                "the token response's token_type is not a string",
            ))
        }
    };
    let expires_in_s = match body.expires_in {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(text)) => text.trim().parse::<u64>().ok(),
        _ => None,
    }
    .filter(|seconds| *seconds > 0)
    .ok_or_else(|| {
        Error::invalid_response(
            "the token response's expires_in is missing or not a positive number of seconds",
        )
    })?;
    Ok(TokenResponse {
        access_token,
        token_type,
        expires_in_s,
    })
}

fn parse_failure(response: &HttpResponse) -> Error {
    let status = response.status;
    match serde_json::from_str::<ErrorBody>(&response.body) {
        Ok(body) => {
            let message = match &body.error_description {
                Some(description) if !description.is_empty() => description.clone(),
                _ => format!(
                    "the token endpoint answered HTTP {status} with error \"{}\"",
                    body.error
                ),
            };
            Error::identity_provider(
                body.error,
                message,
                IdpErrorDetails {
                    status,
                    description: body.error_description,
                    error_codes: body.error_codes,
                    trace_id: body.trace_id,
                    correlation_id: body.correlation_id,
                },
            )
        }
        Err(_) => {
            let code = match status {
                503 => "temporarily_unavailable",
                500..=599 => "server_error",
                _ => "http_error",
            };
            Error::identity_provider(
                code,
                format!(
                    "the token endpoint answered HTTP {status} without an OAuth2 error body ({}, {} bytes)",
                    describe_content_type(response),
                    response.body.len()
                ),
                IdpErrorDetails {
                    status,
                    ..IdpErrorDetails::default()
                },
            )
        }
    }
}

fn describe_content_type(response: &HttpResponse) -> String {
    match response.header("content-type") {
        Some(value) => {
            let media_type = value.split(';').next().unwrap_or_default().trim();
            let printable: String = media_type
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect();
            format!("content-type {printable}")
        }
        None => "no content-type".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_an_entra_token_response() {
        let token = parse_token_response(&reply(
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAi.x.y"}"#,
        ))
        .unwrap();
        assert_eq!(token.access_token.expose(), "eyJ0eXAi.x.y");
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.expires_in_s, 3599);
    }

    #[test]
    fn accepts_expires_in_as_a_numeric_string_and_defaults_token_type() {
        let token =
            parse_token_response(&reply(200, r#"{"access_token":"t","expires_in":"3600"}"#))
                .unwrap();
        assert_eq!(token.expires_in_s, 3600);
        assert_eq!(token.token_type, "Bearer");
    }

    #[test]
    fn rejects_unusable_success_bodies_without_quoting_them() {
        for (body, expected) in [
            ("<html>sign in</html>", "not a JSON object"),
            (r#"{"access_token":"#, "not a JSON object"),
            (r#"{"expires_in":3599}"#, "no access_token"),
            (
                r#"{"access_token":"","expires_in":3599}"#,
                "no access_token",
            ),
            (
                r#"{"access_token":"secret-tok","expires_in":0}"#,
                "expires_in",
            ),
            (
                r#"{"access_token":"secret-tok","expires_in":-5}"#,
                "expires_in",
            ),
            (
                r#"{"access_token":"secret-tok","expires_in":"soon"}"#,
                "expires_in",
            ),
            (r#"{"access_token":"secret-tok"}"#, "expires_in"),
            (
                r#"{"access_token":"secret-tok","expires_in":1,"token_type":5}"#,
                "token_type",
            ),
        ] {
            let error = parse_token_response(&reply(200, body)).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{body}");
            assert!(error.message().contains(expected), "{body}: {error}");
            assert!(!error.to_string().contains("secret-tok"));
        }
    }

    #[test]
    fn maps_entra_errors_with_their_details() {
        let error = parse_token_response(&reply(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"timestamp":"2026-11-28 10:00:00Z","trace_id":"t-1","correlation_id":"c-1"}"#,
        ))
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::IdentityProvider);
        assert_eq!(error.code(), "invalid_client");
        assert_eq!(
            error.message(),
            "AADSTS7000215: Invalid client secret provided."
        );
        let details = error.idp_details().unwrap();
        assert_eq!(details.status, 401);
        assert_eq!(details.error_codes, vec![7000215]);
        assert_eq!(details.trace_id.as_deref(), Some("t-1"));
        assert_eq!(details.correlation_id.as_deref(), Some("c-1"));
    }

    #[test]
    fn non_oauth_error_bodies_are_named_by_status() {
        let mut gateway = reply(502, "<html>Bad gateway</html>");
        gateway
            .headers
            .push(("content-type".into(), "text/html; charset=utf-8".into()));
        let error = parse_token_response(&gateway).unwrap_err();
        assert_eq!(error.code(), "server_error");
        assert_eq!(
            error.message(),
            "the token endpoint answered HTTP 502 without an OAuth2 error body (content-type text/html, 24 bytes)"
        );
        assert_eq!(
            parse_token_response(&reply(503, "")).unwrap_err().code(),
            "temporarily_unavailable"
        );
        assert_eq!(
            parse_token_response(&reply(404, "nope"))
                .unwrap_err()
                .code(),
            "http_error"
        );
        let error = parse_token_response(&reply(400, r#"{"error":"invalid_scope"}"#)).unwrap_err();
        assert_eq!(
            error.message(),
            "the token endpoint answered HTTP 400 with error \"invalid_scope\""
        );
    }
}
