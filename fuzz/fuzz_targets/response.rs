//! The token endpoint's reply (`cctoken::response::parse_token_response`) and a protected
//! API's refusal (`cctoken::challenge`): everything the network hands the core.
//!
//! Input format (so seeds are readable): a status line, header lines `name: value`, a blank
//! line, the body. A status line that is not a number means 200.
#![no_main]

use cctoken::challenge::{claims_from_challenge, is_insufficient_privileges};
use cctoken::ports::HttpResponse;
use cctoken::response::{parse_token_response, TokenResponse, MAX_LIFETIME_S};
use cctoken::retry::MAX_THROTTLE_MS;
use cctoken::troubleshooting::HintContext;
use cctoken::{ClientSecret, Error, ErrorKind};
use cctoken_fuzz::{check_error, text};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const NOW_MS: u64 = 1_700_000_000_000;

const CONTEXT: HintContext<'static> = HintContext {
    authority_host: Some("https://login.microsoftonline.com"),
    tenant: Some("contoso.onmicrosoft.com"),
    client_id: "11111111-2222-3333-4444-555555555555",
    secret: None,
};

/// The client secret the parser is told to withhold; fuzz/dict/response.dict holds it (raw
/// and form-encoded), so the fuzzer builds replies that echo it.
const SECRET: &str = "Zq7~Lw2.Xe+Rt/Yu=Io9Pa4Sd";

fuzz_target!(|data: &[u8]| {
    let input = text(data);
    let response = http_response(&input);
    let secret = ClientSecret::new(SECRET);
    let context = HintContext {
        secret: Some(&secret),
        ..CONTEXT
    };
    match parse_token_response(&response, &context, NOW_MS) {
        Ok(token) => check_token(&response, &token),
        Err(error) => {
            check_failure(&response, &error);
            check_no_token_in(&response, &error);
            let shown = format!("{error} {error:?} {:?}", error.hint());
            assert!(
                !secret.appears_in(&shown),
                "the error echoes the client secret: {shown}"
            );
        }
    }
    if let Some(challenge) = response.header("www-authenticate") {
        if let Some(claims) = claims_from_challenge(challenge) {
            assert!(claims.trim_start().starts_with('{'));
        }
    }
    let _ = is_insufficient_privileges(response.status, &response.body);
});

fn http_response(input: &str) -> HttpResponse {
    let (head, body) = input.split_once("\n\n").unwrap_or((input, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.trim().parse::<u16>().ok())
        .unwrap_or(200);
    let mut response = HttpResponse::new(status, body);
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            response
                .headers
                .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    response
}

/// A token is only made of a 2xx JSON object's own fields, and they are usable.
fn check_token(response: &HttpResponse, token: &TokenResponse) {
    assert!((200..300).contains(&response.status));
    let body: Value = serde_json::from_str(&response.body).expect("a token from invalid JSON");
    let object = body
        .as_object()
        .expect("a token from a body that is not an object");
    assert!(!token.access_token.is_empty());
    assert_eq!(
        object.get("access_token").and_then(Value::as_str),
        Some(token.access_token.expose())
    );
    assert_eq!(token.token_type, "Bearer");
    assert!(token.expires_in_s > 0);
    assert!(token.ext_expires_in_s != Some(0) && token.refresh_in_s != Some(0));
    // Whole numbers, also as floats or past u64, are capped; fractions and signs never make a token.
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let expires_in = match &object["expires_in"] {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 1.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s
            .trim()
            .parse()
            .ok()
            .or(Some(u64::MAX).filter(|_| digits(s.trim()))),
        _ => None,
    };
    // Lifetimes past ten years are capped, so expiry arithmetic cannot overflow.
    assert_eq!(
        expires_in.map(|s| s.min(MAX_LIFETIME_S)),
        Some(token.expires_in_s)
    );
    assert!(token.ext_expires_in_s.unwrap_or(0) <= MAX_LIFETIME_S);
    assert!(token.refresh_in_s.unwrap_or(0) <= MAX_LIFETIME_S);
}

/// 2xx without a token is an invalid response; anything else is the provider's error (or
/// throttling), with the status and a bounded Retry-After.
fn check_failure(response: &HttpResponse, error: &Error) {
    check_error(error);
    if (200..300).contains(&response.status) {
        assert_eq!(error.kind(), ErrorKind::InvalidResponse);
    } else {
        assert!(
            matches!(
                error.kind(),
                ErrorKind::IdentityProvider | ErrorKind::Throttled
            ),
            "{error:?}"
        );
        assert_eq!(error.status(), Some(response.status));
    }
    if let Some(ms) = error.retry_after_ms() {
        assert!(ms <= MAX_THROTTLE_MS);
    }
}

/// An error's text must not depend on the access token in the body: parsing the same reply
/// with the token's characters masked must not make the token's text disappear from the error
/// (if it does, the error quoted it).
fn check_no_token_in(response: &HttpResponse, error: &Error) {
    for range in access_token_values(&response.body) {
        let token = &response.body[range.clone()];
        let shown = format!("{error} {error:?}");
        if !shown.contains(token) {
            continue;
        }
        let mask = if token.contains('Q') { "Z" } else { "Q" };
        let mut masked = response.clone();
        masked
            .body
            .replace_range(range.clone(), &mask.repeat(token.len()));
        let shown_masked = match parse_token_response(&masked, &CONTEXT, NOW_MS) {
            Ok(_) => String::new(),
            Err(error) => format!("{error} {error:?}"),
        };
        assert!(
            shown_masked.contains(token),
            "the error quotes the access token {token:?}: {shown}"
        );
    }
}

/// Byte ranges of the values written as `"access_token": "<value>"` (the value up to the next
/// quote or backslash, or to the end of a truncated body).
fn access_token_values(body: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    for (at, key) in body.match_indices("\"access_token\"") {
        let after_key = &body[at + key.len()..];
        let Some(after_colon) = after_key.trim_start().strip_prefix(':') else {
            continue;
        };
        let Some(value) = after_colon.trim_start().strip_prefix('"') else {
            continue;
        };
        let start = body.len() - value.len();
        let len = value.find(['"', '\\']).unwrap_or(value.len());
        if len > 0 {
            ranges.push(start..start + len);
        }
    }
    ranges
}
