//! Requests as a host hands them over, read into the core's: `acquireTokenForClient`,
//! `getAuthorizationHeader`, `callApi` and `BrokerClient.acquireToken` requests, and
//! `adminConsentUrl`'s options. Unknown fields are refused (a misspelt one must not be
//! silently ignored); the abort signal, a host object, is handed back to the host.

use crate::authority::{RequestAuthority, TokenEndpoint};
use crate::client::TokenRequest;
use crate::error::Error;
use crate::option_names::ADMIN_CONSENT_OPTIONS;
use crate::option_value::{Fields, OptionValue};
use crate::request::TENANT_PARAMETER;
use crate::scope::{ScopeRules, ScopeSet};

/// A request read: the core's part, its abort signal, and every field given (for the ones
/// passed on as they are, like `callApi`'s `method`, `headers` and `body`).
pub struct HostRequest<V> {
    /// What the core acquires.
    pub token: TokenRequest,
    /// `abortSignal` (or `signal`), checked to be an abort signal.
    pub signal: Option<V>,
    /// The request's fields.
    pub fields: Fields<V>,
}

impl<V: OptionValue> HostRequest<V> {
    /// Reads a request of `method` whose fields are `known`, with scopes as the client's
    /// endpoint takes them (`rules`).
    pub fn read(value: &V, method: &str, known: &[&str], rules: ScopeRules) -> Result<Self, Error> {
        let fields = Fields::of(value)
            .ok_or_else(|| Error::invalid_scope(format!(
                "{method} needs {{ scopes: [...] }}, e.g. {{ scopes: [\"https://graph.microsoft.com/.default\"] }}"
            )))?
            .only("request", &format!("{method} field"), known, &[])?;
        let scopes = ScopeSet::parse(string_list(fields.get("scopes"), "scopes")?, rules)?;
        let signal = abort_signal(&fields)?;
        let token = TokenRequest {
            scopes,
            force_refresh: fields.flag("forceRefresh")?,
            claims: fields.string("claims")?,
            correlation_id: fields.string("correlationId")?,
            extra_body: fields.string_map("extraBodyParameters")?,
            authority: request_authority(&fields)?,
        };
        Ok(HostRequest {
            token,
            signal,
            fields,
        })
    }
}

/// `tenantId` (another tenant on the client's cloud) or `authority` (a whole authority URL),
/// not both: the client checks either against its own ([`crate::ClientConfig::endpoint_for`]).
/// `BrokerClient`'s requests name the tenant `tenant`, as the broker's body does (no request
/// takes both names: each method's field list has one), which the client sends in its form
/// ([`crate::ClientConfig::form_tenant`]).
fn request_authority<V: OptionValue>(
    fields: &Fields<V>,
) -> Result<Option<RequestAuthority>, Error> {
    if let Some(tenant) = fields.string(TENANT_PARAMETER)? {
        return Ok(Some(RequestAuthority::Tenant(tenant)));
    }
    match (fields.string("tenantId")?, fields.string("authority")?) {
        (Some(_), Some(_)) => Err(Error::invalid_config(
            "tenantId",
            "pass tenantId or authority per request, not both: tenantId keeps the client's cloud, authority names cloud and tenant",
        )),
        (Some(tenant), None) => Ok(Some(RequestAuthority::Tenant(tenant))),
        (None, Some(authority)) => Ok(Some(RequestAuthority::Authority(authority))),
        (None, None) => Ok(None),
    }
}

/// A list of strings (e.g. scopes); `field` names it in errors.
fn string_list<V: OptionValue>(value: Option<&V>, field: &str) -> Result<Vec<String>, Error> {
    let items = value.and_then(V::as_list).ok_or_else(|| {
        Error::invalid_scope(format!(
            "{field} must be an array of strings, e.g. [\"https://graph.microsoft.com/.default\"]"
        ))
    })?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            item.as_text()
                .ok_or_else(|| Error::invalid_scope(format!("{field}[{index}] must be a string")))
        })
        .collect()
}

/// The request's `abortSignal`, or `signal` (the web platform's name for it; both may be
/// given only as the same signal).
fn abort_signal<V: OptionValue>(fields: &Fields<V>) -> Result<Option<V>, Error> {
    let (name, signal) = match (fields.get("abortSignal"), fields.get("signal")) {
        (Some(first), Some(second)) if !first.is_same(second) => {
            return Err(Error::invalid_config(
                "signal",
                "abortSignal and signal are one option under two names (signal is the web platform's): pass one of them, or the same AbortSignal to both",
            ))
        }
        (Some(signal), _) => ("abortSignal", signal),
        (None, Some(signal)) => ("signal", signal),
        (None, None) => return Ok(None),
    };
    if !signal.is_abort_signal() {
        return Err(Error::invalid_config(
            name,
            format!("{name} must be an AbortSignal, e.g. AbortSignal.timeout(5000) or controller.signal"),
        ));
    }
    Ok(Some(signal.clone()))
}

/// `adminConsentUrl({ tenant, clientId, authorityHost? })`: the URL an administrator opens
/// to grant the app's application permissions.
pub fn admin_consent_url<V: OptionValue>(options: &V) -> Result<String, Error> {
    let options = Fields::read(
        options,
        "options",
        "{ tenant, clientId }",
        "adminConsentUrl option",
        ADMIN_CONSENT_OPTIONS,
        &[],
    )?;
    let tenant = options.required_string("tenant", "the tenant id or domain")?;
    let client_id = options.required_string("clientId", "the Application (client) ID")?;
    let host = options.string("authorityHost")?;
    // Validates tenant and host the way a client authority is validated.
    let endpoint = TokenEndpoint::from_tenant(&tenant, host.as_deref())?;
    Ok(crate::troubleshooting::admin_consent_url(
        endpoint.authority_host().unwrap_or_default(),
        &tenant,
        &client_id,
    ))
}

#[cfg(test)]
mod tests;
