//! The token's claims, decoded but not verified (the resource verifies; the doctor only
//! explains): the audience, tenant and client the token was issued for, whether it carries
//! application permissions (`roles`), and its lifetime. The token itself and its signature
//! are never printed; claim values are (they are not secrets), capped and made printable.

use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde_json::{Map, Value};

use super::finding::{printable, CheckId, ExitClass, Finding};
use super::time::{human_duration, iso8601};
use crate::troubleshooting::admin_consent_url;

/// Longest claim value printed.
const MAX_CLAIM_CHARS: usize = 120;

/// Graph's application id: v2.0 tokens for Graph carry it as `aud`.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

/// base64url with or without padding: JWTs have none, but a lenient reader costs nothing.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What the token was requested for.
#[derive(Debug, Clone, Default)]
pub struct ExpectedClaims {
    /// The scope requested, e.g. `https://graph.microsoft.com/.default`.
    pub scope: String,
    /// The client id.
    pub client_id: String,
    /// The tenant of the authority as configured (id or domain); `None` for a plain token
    /// endpoint.
    pub tenant: Option<String>,
    /// The tenant's id when discovery resolved a domain ([`super::TenantDiscovery::tenant_id`]).
    pub tenant_id: Option<String>,
    /// The authority host, for the admin-consent URL (Entra only).
    pub authority_host: Option<String>,
}

