//! The wire format between an isolate and a token coordinator (the Durable Object `token:<hex>`
//! that owns one scope set's acquisition): the isolate sends a [`CoordinatorRequest`]; the
//! object answers [`TOKEN_STATUS`] with the token and when it validated it
//! ([`encode_token`]), or [`ANSWERED_STATUS`] with the identity provider's error, which the
//! isolate then treats as its own outcome ([`encode_error`]). [`decode_reply`] reads either.
//!
//! Everything else — a 5xx from the runtime, an exception's text, a body in another shape —
//! is [`CoordinatorFailure::Unavailable`]: the isolate goes to the identity provider itself,
//! so a broken coordinator degrades the broker, never fails it. The reason it gives is fixed
//! text and a status number, never the body (which may hold a token).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::authority::RequestAuthority;
use crate::cache::CachedToken;
use crate::client::TokenRequest;
use crate::error::{Error, ErrorKind, IdpErrorDetails};
use crate::scope::ScopeSet;

/// The status of a token reply.
pub const TOKEN_STATUS: u16 = 200;
/// The status of an answered error: 424 Failed Dependency (the identity provider failed), a
/// status neither the runtime nor a gateway sends, so a runtime failure never reads as one.
pub const ANSWERED_STATUS: u16 = 424;

/// What an isolate asks a token coordinator (`POST /token`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CoordinatorRequest {
    /// The scope set, as the caller requested it (the object keeps it to refresh alone).
    pub scopes: Vec<String>,
    /// Replace the token even if fresh (the caller's forced refresh, already budgeted).
    #[serde(default)]
    pub force_refresh: bool,
    /// The caller's correlation id, sent on to the identity provider.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// Another tenant than the app's own (`tenantId` per request), whose object this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Another authority than the app's own (`authority` per request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
}

/// A request's authority as [`CoordinatorRequest`] (and the object's storage) carry it:
/// `(tenant, authority)`, at most one of them.
pub fn wire_authority(authority: Option<&RequestAuthority>) -> (Option<String>, Option<String>) {
    match authority {
        Some(RequestAuthority::Tenant(tenant)) => (Some(tenant.clone()), None),
        Some(RequestAuthority::Authority(url)) => (None, Some(url.clone())),
        None => (None, None),
    }
}

/// The authority [`wire_authority`] wrote. Both at once cannot be its writing: the tenant
/// is taken, and the client's rules still check it.
pub fn authority_from_wire(
    tenant: Option<String>,
    authority: Option<String>,
) -> Option<RequestAuthority> {
    match (tenant, authority) {
        (Some(tenant), _) => Some(RequestAuthority::Tenant(tenant)),
        (None, Some(url)) => Some(RequestAuthority::Authority(url)),
        (None, None) => None,
    }
}

pub use crate::coordinator::CoordinatorFailure;

/// The body an isolate sends for `request` (plain requests only reach a coordinator: the
/// client sends claims challenges and extra parameters to the provider itself).
pub fn encode_request(request: &TokenRequest) -> String {
    let (tenant, authority) = wire_authority(request.authority.as_ref());
    let wire = CoordinatorRequest {
        scopes: request.scopes.iter().map(str::to_owned).collect(),
        force_refresh: request.force_refresh,
        correlation_id: request.correlation_id.clone(),
        tenant,
        authority,
    };
    serde_json::to_string(&wire).unwrap_or_default()
}

/// The coordinator's reading of an isolate's body, its scopes parsed by `scopes` (the
/// client's rules). A body that is not a request is an invalid-request error, answered as
/// one, without quoting it.
pub fn decode_request(
    body: &str,
    scopes: impl FnOnce(&[String]) -> Result<ScopeSet, Error>,
) -> Result<TokenRequest, Error> {
    let wire: CoordinatorRequest = serde_json::from_str(body).map_err(|_| {
        Error::invalid_config(
            "coordinator request",
            "the coordinator was sent something that is not a token request",
        )
    })?;
    Ok(TokenRequest {
        force_refresh: wire.force_refresh,
        correlation_id: wire.correlation_id,
        authority: authority_from_wire(wire.tenant, wire.authority),
        ..TokenRequest::new(scopes(&wire.scopes)?)
    })
}

