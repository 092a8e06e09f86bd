//! The tenant check, from the authority's OpenID configuration as the CLI fetched it
//! (`{authority}/v2.0/.well-known/openid-configuration`): the tenant exists (Entra answers
//! 400 `invalid_tenant` with `error_codes` [90002] when it does not), and its token endpoint is
//! the one the client posts to. Entra names a tenant by its id there, so a tenant configured as
//! a domain also learns its id, which the claims check can then compare with `tid`.

use serde::Serialize;
use serde_json::Value;

use super::claims::is_guid;
use super::finding::{printable, CheckId, ExitClass, Finding};
use crate::troubleshooting::{hint_for, HintContext};

/// The fetched configuration and what the client uses.
#[derive(Debug, Clone)]
pub struct DiscoveryInput {
    /// The HTTP status of the reply.
    pub status: u16,
    /// Its body.
    pub body: String,
    /// The token endpoint the client posts to (without query parameters).
    pub token_endpoint: String,
    /// The tenant as configured.
    pub tenant: String,
    /// The authority host, e.g. `https://login.microsoftonline.com`.
    pub authority_host: String,
}

/// The tenant finding, and the tenant's id when the reply named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantDiscovery {
    /// [`CheckId::Tenant`].
    pub finding: Finding,
    /// The tenant id from the configuration's token endpoint (a GUID), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// The reply's JSON object, read as a `Value` (the reader the crate has anyway) rather than
/// through structs of its own: each derived reader costs the npm module's wasm a few KB.
fn json_object(body: &str) -> serde_json::Map<String, Value> {
    match serde_json::from_str(body) {
        Ok(Value::Object(object)) => object,
        _ => serde_json::Map::new(),
    }
}

/// `https://host/tenant/rest` → (`https://host`, `tenant`, `rest`), compared without case for
/// the host and without a query or a trailing slash.
fn split_endpoint(url: &str) -> Option<(String, &str, &str)> {
    let url = url.split(['?', '#']).next()?.trim_end_matches('/');
    let (scheme, after) = url.split_once("://")?;
    let (host, path) = after.split_once('/')?;
    let (tenant, rest) = path.split_once('/')?;
    Some((
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        ),
        tenant,
        rest,
    ))
}

/// Decides the tenant check from the fetched configuration.
pub fn check_tenant_discovery(input: &DiscoveryInput) -> TenantDiscovery {
    let done = |finding: Finding, tenant_id: Option<String>| TenantDiscovery { finding, tenant_id };
    let tenant = printable(&input.tenant, 100);
    if input.status != 200 {
        return done(refused(input, &tenant), None);
    }
    let Some(configured) = json_object(&input.body)
        .get("token_endpoint")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return done(
            Finding::warn(
                CheckId::Tenant,
                format!("the authority's OpenID configuration for {tenant} has no token_endpoint"),
                "check the authority host: it should be Entra's (https://login.microsoftonline.com or a national cloud's)",
            ),
            None,
        );
    };
    let shown = printable(&configured, 200);
    let ours = split_endpoint(&input.token_endpoint);
    let theirs = split_endpoint(&configured);
    let tenant_id = theirs
        .as_ref()
        .map(|(_, id, _)| *id)
        .filter(|id| is_guid(id))
        .map(str::to_owned);
    match (ours, theirs) {
        (Some((our_host, our_tenant, our_rest)), Some((host, their_tenant, rest)))
            if our_host == host && our_rest == rest =>
        {
            if our_tenant.eq_ignore_ascii_case(their_tenant) {
                done(
                    Finding::ok(
                        CheckId::Tenant,
                        format!("tenant {tenant} exists; token endpoint {shown}"),
                    ),
                    tenant_id,
                )
            } else if !is_guid(our_tenant) && tenant_id.is_some() {
                // Entra's configuration names a domain's tenant by its id: the same endpoint.
                done(
                    Finding::ok(
                        CheckId::Tenant,
                        format!(
                            "tenant {tenant} exists as {}; token endpoint {shown}",
                            printable(their_tenant, 40)
                        ),
                    ),
                    tenant_id,
                )
            } else {
                done(differs(input, &shown), tenant_id)
            }
        }
        _ => done(differs(input, &shown), tenant_id),
    }
}

fn differs(input: &DiscoveryInput, configured: &str) -> Finding {
    Finding::fail(
        CheckId::Tenant,
        ExitClass::Configuration,
        format!(
            "the client posts to {}, but the authority's configuration names {configured}",
            printable(&input.token_endpoint, 200)
        ),
        "use the authority (tenant and host) the token endpoint belongs to, or set tokenEndpoint to the one the configuration names",
    )
}

fn refused(input: &DiscoveryInput, tenant: &str) -> Finding {
    let body = json_object(&input.body);
    let not_found = body
        .get("error_codes")
        .and_then(Value::as_array)
        .is_some_and(|codes| codes.iter().any(|code| code.as_i64() == Some(90002)))
        || body.get("error").and_then(Value::as_str) == Some("invalid_tenant");
    if not_found {
        let hint = hint_for(
            &[90002],
            &HintContext {
                authority_host: Some(&input.authority_host),
                tenant: Some(&input.tenant),
                client_id: "",
                secret: None,
            },
        )
        .unwrap_or_default();
        return Finding::fail(
            CheckId::Tenant,
            ExitClass::Configuration,
            format!(
                "tenant {tenant} was not found at {} (AADSTS90002)",
                printable(&input.authority_host, 100)
            ),
            printable(&hint, 400),
        );
    }
    let said = body
        .get("error_description")
        .and_then(Value::as_str)
        .and_then(|text| text.lines().next())
        .map(|line| format!(": {}", printable(line, 200)))
        .unwrap_or_default();
    match input.status {
        // Entra answers every tenant, found or not; no configuration at all is another server.
        404 => Finding::skipped(
            CheckId::Tenant,
            format!("tenant: skipped: {} publishes no OpenID configuration at Entra's path (HTTP 404), so it is not an Entra ID authority and the tenant cannot be checked", printable(&input.authority_host, 100)),
        ),
        429 | 500..=599 => Finding::warn(
            CheckId::Tenant,
            format!("could not tell whether tenant {tenant} exists: the authority answered HTTP {}{said}", input.status),
            "try again later",
        ),
        status => Finding::fail(
            CheckId::Tenant,
            ExitClass::Configuration,
            format!("the authority's OpenID configuration for {tenant} answered HTTP {status}{said}"),
            "check the authority host and tenant: the configuration is at {authority}/v2.0/.well-known/openid-configuration",
        ),
    }
}
