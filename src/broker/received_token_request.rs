//! A client-credentials token request as a token server receives it (the cctoken broker's
//! `POST /token`): the caller's credentials and what it asks for, in either form — JSON with
//! a bearer key, or the standard OAuth2 client-credentials form with the caller's id and key
//! in the body or HTTP Basic (so any OAuth2 library can use the broker as its token
//! endpoint). Pure parsing; the server authenticates and answers.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use crate::request::FORCE_REFRESH_PARAMETER;
use crate::secret::BrokerKey;

/// The body member (JSON) and form field naming another tenant than the app's own: the
/// one `BrokerClient` sends.
pub use crate::request::TENANT_PARAMETER;

/// Largest request body read.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The credentials a caller presented. Keys are [`BrokerKey`]s, so a `Debug` print shows none.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented {
    /// `Authorization: Bearer <key>` (JSON form).
    Key(BrokerKey),
    /// Caller id and key from the form body.
    IdAndKey(String, BrokerKey),
    /// HTTP Basic, which clients send two ways: RFC 6749 §2.3.1 form-encodes id and key before
    /// base64, curl `-u`, Python `requests` and many others do not. Both readings are checked.
    Basic(Readings),
    /// Nothing usable.
    Nothing,
}

/// The two readings of one HTTP Basic header. A reading is `None` when it is unusable (not
/// UTF-8 once decoded, an empty key, or an id other than the one the body names).
#[derive(Debug, PartialEq, Eq)]
pub struct Readings {
    /// Id and key form-decoded (RFC 6749 §2.3.1: `%2B` is `+`, `+` is a space).
    pub form_decoded: Option<(String, BrokerKey)>,
    /// Id and key as sent.
    pub raw: Option<(String, BrokerKey)>,
}

/// What the caller asks for.
#[derive(Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Requested scopes, as given.
    pub scopes: Vec<String>,
    /// Skip the broker's caches.
    pub force_refresh: bool,
    /// Another tenant than the app's own, as given (`tenant`): admitted only when the
    /// caller is granted it.
    pub tenant: Option<String>,
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
    #[serde(default)]
    tenant: Option<String>,
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
                .map_or(Presented::Nothing, |key| {
                    Presented::Key(BrokerKey::new(key))
                }),
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
        tenant: parsed.tenant,
    })
}