#[derive(Serialize, Deserialize)]
struct TokenReply {
    /// [`CachedToken::to_json`]'s object.
    token: Value,
    validated_at_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct AnsweredReply {
    error: WireError,
}

/// An [`Error`] as sent: everything callers and the broker read from it, except `field`
/// (which names a configuration option; a coordinator answers acquisition errors only).
#[derive(Serialize, Deserialize)]
struct WireError {
    kind: String,
    code: String,
    message: String,
    hint: Option<String>,
    correlation_id: Option<String>,
    retry_after_ms: Option<u64>,
    idp: Option<WireIdp>,
}

#[derive(Serialize, Deserialize)]
struct WireIdp {
    status: u16,
    description: Option<String>,
    aadsts: Vec<i64>,
    trace_id: Option<String>,
    timestamp: Option<String>,
}

/// Every kind, to read one back by its name on the wire ([`ErrorKind::default_code`]).
const KINDS: [ErrorKind; 10] = [
    ErrorKind::InvalidConfig,
    ErrorKind::InvalidAuthority,
    ErrorKind::InvalidScope,
    ErrorKind::Network,
    ErrorKind::Timeout,
    ErrorKind::Aborted,
    ErrorKind::Throttled,
    ErrorKind::IdentityProvider,
    ErrorKind::InvalidResponse,
    ErrorKind::Crypto,
];

/// The body of a token reply: `{"token": <CachedToken::to_json>, "validated_at_ms": …}`.
/// `validated_at_ms` is when the coordinator last had the token confirmed (its clock), from
/// which the isolate's copy is leased.
pub fn encode_token(token: &CachedToken, validated_at_ms: u64) -> String {
    let reply = TokenReply {
        // `to_json` writes an object: reading it back cannot fail.
        token: serde_json::from_str(&token.to_json()).unwrap_or(Value::Null),
        validated_at_ms,
    };
    serde_json::to_string(&reply).unwrap_or_default()
}

/// The status and body of an answered error.
pub fn encode_error(error: &Error) -> (u16, String) {
    let reply = AnsweredReply {
        error: WireError {
            kind: error.kind().default_code().to_owned(),
            code: error.code().to_owned(),
            message: error.message().to_owned(),
            hint: error.hint().map(str::to_owned),
            correlation_id: error.correlation_id().map(str::to_owned),
            retry_after_ms: error.retry_after_ms(),
            idp: error.idp_details().map(|details| WireIdp {
                status: details.status,
                description: details.description.clone(),
                aadsts: details.aadsts.clone(),
                trace_id: details.trace_id.clone(),
                timestamp: details.timestamp.clone(),
            }),
        },
    };
    (
        ANSWERED_STATUS,
        serde_json::to_string(&reply).unwrap_or_default(),
    )
}

/// Reads a coordinator's reply: the token and when it was validated, or why there is none.
pub fn decode_reply(status: u16, body: &str) -> Result<(CachedToken, u64), CoordinatorFailure> {
    let unreadable = |what: &str| {
        CoordinatorFailure::Unavailable(format!(
            "the coordinator's {what} is not in the expected format"
        ))
    };
    match status {
        TOKEN_STATUS => {
            let reply: TokenReply =
                serde_json::from_str(body).map_err(|_| unreadable("token reply"))?;
            let token = CachedToken::from_json(&reply.token.to_string())
                .map_err(|_| unreadable("token reply"))?;
            Ok((token, reply.validated_at_ms))
        }
        ANSWERED_STATUS => {
            let reply: AnsweredReply =
                serde_json::from_str(body).map_err(|_| unreadable("error reply"))?;
            let error = decode_error(reply.error).ok_or_else(|| unreadable("error reply"))?;
            Err(CoordinatorFailure::Answered(error))
        }
        status => Err(CoordinatorFailure::Unavailable(format!(
            "the coordinator answered HTTP {status}"
        ))),
    }
}

/// The error `wire` describes, through the public constructors; `None` when it cannot be the
/// encoding of one (an unknown kind, a code its kind cannot have, a provider error without the
/// provider's details).
fn decode_error(wire: WireError) -> Option<Error> {
    let kind = KINDS
        .into_iter()
        .find(|&kind| kind.default_code() == wire.kind)?;
    let details = wire.idp.map(|idp| IdpErrorDetails {
        status: idp.status,
        description: idp.description,
        aadsts: idp.aadsts,
        trace_id: idp.trace_id,
        timestamp: idp.timestamp,
    });
    let mut error = match (kind, details) {
        (ErrorKind::IdentityProvider, Some(details)) => {
            Error::identity_provider(wire.code.clone(), wire.message, details)
        }
        (ErrorKind::IdentityProvider, None) => return None,
        (kind, details) => {
            let error = Error::new(kind, wire.message);
            match details {
                Some(details) => error.with_idp_details(details),
                None => error,
            }
        }
    };
    if error.code() != wire.code {
        return None;
    }
    if let Some(hint) = wire.hint {
        error = error.with_hint(hint);
    }
    if let Some(correlation_id) = wire.correlation_id {
        error = error.with_correlation_id(correlation_id);
    }
    if let Some(retry_after_ms) = wire.retry_after_ms {
        error = error.with_retry_after_ms(retry_after_ms);
    }
    Some(error)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::secret::AccessToken;

    fn token() -> CachedToken {
        CachedToken::issued(
            AccessToken::new("eyJ.secret-token"),
            "Bearer".into(),
            1_000,
            3_600,
            Some(7_200),
            Some(3_000),
        )
    }

    fn unavailable(reply: Result<(CachedToken, u64), CoordinatorFailure>) -> String {
        match reply {
            Err(CoordinatorFailure::Unavailable(why)) => why,
            other => panic!("not unavailable: {other:?}"),
        }
    }

    fn scopes(scopes: &[String]) -> Result<ScopeSet, Error> {
        ScopeSet::parse(scopes, crate::scope::ScopeRules::Entra)
    }

    #[test]
    fn a_request_carries_scopes_force_and_correlation_id_and_reads_back_through_the_scope_rules() {
        let request = TokenRequest {
            force_refresh: true,
            correlation_id: Some("6f1c4a52-3c1d-4c55-9a53-3f0b4f2a9d10".into()),
            ..TokenRequest::new(scopes(&["api://x/.default".into()]).unwrap())
        };
        let body = encode_request(&request);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"scopes": ["api://x/.default"], "force_refresh": true, "correlation_id": "6f1c4a52-3c1d-4c55-9a53-3f0b4f2a9d10"})
        );
        let read = decode_request(&body, scopes).unwrap();
        assert_eq!(read.scopes.cache_key(), "api://x/.default");
        assert!(read.force_refresh);
        assert_eq!(read.correlation_id, request.correlation_id);

        let plain = decode_request(r#"{"scopes":["api://x/.default"]}"#, scopes).unwrap();
        assert!(!plain.force_refresh);
        assert_eq!(plain.correlation_id, None);
    }

    #[test]
    fn a_body_that_is_not_a_request_or_has_bad_scopes_is_refused_without_quoting_it() {
        let error = decode_request("{\"scopes\": \"secret-ish\"}", scopes).unwrap_err();
        assert!(!error.message().contains("secret-ish"), "{error:?}");
        let bad_scope = decode_request(r#"{"scopes":[""]}"#, scopes).unwrap_err();
        assert_eq!(bad_scope.kind(), ErrorKind::InvalidScope);
    }

    #[test]
    fn a_token_reply_nests_the_stored_token_and_round_trips() {
        let body = encode_token(&token(), 42);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({
                "token": {"access_token": "eyJ.secret-token", "token_type": "Bearer", "expires_on_ms": 3_601_000, "ext_expires_on_ms": 7_201_000, "refresh_on_ms": 3_001_000},
                "validated_at_ms": 42
            })
        );
        assert_eq!(decode_reply(200, &body), Ok((token(), 42)));
    }

    #[test]
    fn every_error_kind_round_trips_with_what_callers_read() {
        let idp = Error::identity_provider(
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
            IdpErrorDetails {
                status: 401,
                description: Some("AADSTS7000215: Invalid client secret provided.".into()),
                aadsts: vec![7_000_215],
                trace_id: Some("trace-1".into()),
                timestamp: Some("2026-12-03 16:22:35Z".into()),
            },
        )
        .with_correlation_id("c-1")
        .with_hint("check the secret");
        let throttled = Error::new(ErrorKind::Throttled, "slow down")
            .with_retry_after_ms(30_000)
            .with_idp_details(IdpErrorDetails {
                status: 429,
                ..IdpErrorDetails::default()
            });
        let mut errors = vec![idp, throttled];
        errors.extend(
            KINDS
                .iter()
                .filter(|&&kind| kind != ErrorKind::IdentityProvider)
                .map(|&kind| Error::new(kind, format!("a {} error", kind.default_code()))),
        );
        errors.push(crate::error::from_idp(503, "temporarily_unavailable"));
        for error in errors {
            let (status, body) = encode_error(&error);
            assert_eq!(status, 424);
            let Err(CoordinatorFailure::Answered(back)) = decode_reply(status, &body) else {
                panic!("{error} did not come back: {body}")
            };
            assert_eq!(
                (back.kind(), back.code(), back.message(), back.hint()),
                (error.kind(), error.code(), error.message(), error.hint())
            );
            assert_eq!(
                (
                    back.is_transient(),
                    back.is_refusal(),
                    back.retry_after_ms()
                ),
                (
                    error.is_transient(),
                    error.is_refusal(),
                    error.retry_after_ms()
                )
            );
            assert_eq!(
                (back.status(), back.correlation_id(), back.idp_details()),
                (error.status(), error.correlation_id(), error.idp_details())
            );
            assert_eq!(back, error, "nothing else differs (no field was set)");
        }
    }

    #[test]
    fn an_error_reply_has_a_fixed_shape() {
        let (_, body) = encode_error(&crate::error::from_idp(400, "invalid_scope"));
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"error": {"kind": "server_error", "code": "invalid_scope", "message": "refused", "hint": null, "correlation_id": null, "retry_after_ms": null,
                "idp": {"status": 400, "description": null, "aadsts": [], "trace_id": null, "timestamp": null}}})
        );
    }

    #[test]
    fn anything_else_is_unavailable_without_quoting_the_body() {
        let secretive = r#"{"access_token": "eyJ.secret-token"}"#;
        for (status, body, why) in [
            (
                500,
                "Internal Server Error",
                "the coordinator answered HTTP 500",
            ),
            (503, secretive, "the coordinator answered HTTP 503"),
            (404, "", "the coordinator answered HTTP 404"),
            (
                200,
                secretive,
                "the coordinator's token reply is not in the expected format",
            ),
            (
                200,
                "eyJ.secret-token",
                "the coordinator's token reply is not in the expected format",
            ),
            (
                200,
                r#"{"token": {"access_token": "eyJ.secret-token"}, "validated_at_ms": 1}"#,
                "the coordinator's token reply is not in the expected format",
            ),
            (
                200,
                r#"{"token": "eyJ.secret-token", "validated_at_ms": 1}"#,
                "the coordinator's token reply is not in the expected format",
            ),
            (
                424,
                secretive,
                "the coordinator's error reply is not in the expected format",
            ),
            (
                424,
                r#"{"error": {"kind": "martian", "code": "x", "message": "eyJ.secret-token"}}"#,
                "the coordinator's error reply is not in the expected format",
            ),
            (
                424,
                r#"{"error": {"kind": "network_error", "code": "invalid_client", "message": "m"}}"#,
                "the coordinator's error reply is not in the expected format",
            ),
            (
                424,
                r#"{"error": {"kind": "server_error", "code": "invalid_client", "message": "m"}}"#,
                "the coordinator's error reply is not in the expected format",
            ),
        ] {
            let why_given = unavailable(decode_reply(status, body));
            assert_eq!(why_given, why, "{status} {body}");
            assert!(!why_given.contains("secret"));
        }
    }

    #[test]
    fn requests_default_what_they_leave_out() {
        let request = CoordinatorRequest {
            scopes: vec!["api://a/.default".into()],
            force_refresh: true,
            correlation_id: Some("c-1".into()),
            tenant: None,
            authority: None,
        };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(
            text,
            r#"{"scopes":["api://a/.default"],"force_refresh":true,"correlation_id":"c-1"}"#
        );
        assert_eq!(
            serde_json::from_str::<CoordinatorRequest>(&text).unwrap(),
            request
        );
        assert_eq!(
            serde_json::from_str::<CoordinatorRequest>(r#"{"scopes":[]}"#).unwrap(),
            CoordinatorRequest {
                scopes: vec![],
                force_refresh: false,
                correlation_id: None,
                tenant: None,
                authority: None,
            }
        );
    }

    /// A request for another tenant names it on the wire, so the object (named after that
    /// tenant's token) acquires for it; the app's own tenant sends nothing new.
    #[test]
    fn a_tenants_request_carries_its_tenant() {
        let request = TokenRequest {
            authority: Some(RequestAuthority::Tenant("contoso.onmicrosoft.com".into())),
            ..TokenRequest::new(scopes(&["api://x/.default".into()]).unwrap())
        };
        let body = encode_request(&request);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"scopes": ["api://x/.default"], "force_refresh": false, "correlation_id": null, "tenant": "contoso.onmicrosoft.com"})
        );
        assert_eq!(
            decode_request(&body, scopes).unwrap().authority,
            request.authority
        );
        let by_url = TokenRequest {
            authority: Some(RequestAuthority::Authority("https://h/t".into())),
            ..request.clone()
        };
        let read = decode_request(&encode_request(&by_url), scopes).unwrap();
        assert_eq!(read.authority, by_url.authority);
        assert_eq!(
            wire_authority(read.authority.as_ref()),
            (None, Some("https://h/t".to_owned()))
        );
        assert_eq!(authority_from_wire(None, None), None);
    }
}
