//! Reading a `POST /token` request: the caller's credentials and what it asks for, in either
//! form — JSON with a bearer broker key, or the standard OAuth2 client-credentials form with
//! the caller's id and key in the body or HTTP Basic (so any OAuth2 library can use the
//! broker as its token endpoint).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cctoken::Secret;
use serde::Deserialize;

/// Largest request body read.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The credentials a caller presented. Keys are `Secret`s, so a `Debug` print shows none.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented {
    /// `Authorization: Bearer <key>` (JSON form).
    Key(Secret),
    /// Caller id and key (form: body fields or HTTP Basic).
    IdAndKey(String, Secret),
    /// Nothing usable.
    Nothing,
}

/// What the caller asks for.
#[derive(Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Requested scopes, as given.
    pub scopes: Vec<String>,
    /// Skip the broker's caches.
    pub force_refresh: bool,
}

/// Why a request cannot be served, before authentication matters.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 413: body over [`MAX_BODY_BYTES`].
    TooLarge,
    /// 415: neither JSON nor a form.
    UnsupportedMediaType,
}

/// Why the body cannot be served, after authentication.
#[derive(Debug, PartialEq, Eq)]
pub enum BadBody {
    /// 400 invalid_request, with what is wrong.
    Invalid(&'static str),
    /// 400 unsupported_grant_type.
    UnsupportedGrantType,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JsonBody {
    scopes: Vec<String>,
    #[serde(default)]
    force_refresh: bool,
}

/// A parsed request: credentials, and the body's request or what is wrong with it.
pub struct Parsed {
    /// Credentials presented.
    pub presented: Presented,
    /// The request, or why the body is unusable.
    pub wanted: Result<Wanted, BadBody>,
}

/// Parses headers and body.
pub fn parse(
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<Parsed, Refusal> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    let media_type = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/json" => Ok(Parsed {
            presented: authorization
                .and_then(bearer)
                .map_or(Presented::Nothing, |key| Presented::Key(Secret::new(key))),
            wanted: parse_json(body),
        }),
        "application/x-www-form-urlencoded" => Ok(parse_form(authorization, body)),
        _ => Err(Refusal::UnsupportedMediaType),
    }
}

fn parse_json(body: &[u8]) -> Result<Wanted, BadBody> {
    let parsed: JsonBody = serde_json::from_slice(body).map_err(|_| {
        BadBody::Invalid("the body must be JSON like {\"scopes\": [\"api://my-api/.default\"], \"forceRefresh\": false}")
    })?;
    Ok(Wanted {
        scopes: parsed.scopes,
        force_refresh: parsed.force_refresh,
    })
}

fn parse_form(authorization: Option<&str>, body: &[u8]) -> Parsed {
    let mut grant_type = None;
    let mut scope = None;
    let mut client_id = None;
    let mut client_secret = None;
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "grant_type" => &mut grant_type,
            "scope" => &mut scope,
            "client_id" => &mut client_id,
            "client_secret" => &mut client_secret,
            _ => continue,
        };
        slot.get_or_insert(value.into_owned());
    }
    let basic = authorization.and_then(basic_credentials);
    let presented = match (basic, client_id, client_secret) {
        // RFC 6749 §2.3: one authentication method per request.
        (Some(_), _, Some(_)) => Presented::Nothing,
        (Some((id, key)), body_id, None) if body_id.as_deref().is_none_or(|b| b == id) => {
            Presented::IdAndKey(id, Secret::new(key))
        }
        (None, Some(id), Some(key)) => Presented::IdAndKey(id, Secret::new(key)),
        _ => Presented::Nothing,
    };
    let wanted = match (grant_type.as_deref(), scope) {
        (None, _) => Err(BadBody::Invalid(
            "grant_type is missing: use grant_type=client_credentials",
        )),
        (Some(grant), _) if grant != "client_credentials" => Err(BadBody::UnsupportedGrantType),
        (_, None) => Err(BadBody::Invalid("scope is missing")),
        (_, Some(scope)) => Ok(Wanted {
            scopes: scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            force_refresh: false,
        }),
    };
    Parsed { presented, wanted }
}

fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// RFC 6749 §2.3.1: base64 of form-urlencoded id, `:`, form-urlencoded secret.
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, key) = decoded.split_once(':')?;
    let unescape = |value: &str| -> String {
        form_urlencoded::parse(format!("v={value}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json; charset=utf-8");
    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn json_with_a_bearer_key() {
        let parsed = parse(
            JSON,
            Some("Bearer k-1"),
            br#"{"scopes":["api://a/.default"],"forceRefresh":true}"#,
        )
        .unwrap();
        assert_eq!(parsed.presented, Presented::Key(Secret::new("k-1")));
        assert_eq!(format!("{:?}", parsed.presented), "Key(Secret(<redacted>))");
        assert_eq!(
            parsed.wanted,
            Ok(Wanted {
                scopes: vec!["api://a/.default".into()],
                force_refresh: true
            })
        );
        let parsed = parse(JSON, Some("Basic abc"), b"{").unwrap();
        assert_eq!(parsed.presented, Presented::Nothing);
        assert!(matches!(parsed.wanted, Err(BadBody::Invalid(_))));
        let parsed = parse(JSON, None, br#"{"scopes":["a"],"extra":1}"#).unwrap();
        assert!(parsed.wanted.is_err(), "unknown fields are refused");
    }

    #[test]
    fn form_with_body_credentials_or_basic() {
        let body = b"grant_type=client_credentials&scope=api%3A%2F%2Fa%2F.default+api%3A%2F%2Fb%2F.default&client_id=jobs&client_secret=k%2B1";
        let parsed = parse(FORM, None, body).unwrap();
        assert_eq!(
            parsed.presented,
            Presented::IdAndKey("jobs".into(), Secret::new("k+1"))
        );
        assert_eq!(
            parsed.wanted.unwrap().scopes,
            vec!["api://a/.default", "api://b/.default"]
        );

        // base64("my+app:p%40ss") as RFC 6749 clients send it
        let basic = format!("Basic {}", STANDARD.encode("my+app:p%40ss"));
        let parsed = parse(FORM, Some(&basic), b"grant_type=client_credentials&scope=x").unwrap();
        assert_eq!(
            parsed.presented,
            Presented::IdAndKey("my app".into(), Secret::new("p@ss"))
        );

        let both = parse(
            FORM,
            Some(&basic),
            b"grant_type=client_credentials&scope=x&client_secret=y",
        )
        .unwrap();
        assert_eq!(
            both.presented,
            Presented::Nothing,
            "two authentication methods"
        );
    }

    #[test]
    fn form_errors() {
        let parsed = parse(FORM, None, b"grant_type=password&scope=x").unwrap();
        assert_eq!(parsed.wanted, Err(BadBody::UnsupportedGrantType));
        assert!(matches!(
            parse(FORM, None, b"scope=x").unwrap().wanted,
            Err(BadBody::Invalid(_))
        ));
        assert!(matches!(
            parse(FORM, None, b"grant_type=client_credentials")
                .unwrap()
                .wanted,
            Err(BadBody::Invalid(_))
        ));
    }

    #[test]
    fn refusals_before_anything_else() {
        assert_eq!(
            parse(JSON, None, &vec![b'x'; MAX_BODY_BYTES + 1]).err(),
            Some(Refusal::TooLarge)
        );
        assert_eq!(
            parse(Some("text/plain"), None, b"{}").err(),
            Some(Refusal::UnsupportedMediaType)
        );
        assert_eq!(
            parse(None, None, b"{}").err(),
            Some(Refusal::UnsupportedMediaType)
        );
    }
}