fn parse_form(authorization: Option<&str>, body: &[u8]) -> Parsed {
    let mut grant_type = None;
    let mut scope = None;
    let mut client_id = None;
    let mut client_secret = None;
    let mut force_refresh = None;
    let mut tenant = None;
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "grant_type" => &mut grant_type,
            "scope" => &mut scope,
            "client_id" => &mut client_id,
            "client_secret" => &mut client_secret,
            // Not an OAuth2 parameter: cctoken's BrokerClient (and curl users) ask for a new
            // token this way; other clients never send it.
            FORCE_REFRESH_PARAMETER => &mut force_refresh,
            // Not an OAuth2 parameter either: the JSON body's `tenant`, for form clients.
            TENANT_PARAMETER => &mut tenant,
            _ => continue,
        };
        slot.get_or_insert(value.into_owned());
    }
    let basic = authorization.and_then(basic_credentials);
    // RFC 6749 §2.3: one authentication method per request, so Basic with a client_secret
    // in the body is none (the last arm).
    let presented = match (basic, client_id, client_secret) {
        (Some(readings), body_id, None) => {
            // A client that also sends client_id names the same caller in both places.
            let named = |reading: Option<(String, BrokerKey)>| {
                reading.filter(|(id, _)| body_id.as_deref().is_none_or(|b| b == id))
            };
            match (named(readings.form_decoded), named(readings.raw)) {
                (None, None) => Presented::Nothing,
                (form_decoded, raw) => Presented::Basic(Readings { form_decoded, raw }),
            }
        }
        (None, Some(id), Some(key)) if !key.is_empty() => {
            Presented::IdAndKey(id, BrokerKey::new(key))
        }
        _ => Presented::Nothing,
    };
    let force_refresh = match force_refresh.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(BadBody::Invalid("force_refresh must be true or false")),
    };
    let wanted = match (grant_type.as_deref(), scope, force_refresh) {
        (None, _, _) => Err(BadBody::Invalid(
            "grant_type is missing: use grant_type=client_credentials",
        )),
        (Some(grant), _, _) if grant != "client_credentials" => Err(BadBody::UnsupportedGrantType),
        (_, None, _) => Err(BadBody::Invalid("scope is missing")),
        (_, _, Err(bad)) => Err(bad),
        (_, Some(scope), Ok(force_refresh)) => Ok(Wanted {
            scopes: scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            force_refresh,
            tenant,
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

/// Both readings of `Basic base64(id ":" key)` (RFC 7617: the id holds no `:`, the key may).
fn basic_credentials(header: &str) -> Option<Readings> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, key) = decoded.split_once(':')?;
    if key.is_empty() {
        return None;
    }
    let form_decoded = form_decode(id)
        .zip(form_decode(key))
        .filter(|(_, key)| !key.is_empty())
        .map(|(id, key)| (id, BrokerKey::new(key)));
    Some(Readings {
        form_decoded,
        raw: Some((id.to_owned(), BrokerKey::new(key))),
    })
}

/// One `application/x-www-form-urlencoded` value: `+` is a space, `%XX` a byte, and (as
/// WHATWG's parser has it) a `%` without two hex digits stands for itself. `None` when the
/// bytes are not UTF-8 (no key or id is).
fn form_decode(value: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&value.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(Cow::into_owned)
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
        assert_eq!(parsed.presented, Presented::Key(BrokerKey::new("k-1")));
        assert_eq!(
            format!("{:?}", parsed.presented),
            "Key(BrokerKey(<redacted>))"
        );
        assert_eq!(
            parsed.wanted,
            Ok(Wanted {
                scopes: vec!["api://a/.default".into()],
                force_refresh: true,
                tenant: None,
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
            Presented::IdAndKey("jobs".into(), BrokerKey::new("k+1"))
        );
        assert_eq!(
            parsed.wanted.unwrap().scopes,
            vec!["api://a/.default", "api://b/.default"]
        );

        // base64("my+app:p%40ss"): as RFC 6749 clients send "my app" and "p@ss", or as curl
        // sends "my+app" and "p%40ss"; both readings are kept for the hash comparison.
        let basic = format!("Basic {}", STANDARD.encode("my+app:p%40ss"));
        let parsed = parse(FORM, Some(&basic), b"grant_type=client_credentials&scope=x").unwrap();
        assert_eq!(
            parsed.presented,
            Presented::Basic(Readings {
                form_decoded: Some(("my app".into(), BrokerKey::new("p@ss"))),
                raw: Some(("my+app".into(), BrokerKey::new("p%40ss"))),
            })
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

    fn basic(credentials: &[u8], body: &[u8]) -> Presented {
        let header = format!("Basic {}", STANDARD.encode(credentials));
        parse(FORM, Some(&header), body).unwrap().presented
    }

    fn readings(form_decoded: Option<(&str, &str)>, raw: Option<(&str, &str)>) -> Presented {
        let pair = |(id, key): (&str, &str)| (id.to_owned(), BrokerKey::new(key));
        Presented::Basic(Readings {
            form_decoded: form_decoded.map(pair),
            raw: raw.map(pair),
        })
    }

    /// Keys from `openssl rand -base64 32` hold `+`, `/` and `=`; curl `-u` sends them as they
    /// are, where the RFC reading turns `+` into a space.
    #[test]
    fn basic_keeps_the_raw_and_the_rfc_reading() {
        let grant = b"grant_type=client_credentials&scope=x";
        assert_eq!(
            basic(b"jobs:q+Z/9w==", grant),
            readings(Some(("jobs", "q Z/9w==")), Some(("jobs", "q+Z/9w==")))
        );
        assert_eq!(
            basic(b"jobs:q%2BZ%2F9w%3D%3D", grant),
            readings(
                Some(("jobs", "q+Z/9w==")),
                Some(("jobs", "q%2BZ%2F9w%3D%3D"))
            ),
            "RFC 6749 form-encoding"
        );
        assert_eq!(
            basic(b"id:a:b&c=d%zz%4", grant),
            readings(Some(("id", "a:b&c=d%zz%4")), Some(("id", "a:b&c=d%zz%4"))),
            "a colon belongs to the key; & and = are plain; a stray % stands for itself"
        );
        assert_eq!(
            basic(b"id:%FF%FE", grant),
            readings(None, Some(("id", "%FF%FE"))),
            "not UTF-8 once decoded: only the raw reading"
        );
        assert_eq!(
            basic(
                b"my+app:k",
                b"grant_type=client_credentials&scope=x&client_id=my%2Bapp"
            ),
            readings(None, Some(("my+app", "k"))),
            "the body's client_id picks the reading with that id"
        );
        assert_eq!(
            basic(
                b"my+app:k",
                b"grant_type=client_credentials&scope=x&client_id=my+app"
            ),
            readings(Some(("my app", "k")), None)
        );
        assert_eq!(
            format!("{:?}", basic(b"jobs:q+Z/9w==", grant)),
            "Basic(Readings { form_decoded: Some((\"jobs\", BrokerKey(<redacted>))), raw: Some((\"jobs\", BrokerKey(<redacted>))) })"
        );
    }

    /// What the core's client sends (RFC 6749 §2.3.1) reads back, in the form-decoded reading.
    #[test]
    fn the_clients_own_basic_header_reads_back() {
        let header = format!(
            "Basic {}",
            crate::secret::basic_credentials("my app", "q+Z/9w==%")
        );
        let parsed = parse(
            FORM,
            Some(&header),
            b"grant_type=client_credentials&scope=x",
        )
        .unwrap();
        let Presented::Basic(readings) = parsed.presented else {
            panic!("not Basic: {:?}", parsed.presented);
        };
        assert_eq!(
            readings.form_decoded,
            Some(("my app".into(), BrokerKey::new("q+Z/9w==%")))
        );
    }

    /// The SHA-256 of the empty key is refused in `BROKER_CLIENTS`, and an empty key is no
    /// credential at all, whichever way it comes.
    #[test]
    fn empty_keys_are_no_credentials() {
        let grant = b"grant_type=client_credentials&scope=x";
        assert_eq!(basic(b"jobs:", grant), Presented::Nothing);
        assert_eq!(basic(b"jobs", grant), Presented::Nothing);
        assert_eq!(
            basic(b"jobs:+", grant),
            readings(Some(("jobs", " ")), Some(("jobs", "+"))),
            "a key that decodes to a space is a key"
        );
        let body = parse(
            FORM,
            None,
            b"grant_type=client_credentials&scope=x&client_id=jobs&client_secret=",
        )
        .unwrap();
        assert_eq!(body.presented, Presented::Nothing);
        let bearer = parse(JSON, Some("Bearer "), br#"{"scopes":["x"]}"#).unwrap();
        assert_eq!(bearer.presented, Presented::Nothing);
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
    fn form_force_refresh_is_true_false_or_absent() {
        let wanted = |body: &[u8]| parse(FORM, None, body).unwrap().wanted;
        for (body, force) in [
            (&b"grant_type=client_credentials&scope=x"[..], false),
            (
                b"grant_type=client_credentials&scope=x&force_refresh=false",
                false,
            ),
            (
                b"grant_type=client_credentials&scope=x&force_refresh=true",
                true,
            ),
        ] {
            assert_eq!(wanted(body).map(|w| w.force_refresh), Ok(force));
        }
        for value in ["1", "TRUE", "yes", ""] {
            let body = format!("grant_type=client_credentials&scope=x&force_refresh={value}");
            assert_eq!(
                wanted(body.as_bytes()).map(|w| w.force_refresh),
                Err(BadBody::Invalid("force_refresh must be true or false"))
            );
        }
    }

    #[test]
    fn refusals_before_anything_else() {
        assert_eq!(
            parse(JSON, None, &vec![b'x'; MAX_BODY_BYTES + 1]).err(),
            Some(Refusal::TooLarge)
        );
        assert_ne!(
            parse(JSON, None, &vec![b' '; MAX_BODY_BYTES]).err(),
            Some(Refusal::TooLarge),
            "exactly the limit is read"
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

    /// `tenant` in the JSON body or the form, taken as given (admission checks it).
    #[test]
    fn a_tenant_in_the_json_body_or_the_form() {
        let json = parse(
            JSON,
            Some("Bearer k-1"),
            br#"{"scopes":["api://a/.default"],"tenant":"Contoso.onmicrosoft.com"}"#,
        )
        .unwrap();
        assert_eq!(
            json.wanted.unwrap().tenant.as_deref(),
            Some("Contoso.onmicrosoft.com")
        );
        let plain = parse(JSON, None, br#"{"scopes":["api://a/.default"]}"#).unwrap();
        assert_eq!(plain.wanted.unwrap().tenant, None);
        let not_text = parse(JSON, None, br#"{"scopes":["api://a/.default"],"tenant":7}"#).unwrap();
        assert!(matches!(not_text.wanted, Err(BadBody::Invalid(_))));
        let form = parse(
            FORM,
            None,
            b"grant_type=client_credentials&scope=api%3A%2F%2Fa%2F.default&client_id=jobs&client_secret=k&tenant=t-2&tenant=t-3",
        )
        .unwrap();
        assert_eq!(
            form.wanted.unwrap().tenant.as_deref(),
            Some("t-2"),
            "the first one"
        );
    }
}
