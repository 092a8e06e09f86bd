//! Parsing the token endpoint's reply: a pure function from status, headers and body to a
//! token or a typed error.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, ErrorKind, IdpErrorDetails};
use crate::ports::HttpResponse;
use crate::retry::parse_retry_after;
use crate::secret::{basic_credentials, leaks, AccessToken};
use crate::troubleshooting::{hint_for, HintContext};

/// How much of an unusable body an error quotes.
const QUOTED_BODY_CHARS: usize = 200;

/// A successful token response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: AccessToken,
    /// The token type, `Bearer` for Entra ID.
    pub token_type: String,
    /// Lifetime in seconds from the moment the request was sent.
    pub expires_in_s: u64,
    /// `ext_expires_in`: how long the token stays usable when Entra is degraded.
    pub ext_expires_in_s: Option<u64>,
    /// `refresh_in`: when Entra suggests refreshing, in seconds.
    pub refresh_in_s: Option<u64>,
}

#[derive(Deserialize)]
struct SuccessBody {
    access_token: Option<Value>,
    token_type: Option<Value>,
    expires_in: Option<Value>,
    ext_expires_in: Option<Value>,
    refresh_in: Option<Value>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<i64>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
    timestamp: Option<String>,
}

/// Parses a token endpoint response received at `now_ms`.
///
/// 2xx with a JSON body holding a non-empty `access_token` and a positive `expires_in`
/// (a number, or a numeric string as Entra's v1 endpoint and ADFS send it) is a token.
/// An OAuth2 error body becomes [`ErrorKind::IdentityProvider`] with the provider's `error`
/// as the code, its AADSTS numbers and a hint. A body that is not JSON is quoted (its first
/// 200 characters) unless it may hold a token.
pub fn parse_token_response(
    response: &HttpResponse,
    context: &HintContext<'_>,
    now_ms: u64,
) -> Result<TokenResponse, Error> {
    if (200..300).contains(&response.status) {
        parse_success(response, context)
    } else {
        Err(parse_failure(response, context, now_ms))
    }
}

fn parse_success(
    response: &HttpResponse,
    context: &HintContext<'_>,
) -> Result<TokenResponse, Error> {
    let body: SuccessBody = json_object(&response.body).ok_or_else(|| {
        Error::invalid_response(format!(
            "the token endpoint answered HTTP {} with a body that is not a JSON object ({}): {}",
            response.status,
            describe_content_type(response, context),
            quote_body(&response.body, context)
        ))
        .with_hint("check that the authority or token endpoint URL points at an OAuth2 token endpoint, and that no proxy answers instead of it")
    })?;
    let access_token = match body.access_token {
        Some(Value::String(token)) if !token.is_empty() => AccessToken::new(token),
        _ => {
            return Err(Error::invalid_response(
                "the token response has no access_token string",
            ))
        }
    };
    // RFC 6749 §5.1: the type is case-insensitive. Only Bearer is accepted, so an
    // authorization header built from this token is never of a kind the caller did not ask
    // for (a PoP or DPoP token sent as Bearer is refused by the resource, or worse, accepted).
    let token_type = match body.token_type {
        Some(Value::String(kind)) if kind.eq_ignore_ascii_case("bearer") => "Bearer".to_owned(),
        None | Some(Value::Null) => "Bearer".to_owned(),
        Some(Value::String(kind)) => {
            let shown = match printable_excerpt(&kind, 32, context) {
                Some(shown) => format!("\"{shown}\""),
                None => "withheld (it echoes the request's credential)".to_owned(),
            };
            return Err(Error::invalid_response(format!(
                "the token response's token_type is {shown}, not Bearer: cctoken sends only Bearer tokens (the client-credentials grant of Entra ID and of most OAuth2 servers issues them)"
            )).with_hint("check that the token endpoint is configured to issue Bearer tokens for this client (no DPoP or proof-of-possession binding)"));
        }
        Some(_) => {
            return Err(Error::invalid_response(
                "the token response's token_type is not a string",
            ))
        }
    };
    let expires_in_s = seconds(body.expires_in.as_ref()).ok_or_else(|| {
        Error::invalid_response(
            "the token response's expires_in is missing or not a positive number of seconds",
        )
    })?;
    Ok(TokenResponse {
        access_token,
        token_type,
        expires_in_s,
        ext_expires_in_s: seconds(body.ext_expires_in.as_ref()),
        refresh_in_s: seconds(body.refresh_in.as_ref()),
    })
}