/// `8-4-4-4-12` hex digits, as Entra writes tenant, client and application ids.
pub(crate) fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The resource of a `/.default` scope: the scope minus `/.default` (one trailing slash of a
/// resource such as `https://graph.microsoft.com//.default` kept apart).
pub fn resource_of_scope(scope: &str) -> &str {
    scope.strip_suffix("/.default").unwrap_or(scope)
}

/// The payload of a compact JWS, or `None` for anything else (opaque, JWE, malformed).
fn payload(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = BASE64URL.decode(payload).ok()?;
    // from_str, as the rest of the crate parses JSON: one reader in the wasm, not two.
    match serde_json::from_str(std::str::from_utf8(&bytes).ok()?).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// The token's `iat`, in milliseconds, when it is a JWT that carries one: where the
/// doctor's time line starts.
pub fn issued_at_ms(access_token: &str) -> Option<u64> {
    let iat = payload(access_token)?.get("iat")?.as_u64()?;
    iat.checked_mul(1000)
}

fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

fn shown(value: &str) -> String {
    printable(value, MAX_CLAIM_CHARS)
}

/// The claims findings: [`CheckId::Audience`], [`CheckId::TokenTenant`],
/// [`CheckId::TokenClient`], [`CheckId::Roles`], [`CheckId::TokenLifetime`]; or one
/// [`CheckId::Claims`] ⚠ when the token is not a JWT.
pub fn check_claims(access_token: &str, expected: &ExpectedClaims, now_ms: u64) -> Vec<Finding> {
    let Some(claims) = payload(access_token) else {
        return vec![Finding::warn(
            CheckId::Claims,
            "the access token is not a JWT (opaque or encrypted), so its claims cannot be checked",
            "nothing to fix if the API accepts it: some servers issue opaque tokens; call the API to check it",
        )];
    };
    vec![
        audience(&claims, expected),
        tenant(&claims, expected),
        client(&claims, expected),
        roles(&claims, expected),
        lifetime(&claims, now_ms),
    ]
}

/// The rule: `aud` must equal the resource (the scope minus `/.default`), ignoring case and
/// one trailing slash. Entra's v2.0 tokens name the resource by its application id instead,
/// which cannot be mapped to an `api://…` or URL offline, except Graph's well-known id: so an
/// `aud` GUID against a non-GUID resource is a ⚠ to confirm, not a ✗.
fn audience(claims: &Map<String, Value>, expected: &ExpectedClaims) -> Finding {
    let resource = resource_of_scope(&expected.scope);
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let normal = |text: &str| text.trim_end_matches('/').to_ascii_lowercase();
    let wanted = normal(resource);
    let same = |aud: &str| {
        let aud = normal(aud);
        aud == wanted
            || (aud == GRAPH_APP_ID && wanted == GRAPH_RESOURCE)
            || (aud == GRAPH_RESOURCE && wanted == GRAPH_APP_ID)
    };
    let Some(first) = audiences.first() else {
        return Finding::warn(
            CheckId::Audience,
            "the token has no aud claim",
            "the API decides whether it accepts the token: call it to check",
        );
    };
    let list = shown(&audiences.join(", "));
    if audiences.iter().any(|aud| same(aud)) {
        return Finding::ok(
            CheckId::Audience,
            format!("aud {list} is the requested resource"),
        );
    }
    if is_guid(first) && !is_guid(resource) {
        return Finding::warn(
            CheckId::Audience,
            format!("aud {list} is an application id; the resource was requested as {}", shown(resource)),
            format!("check that {} is the Application (client) ID of the API behind {} (App registrations → the API → Overview)", shown(first), shown(resource)),
        );
    }
    Finding::fail(
        CheckId::Audience,
        ExitClass::Refused,
        format!("aud {list} is not the requested resource {}", shown(resource)),
        format!("the API would refuse this token: request the scope \"{}/.default\" for the API you call", shown(resource)),
    )
}

/// `tid` against the tenant: compared when the tenant is a GUID, or a domain that discovery
/// resolved to one; a domain alone cannot be compared offline, which is said, not warned about.
fn tenant(claims: &Map<String, Value>, expected: &ExpectedClaims) -> Finding {
    let tid = string_claim(claims, "tid");
    let known_id = expected
        .tenant
        .as_deref()
        .filter(|tenant| is_guid(tenant))
        .or(expected.tenant_id.as_deref().filter(|id| is_guid(id)));
    match (tid, known_id, expected.tenant.as_deref()) {
        (None, _, None) => Finding::ok(CheckId::TokenTenant, "no tid claim and no tenant configured: nothing to compare"),
        (None, _, Some(_)) => Finding::warn(
            CheckId::TokenTenant,
            "the token has no tid claim",
            "Entra tokens carry tid: check that the authority is the tenant's Entra authority",
        ),
        (Some(tid), Some(id), _) if tid.eq_ignore_ascii_case(id) => {
            Finding::ok(CheckId::TokenTenant, format!("tid {} is the tenant", shown(tid)))
        }
        (Some(tid), Some(id), _) => Finding::fail(
            CheckId::TokenTenant,
            ExitClass::Refused,
            format!("tid {} is not the tenant {}", shown(tid), shown(id)),
            "the token was issued by another tenant: check the authority (tenant id) the client uses",
        ),
        (Some(tid), None, Some(domain)) => Finding::ok(
            CheckId::TokenTenant,
            format!("tid {} (the tenant is configured as {}, which cannot be compared offline)", shown(tid), shown(domain)),
        ),
        (Some(tid), None, None) => Finding::ok(CheckId::TokenTenant, format!("tid {} (no tenant configured to compare)", shown(tid))),
    }
}

/// `appid` (v1.0 tokens) or `azp` (v2.0) against the client id.
fn client(claims: &Map<String, Value>, expected: &ExpectedClaims) -> Finding {
    let found = string_claim(claims, "appid")
        .map(|value| ("appid", value))
        .or_else(|| string_claim(claims, "azp").map(|value| ("azp", value)));
    match found {
        None => Finding::warn(
            CheckId::TokenClient,
            "the token has neither appid nor azp",
            "nothing to fix if the API accepts it: only Entra tokens are known to carry them",
        ),
        Some((name, value)) if value.eq_ignore_ascii_case(&expected.client_id) => {
            Finding::ok(CheckId::TokenClient, format!("{name} {} is the client id", shown(value)))
        }
        Some((name, value)) => Finding::fail(
            CheckId::TokenClient,
            ExitClass::Configuration,
            format!("{name} {} is not the client id {}", shown(value), shown(&expected.client_id)),
            "the token was issued to another application: check the clientId the credential belongs to",
        ),
    }
}

/// `roles` present means application permissions were granted; without it, Graph answers
/// "Insufficient privileges to complete the operation".
fn roles(claims: &Map<String, Value>, expected: &ExpectedClaims) -> Finding {
    let roles: Vec<&str> = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|roles| roles.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !roles.is_empty() {
        return Finding::ok(
            CheckId::Roles,
            format!("roles {}", shown(&roles.join(", "))),
        );
    }
    let tenant = expected.tenant.as_deref().or(string_claim(claims, "tid"));
    let consent = match (expected.authority_host.as_deref(), tenant) {
        (Some(host), Some(tenant)) => format!(
            "an administrator must grant the app's application permissions (API permissions → Grant admin consent), or open {}",
            admin_consent_url(host, tenant, &expected.client_id)
        ),
        _ => "an administrator must grant the app's application permissions (API permissions → Grant admin consent)".to_owned(),
    };
    Finding::warn(
        CheckId::Roles,
        "the token has no roles: no application permission has been granted, so APIs such as Graph answer \"Insufficient privileges to complete the operation\"",
        consent,
    )
}

fn lifetime(claims: &Map<String, Value>, now_ms: u64) -> Finding {
    let seconds = |name: &str| claims.get(name).and_then(Value::as_i64);
    let ms = |s: i64| s.saturating_mul(1000);
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let Some(exp) = seconds("exp").map(ms) else {
        return Finding::warn(
            CheckId::TokenLifetime,
            "the token has no exp claim",
            "nothing to fix if the API accepts it; the client goes by expires_in",
        );
    };
    let issued = seconds("iat")
        .map(|iat| format!("issued {}, ", iso8601(ms(iat))))
        .unwrap_or_default();
    if exp <= now {
        return Finding::warn(
            CheckId::TokenLifetime,
            format!(
                "{issued}expired {} ({} ago)",
                iso8601(exp),
                human_duration(now.abs_diff(exp))
            ),
            "a token just acquired should not be expired: check this machine's clock",
        );
    }
    let summary = format!(
        "{issued}expires {} (in {})",
        iso8601(exp),
        human_duration(exp.abs_diff(now))
    );
    match seconds("nbf").map(ms) {
        Some(nbf) if nbf > now => Finding::warn(
            CheckId::TokenLifetime,
            format!("{summary}; not valid before {}", iso8601(nbf)),
            "the token is not valid yet by this machine's clock: check the clock (NTP)",
        ),
        _ => Finding::ok(CheckId::TokenLifetime, summary),
    }
}

#[cfg(test)]
mod tests {
    use super::is_guid;

    #[test]
    fn a_guid_is_thirty_six_characters_with_dashes_in_their_places() {
        assert!(is_guid("0000000A-0000-4000-8000-0000000000c1"));
        assert!(
            !is_guid("0000000a00000400080000000000000000c1"),
            "no dashes"
        );
        assert!(!is_guid("0000000a-0000-4000-8000-0000000000c"), "one short");
        assert!(!is_guid("0000000g-0000-4000-8000-0000000000c1"), "not hex");
    }
}