/// A positive whole number of seconds, as a JSON number or numeric string.
/// Lifetimes are capped here: no token server issues tokens for longer, and an absurd
/// `expires_in` (say 10^15 s) would overflow expiry arithmetic and JavaScript's `Date`.
pub const MAX_LIFETIME_S: u64 = 10 * 365 * 24 * 3600;

/// Whole numbers written as floats (`3600.0`, `1e20`) or too large for u64
/// (`"99999999999999999999"`) are read, and capped like any other absurd lifetime; fractions
/// and signs are still refused.
fn seconds(value: Option<&Value>) -> Option<u64> {
    match value? {
        // `as` saturates: 1e20 becomes u64::MAX, then the cap.
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 1.0)
                .map(|f| f as u64)
        }),
        Value::String(text) => {
            let text = text.trim();
            text.parse::<u64>().ok().or_else(|| {
                (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then_some(u64::MAX)
            })
        }
        _ => None,
    }
    .filter(|s| *s > 0)
    .map(|s| s.min(MAX_LIFETIME_S))
}

fn parse_failure(response: &HttpResponse, context: &HintContext<'_>, now_ms: u64) -> Error {
    let status = response.status;
    let retry_after_ms = response
        .header("retry-after")
        .and_then(|value| parse_retry_after(value, now_ms));
    // RFC 6749 §5.2: `error` is required; a blank one names no error, so the reply is
    // treated like any other body that is not an OAuth2 error (its code comes from the status).
    let oauth_error =
        json_object::<ErrorBody>(&response.body).filter(|body| !body.error.trim().is_empty());
    let error = match oauth_error {
        Some(body) if error_body_echoes_credential(&response.body, context) => {
            // The provider's words may be the echoed form itself: keep only what cannot be.
            let code = if error_body_echoes_credential(&body.error, context) {
                "server_error".to_owned()
            } else {
                body.error
            };
            Error::identity_provider(
                code,
                format!("the token endpoint answered HTTP {status} with an OAuth2 error whose text is withheld: it echoes the request's credential"),
                IdpErrorDetails {
                    status,
                    ..IdpErrorDetails::default()
                },
            )
        }
        Some(body) => {
            let aadsts = if body.error_codes.is_empty() {
                body.error_description
                    .as_deref()
                    .map(aadsts_in)
                    .unwrap_or_default()
            } else {
                body.error_codes
            };
            let message = match &body.error_description {
                Some(description) if !description.trim().is_empty() => description.clone(),
                _ => format!(
                    "the token endpoint answered HTTP {status} with error \"{}\"",
                    body.error
                ),
            };
            let hint = hint_for(&aadsts, context);
            let mut error = Error::identity_provider(
                body.error,
                message,
                IdpErrorDetails {
                    status,
                    description: body.error_description,
                    aadsts,
                    trace_id: body.trace_id,
                    timestamp: body.timestamp,
                },
            );
            if let Some(hint) = hint {
                error = error.with_hint(hint);
            }
            if let Some(correlation_id) = body.correlation_id {
                error = error.with_correlation_id(correlation_id);
            }
            error
        }
        None => {
            // 429 is `throttled`, by its error kind (below).
            let code = match status {
                503 => "temporarily_unavailable",
                500..=599 => "server_error",
                _ => "http_error",
            };
            let message = format!(
                "the token endpoint answered HTTP {status} without an OAuth2 error body ({}): {}",
                describe_content_type(response, context),
                quote_body(&response.body, context)
            );
            let details = IdpErrorDetails {
                status,
                ..IdpErrorDetails::default()
            };
            if status == 429 {
                Error::new(ErrorKind::Throttled, message).with_idp_details(details)
            } else {
                Error::identity_provider(code, message, details)
            }
        }
    };
    match retry_after_ms {
        Some(ms) => error.with_retry_after_ms(ms),
        None => error,
    }
}

/// `body` as `T`, if it is a JSON object. serde's derived structs also accept a JSON array of
/// their fields in order, which no token endpoint sends and which must not become a token.
fn json_object<T: serde::de::DeserializeOwned>(body: &str) -> Option<T> {
    body.trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
        .then(|| serde_json::from_str(body).ok())
        .flatten()
}

/// Every `AADSTS<digits>` in a description, for replies without `error_codes`.
fn aadsts_in(description: &str) -> Vec<i64> {
    description
        .match_indices("AADSTS")
        .filter_map(|(at, _)| {
            let digits: String = description[at + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}

/// True when reply text may carry the request's credential back: a proxy, WAF or wrong
/// endpoint that echoes the form body. Such text is never quoted.
fn echoes_credential(text: &str, context: &HintContext<'_>) -> bool {
    text.contains("client_secret")
        || text.contains("client_assertion")
        || echoes_secret(text, context)
}

/// True when `text` holds 16 characters of the client secret as it travels: raw,
/// form-encoded, or inside the `Authorization: Basic` credentials (an echo of the headers).
fn echoes_secret(text: &str, context: &HintContext<'_>) -> bool {
    context.secret.is_some_and(|secret| {
        secret.appears_in(text)
            || leaks(text, &basic_credentials(context.client_id, secret.expose()))
    })
}

/// [`echoes_credential`] for an OAuth2 error body, whose descriptions legitimately name the
/// parameters ("AADSTS7000218: The request body must contain the following parameter:
/// 'client_assertion' or 'client_secret'"): only a parameter with a value, a JWT or the
/// secret itself counts.
fn error_body_echoes_credential(text: &str, context: &HintContext<'_>) -> bool {
    text.contains("client_secret=")
        || text.contains("client_assertion=")
        || text.contains("eyJ")
        || echoes_secret(text, context)
}

/// The first 200 characters of a body for an error message, unless it may hold a token or
/// echo the credential.
fn quote_body(body: &str, context: &HintContext<'_>) -> String {
    if body.is_empty() {
        return "the body is empty".to_owned();
    }
    if body.contains("access_token") || body.contains("eyJ") {
        return format!("body withheld ({} bytes): it may hold a token", body.len());
    }
    if echoes_credential(body, context) {
        return format!(
            "body withheld ({} bytes): it echoes the request's credential",
            body.len()
        );
    }
    let quoted: String = body
        .chars()
        .take(QUOTED_BODY_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let more = if body.chars().count() > QUOTED_BODY_CHARS {
        "…"
    } else {
        ""
    };
    format!("\"{quoted}{more}\"")
}

fn describe_content_type(response: &HttpResponse, context: &HintContext<'_>) -> String {
    let Some(value) = response.header("content-type") else {
        return "no content-type".to_owned();
    };
    let media_type = value.split(';').next().unwrap_or_default().trim();
    match printable_excerpt(media_type, 64, context) {
        Some(shown) => format!("content-type {shown}"),
        None => "a content-type that echoes the request's credential".to_owned(),
    }
}

/// At most `max_chars` printable ASCII characters of a short reply field, for a message; `None`
/// when the excerpt echoes the credential. Found by fuzzing: dropping unprintable characters
/// can join the pieces of an echoed secret, so the text as shown is what is checked.
fn printable_excerpt(text: &str, max_chars: usize, context: &HintContext<'_>) -> Option<String> {
    let shown: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max_chars)
        .collect();
    (!echoes_credential(&shown, context)).then_some(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{ClientSecret, Secret};

    const CONTEXT: HintContext<'static> = HintContext {
        authority_host: Some("https://login.microsoftonline.com"),
        tenant: Some("contoso.onmicrosoft.com"),
        client_id: "app-1",
        secret: None,
    };

    fn parse(status: u16, body: &str) -> Result<TokenResponse, Error> {
        parse_token_response(&HttpResponse::new(status, body), &CONTEXT, 0)
    }

    #[test]
    fn parses_an_entra_token_response() {
        let token = parse(
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":7199,"refresh_in":1800,"access_token":"eyJ0eXAi.x.y"}"#,
        )
        .unwrap();
        assert_eq!(token.access_token.expose(), "eyJ0eXAi.x.y");
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.expires_in_s, 3599);
        assert_eq!(token.ext_expires_in_s, Some(7199));
        assert_eq!(token.refresh_in_s, Some(1800));
    }

    #[test]
    fn caps_absurd_lifetimes() {
        let token = parse(
            200,
            r#"{"access_token":"t","expires_in":1000000000000000,"ext_expires_in":"99999999999999999"}"#,
        )
        .unwrap();
        assert_eq!(MAX_LIFETIME_S, 315_360_000, "ten years of 365 days");
        assert_eq!(token.expires_in_s, MAX_LIFETIME_S);
        assert_eq!(token.ext_expires_in_s, Some(MAX_LIFETIME_S));
        for (whole, seconds) in [("3600.0", 3600), ("1e3", 1000)] {
            let body = format!(r#"{{"access_token":"t","expires_in":{whole}}}"#);
            assert_eq!(parse(200, &body).unwrap().expires_in_s, seconds, "{body}");
        }
        for beyond_u64 in ["1e20", "\"99999999999999999999\"", "18446744073709551616"] {
            let body = format!(r#"{{"access_token":"t","expires_in":{beyond_u64}}}"#);
            assert_eq!(
                parse(200, &body).unwrap().expires_in_s,
                MAX_LIFETIME_S,
                "{body}"
            );
        }
        for refused in ["3599.5", "-1", "\"-5\"", "\"1e3\"", "\"\"", "0", "\"000\""] {
            let body = format!(r#"{{"access_token":"t","expires_in":{refused}}}"#);
            assert!(parse(200, &body).is_err(), "{body}");
        }
    }

    #[test]
    fn accepts_expires_in_as_a_numeric_string_and_defaults_token_type() {
        let token = parse(
            200,
            r#"{"access_token":"t","expires_in":"3600","ext_expires_in":"x"}"#,
        )
        .unwrap();
        assert_eq!(token.expires_in_s, 3600);
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.ext_expires_in_s, None);
        assert_eq!(token.refresh_in_s, None);
    }

    #[test]
    fn rejects_unusable_success_bodies_without_quoting_tokens() {
        for (body, expected) in [
            ("<html>sign in</html>", "\"<html>sign in</html>\""),
            (r#"{"access_token":"secret-tok"#, "body withheld"),
            ("", "the body is empty"),
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
            let error = parse(200, body).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{body}");
            assert!(error.message().contains(expected), "{body}: {error}");
            assert!(!error.to_string().contains("secret-tok"));
        }
        let exactly = "y".repeat(200);
        let error = parse(200, &exactly).unwrap_err();
        assert!(
            error.message().ends_with(&format!("\"{exactly}\"")),
            "{error}"
        );
        let long = "x".repeat(500);
        let error = parse(200, &long).unwrap_err();
        assert!(error
            .message()
            .contains(&format!("\"{}…\"", "x".repeat(200))));
    }

    #[test]
    fn token_types_are_bearer_in_any_case_and_nothing_else() {
        for kind in ["Bearer", "bearer", "BEARER"] {
            let body = format!(r#"{{"access_token":"t","expires_in":60,"token_type":"{kind}"}}"#);
            assert_eq!(parse(200, &body).unwrap().token_type, "Bearer");
        }
        for kind in ["pop", "DPoP", "N_A", "mac", ""] {
            let body = format!(r#"{{"access_token":"t","expires_in":60,"token_type":"{kind}"}}"#);
            let error = parse(200, &body).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{kind}");
            assert!(error.message().contains("not Bearer"), "{error}");
        }
    }

    const SECRET: &str = "Qx8~wK3.zN+v/TaL=pR2sY9_mF4hJ6cB";

    fn parse_for_secret_client(status: u16, body: &str) -> Error {
        let secret = ClientSecret::new(SECRET);
        let context = HintContext {
            secret: Some(&secret),
            ..CONTEXT
        };
        parse_token_response(&HttpResponse::new(status, body), &context, 0).unwrap_err()
    }

    fn assert_shows_nothing_of_the_secret(error: &Error) {
        let everything = format!("{error} {error:?} {:?}", error.hint());
        assert!(!Secret::new(SECRET).appears_in(&everything), "{everything}");
        assert!(!everything.contains("client_secret="), "{everything}");
        assert!(!everything.contains("client_assertion="), "{everything}");
    }

    #[test]
    fn replies_that_echo_the_request_are_never_quoted() {
        let encoded: String = form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
        let form = format!("client_id=app-1&scope=api%2F.default&grant_type=client_credentials&client_secret={encoded}");
        let assertion_form = "client_id=app-1&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=abc.def.ghi";
        for (status, body) in [
            (400, form.clone()),
            (200, form.clone()),
            (502, format!("<pre>echo: {form}</pre>")),
            (403, format!("WAF blocked: {SECRET}")),
            (
                403,
                format!(
                    "WAF blocked. Request headers: Authorization: Basic {}",
                    basic_credentials("app-1", SECRET)
                ),
            ),
            (403, format!("WAF blocked: {}", &SECRET[4..24])),
            (400, assertion_form.to_owned()),
            (
                400,
                format!(r#"{{"error":"invalid_request","error_description":"bad body: {form}"}}"#),
            ),
            (
                400,
                format!(r#"{{"error":"invalid_request","error_description":"{SECRET}"}}"#),
            ),
            (
                400,
                format!(r#"{{"error":"{SECRET}","error_description":"x"}}"#),
            ),
            (
                401,
                format!(r#"{{"error":"invalid_client","error_description":"{assertion_form}"}}"#),
            ),
        ] {
            let error = parse_for_secret_client(status, &body);
            assert_shows_nothing_of_the_secret(&error);
            assert!(error.message().contains("withheld"), "{body}: {error}");
            assert_eq!(error.status(), Some(status).filter(|s| *s != 200), "{body}");
        }
        let mut echoed = HttpResponse::new(502, "<html>bad gateway</html>");
        echoed
            .headers
            .push(("content-type".into(), format!("text/{}", &SECRET[2..20])));
        let secret = ClientSecret::new(SECRET);
        let context = HintContext {
            secret: Some(&secret),
            ..CONTEXT
        };
        let error = parse_token_response(&echoed, &context, 0).unwrap_err();
        assert_shows_nothing_of_the_secret(&error);
        assert!(
            error.message().contains("a content-type that echoes"),
            "{error}"
        );
        // Entra names the parameters in real errors; those are still shown.
        let error = parse_for_secret_client(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.","error_codes":[7000218]}"#,
        );
        assert!(error.message().starts_with("AADSTS7000218"), "{error}");
        assert_eq!(error.code(), "invalid_client");
    }

    #[test]
    fn maps_entra_errors_with_their_details_and_hint() {
        let error = parse(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"timestamp":"2026-11-28 10:00:00Z","trace_id":"t-1","correlation_id":"c-1"}"#,
        )
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::IdentityProvider);
        assert_eq!(error.code(), "invalid_client");
        assert_eq!(
            error.message(),
            "AADSTS7000215: Invalid client secret provided."
        );
        assert!(error.hint().unwrap().contains("not its Secret ID"));
        assert_eq!(error.correlation_id(), Some("c-1"));
        let details = error.idp_details().unwrap();
        assert_eq!(details.status, 401);
        assert_eq!(details.aadsts, vec![7000215]);
        assert_eq!(details.trace_id.as_deref(), Some("t-1"));
        assert_eq!(details.timestamp.as_deref(), Some("2026-11-28 10:00:00Z"));
    }

    #[test]
    fn reads_aadsts_from_the_description_when_codes_are_missing() {
        let error = parse(
            400,
            r#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found. See AADSTS50000 too."}"#,
        )
        .unwrap_err();
        assert_eq!(error.idp_details().unwrap().aadsts, vec![90002, 50000]);
        assert!(error.hint().unwrap().contains("does not exist"));
    }

    #[test]
    fn non_oauth_error_bodies_are_named_by_status_and_quoted() {
        let mut gateway = HttpResponse::new(502, "<html>Bad gateway</html>");
        gateway
            .headers
            .push(("content-type".into(), "text/html; charset=utf-8".into()));
        let error = parse_token_response(&gateway, &CONTEXT, 0).unwrap_err();
        assert_eq!(error.code(), "server_error");
        assert_eq!(error.status(), Some(502));
        assert_eq!(
            error.message(),
            "the token endpoint answered HTTP 502 without an OAuth2 error body (content-type text/html): \"<html>Bad gateway</html>\""
        );
        assert_eq!(
            parse(503, "").unwrap_err().code(),
            "temporarily_unavailable"
        );
        assert_eq!(parse(404, "nope").unwrap_err().code(), "http_error");
        let error = parse(400, r#"{"error":"invalid_scope"}"#).unwrap_err();
        assert_eq!(
            error.message(),
            "the token endpoint answered HTTP 400 with error \"invalid_scope\""
        );
    }

    #[test]
    fn json_arrays_are_neither_tokens_nor_provider_errors() {
        // An invariant of the `response` fuzz target: serde's derived structs also read an
        // array of the fields in order, so this was a token.
        let error = parse(200, r#"["secret-tok", null, 3599, null, null]"#).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidResponse);
        assert!(error.message().contains("not a JSON object"), "{error}");
        assert!(parse(200, " \r\n\t{\"access_token\":\"t\",\"expires_in\":1}").is_ok());
        let error = parse(
            400,
            r#"["invalid_client", "AADSTS7000215: wrong", [7000215]]"#,
        )
        .unwrap_err();
        assert_eq!(error.code(), "http_error");
        assert!(
            error.message().contains("without an OAuth2 error body"),
            "{error}"
        );
    }

    #[test]
    fn blank_error_codes_and_descriptions_are_not_used() {
        // An invariant of the `response` fuzz target: every error has a code and a message
        // that are not blank.
        let error =
            parse(400, r#"{"error":" ","error_description":"AADSTS90002: x"}"#).unwrap_err();
        assert_eq!(error.code(), "http_error");
        assert_eq!(error.kind(), ErrorKind::IdentityProvider);
        assert!(
            error.message().contains("without an OAuth2 error body"),
            "{error}"
        );
        let error = parse(503, r#"{"error":""}"#).unwrap_err();
        assert_eq!(error.code(), "temporarily_unavailable");
        let error = parse(
            401,
            r#"{"error":"invalid_client","error_description":" \r\n"}"#,
        )
        .unwrap_err();
        assert_eq!(error.code(), "invalid_client");
        assert_eq!(
            error.message(),
            "the token endpoint answered HTTP 401 with error \"invalid_client\""
        );
    }

    #[test]
    fn throttling_carries_retry_after() {
        let mut throttled = HttpResponse::new(429, "slow down");
        throttled.headers.push(("retry-after".into(), "7".into()));
        let error = parse_token_response(&throttled, &CONTEXT, 0).unwrap_err();
        assert_eq!(error.code(), "throttled");
        assert_eq!(error.kind(), ErrorKind::Throttled);
        assert_eq!(error.retry_after_ms(), Some(7000));
        assert_eq!(error.status(), Some(429));
    }
}
