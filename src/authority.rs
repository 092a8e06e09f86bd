//! Authorities and token endpoints: which URLs the client may send credentials to.
//!
//! Credentials only travel over https, except to loopback hosts (local development and
//! tests). URLs are checked with a small parser rather than a full URL crate: the accepted
//! shape is narrow (`scheme://host[:port]/path`), and the wasm size stays small.

use crate::error::Error;
use crate::scope::ScopeRules;

/// The public cloud's authority host.
pub const PUBLIC_CLOUD_HOST: &str = "https://login.microsoftonline.com";

/// Entra tenants that name no single tenant, so they cannot issue app-only tokens.
const MULTI_TENANT_ALIASES: [&str; 3] = ["common", "organizations", "consumers"];

/// A validated token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEndpoint {
    /// Scheme, host and path, without a query: the assertion audience and cache identity.
    base_url: String,
    /// `?…` from `extraQueryParameters`, or empty.
    query: String,
    entra: Option<EntraAuthority>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct EntraAuthority {
    host: String,
    tenant: String,
}

impl TokenEndpoint {
    /// The token endpoint of an Entra ID authority such as
    /// `https://login.microsoftonline.com/contoso.onmicrosoft.com`:
    /// `{authority}/oauth2/v2.0/token`.
    pub fn from_authority(authority: &str) -> Result<Self, Error> {
        let parts = UrlParts::parse("authority", authority)?;
        let tenant = parts.path.trim_matches('/');
        if tenant.is_empty() || tenant.contains('/') {
            return Err(Error::invalid_authority(
                "authority",
                "authority must be the cloud instance followed by one tenant segment, e.g. \"https://login.microsoftonline.com/<tenant id or domain>\"",
            ));
        }
        Self::entra(
            format!("{}://{}", parts.scheme, parts.host),
            tenant,
            "authority",
        )
    }

    /// The token endpoint for `tenant` at `authority_host` (default: the public cloud,
    /// `https://login.microsoftonline.com`; US Gov is `https://login.microsoftonline.us`,
    /// China `https://login.chinacloudapi.cn`).
    pub fn from_tenant(tenant: &str, authority_host: Option<&str>) -> Result<Self, Error> {
        let host = authority_host.unwrap_or(PUBLIC_CLOUD_HOST);
        let parts = UrlParts::parse("authorityHost", host)?;
        if !parts.path.trim_matches('/').is_empty() {
            return Err(Error::invalid_authority(
                "authorityHost",
                "authorityHost is the cloud's host only, e.g. \"https://login.microsoftonline.us\"; put the tenant in tenantId",
            ));
        }
        if tenant.is_empty() {
            return Err(Error::invalid_config(
                "tenantId",
                "tenantId is required: the Directory (tenant) ID or a verified domain such as contoso.onmicrosoft.com",
            ));
        }
        Self::entra(
            format!("{}://{}", parts.scheme, parts.host),
            tenant,
            "tenantId",
        )
    }

    /// Any OAuth2 token endpoint (Auth0, Keycloak, Okta, …). Entra's scope rules do not apply.
    pub fn generic(token_endpoint: &str) -> Result<Self, Error> {
        Self::generic_named("tokenEndpoint", token_endpoint)
    }

    /// [`Self::generic`] for an endpoint the caller knows by another option name (a broker's
    /// `url`), so errors name the option the caller actually set.
    pub fn generic_named(field: &'static str, token_endpoint: &str) -> Result<Self, Error> {
        let parts = UrlParts::parse(field, token_endpoint)?;
        Ok(TokenEndpoint {
            base_url: format!("{}://{}{}", parts.scheme, parts.host, parts.path),
            query: String::new(),
            entra: None,
        })
    }

    fn entra(host: String, tenant: &str, field: &'static str) -> Result<Self, Error> {
        check_tenant_name(tenant, field)?;
        Ok(TokenEndpoint {
            base_url: format!("{host}/{tenant}/oauth2/v2.0/token"),
            query: String::new(),
            entra: Some(EntraAuthority {
                host,
                tenant: tenant.to_owned(),
            }),
        })
    }

    /// Appends query parameters to the URL requests go to (e.g. Entra's `dc` routing hint).
    pub fn with_extra_query_parameters(mut self, parameters: &[(String, String)]) -> Self {
        if parameters.is_empty() {
            return self;
        }
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(parameters);
        self.query = format!("?{}", query.finish());
        self
    }

    /// The URL token requests are sent to, with any extra query parameters.
    pub fn url(&self) -> String {
        format!("{}{}", self.base_url, self.query)
    }

    /// The endpoint URL without query parameters: the default client-assertion audience.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Entra's scope rules for an Entra authority; generic rules otherwise.
    pub fn scope_rules(&self) -> ScopeRules {
        if self.entra.is_some() {
            ScopeRules::Entra
        } else {
            ScopeRules::Generic
        }
    }

    /// The tenant, for Entra authorities.
    pub fn tenant(&self) -> Option<&str> {
        self.entra.as_ref().map(|entra| entra.tenant.as_str())
    }

    /// The authority host (`https://login.microsoftonline.com`), for Entra authorities.
    pub fn authority_host(&self) -> Option<&str> {
        self.entra.as_ref().map(|entra| entra.host.as_str())
    }
}

/// The longest tenant: a DNS name (a verified domain) has at most 253 characters.
const MAX_TENANT_LEN: usize = 253;
/// The longest label of a DNS name.
const MAX_LABEL_LEN: usize = 63;

/// What a tenant named in `field` must be to issue app-only tokens: one tenant, written as a
/// tenant id (a GUID) or a DNS name (a verified domain such as contoso.onmicrosoft.com) —
/// labels of letters, digits and '-' separated by dots, each starting and ending with a letter
/// or digit, at most 253 characters in all — and none of `common`, `organizations` or
/// `consumers`. The shape matters beyond looks: the tenant becomes a path segment of the
/// token endpoint, and `.` or `..` there would be normalised away by fetch, so a request would
/// go to another URL than the one its cache key, assertion audience and result name. Entra
/// authorities are held to it, and so is the tenant a request sends to the cctoken broker
/// (which holds its callers' `tenant` to it too). Errors never quote the value.
pub fn check_tenant_name(tenant: &str, field: &'static str) -> Result<(), Error> {
    let rule = "use the tenant id (a GUID) or a verified domain such as contoso.onmicrosoft.com";
    if tenant.is_empty() {
        return Err(Error::invalid_authority(
            field,
            format!("the tenant in {field} is empty: {rule}"),
        ));
    }
    if tenant.len() > MAX_TENANT_LEN {
        return Err(Error::invalid_authority(
            field,
            format!("the tenant in {field} is {} characters long, and a tenant id or domain has at most {MAX_TENANT_LEN}: {rule}", tenant.len()),
        ));
    }
    if !tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
    {
        return Err(Error::invalid_authority(
            field,
            format!("the tenant in {field} may only hold letters, digits, '-' and '.': {rule}"),
        ));
    }
    let well_formed_label = |label: &str| {
        let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        label.len() <= MAX_LABEL_LEN
            && edge_ok(label.chars().next())
            && edge_ok(label.chars().next_back())
    };
    if !tenant.split('.').all(well_formed_label) {
        return Err(Error::invalid_authority(
            field,
            format!("the tenant in {field} is not a tenant id or domain name: each dot-separated part must be 1 to {MAX_LABEL_LEN} letters, digits or '-', starting and ending with a letter or digit (so no '.', '..', leading, trailing or doubled dots): {rule}"),
        ));
    }
    if MULTI_TENANT_ALIASES
        .iter()
        .any(|alias| tenant.eq_ignore_ascii_case(alias))
    {
        return Err(Error::invalid_authority(
            field,
            format!(
                "the tenant \"{tenant}\" cannot be used for client credentials: app-only tokens are issued by one tenant, so use its tenant id (a GUID) or a verified domain such as contoso.onmicrosoft.com"
            ),
        ));
    }
    Ok(())
}

/// The authority one request names instead of the client's (MSAL's per-request tenant):
/// a multi-tenant daemon serving many customer tenants with one app registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestAuthority {
    /// `tenantId`: another tenant on the client's own cloud (MSAL.NET's `WithTenantId`).
    Tenant(String),
    /// `authority`: `https://<cloud>/<tenant>`, as msal-node's per-request `authority`. Its
    /// cloud must be the client's, or one listed in `allowedAuthorityHosts`.
    Authority(String),
}

impl RequestAuthority {
    /// The request field it came from, which errors name.
    pub fn field(&self) -> &'static str {
        match self {
            RequestAuthority::Tenant(_) => "tenantId",
            RequestAuthority::Authority(_) => "authority",
        }
    }
}

/// `allowedAuthorityHosts`: cloud hosts besides the client's own that a per-request
/// `authority` may name, each as `authorityHost` is written (`https://login.microsoftonline.us`).
/// Returned as compared: `scheme://host`, lowercase.
pub fn parse_allowed_authority_hosts(hosts: &[String]) -> Result<Vec<String>, Error> {
    const FIELD: &str = "allowedAuthorityHosts";
    hosts
        .iter()
        .map(|host| {
            let parts = UrlParts::parse(FIELD, host)?;
            if !parts.path.is_empty() {
                return Err(Error::invalid_authority(
                    FIELD,
                    "allowedAuthorityHosts lists clouds' hosts only, e.g. [\"https://login.microsoftonline.us\"]: no tenant or path",
                ));
            }
            Ok(format!("{}://{}", parts.scheme, parts.host.to_ascii_lowercase()))
        })
        .collect()
}

impl TokenEndpoint {
    /// The endpoint a request naming `requested` goes to: `None` when it is this client's own
    /// (the same cloud and tenant, compared ignoring case), else that tenant's endpoint, with
    /// the tenant and host in lowercase so that one tenant has one cache entry. The request's
    /// authority is held to the client's rules (https or loopback, one tenant, not `common`,
    /// `organizations` or `consumers`) and must be on the client's cloud or one of
    /// `allowed_hosts` ([`parse_allowed_authority_hosts`]). A client of a generic token
    /// endpoint has no tenants to switch between: it refuses both.
    pub fn for_request(
        &self,
        requested: &RequestAuthority,
        allowed_hosts: &[String],
    ) -> Result<Option<TokenEndpoint>, Error> {
        let field = requested.field();
        let Some(own) = &self.entra else {
            return Err(Error::invalid_authority(
                field,
                format!("{field} per request needs a client configured with an Entra ID authority (authority or tenantId); this one has tokenEndpoint, a generic OAuth2 server without tenants: create one client per token endpoint instead"),
            ));
        };
        let (host, tenant) = match requested {
            RequestAuthority::Tenant(tenant) => {
                if tenant.is_empty() {
                    return Err(Error::invalid_authority(
                        field,
                        "tenantId per request must name a tenant: its Directory (tenant) ID or a verified domain such as contoso.onmicrosoft.com (leave it out for the client's own tenant)",
                    ));
                }
                (own.host.to_ascii_lowercase(), tenant.as_str())
            }
            RequestAuthority::Authority(authority) => {
                let parts = UrlParts::parse(field, authority)?;
                let tenant = parts.path.trim_matches('/');
                if tenant.is_empty() || tenant.contains('/') {
                    return Err(Error::invalid_authority(
                        field,
                        "authority per request must be the cloud instance followed by one tenant segment, e.g. \"https://login.microsoftonline.com/<tenant id or domain>\" (or pass tenantId)",
                    ));
                }
                let host = format!("{}://{}", parts.scheme, parts.host.to_ascii_lowercase());
                if !host.eq_ignore_ascii_case(&own.host) && !allowed_hosts.contains(&host) {
                    return Err(Error::invalid_authority(
                        field,
                        format!("authority per request must be on the client's cloud ({}): the credential is only sent to the hosts the client was configured with; to allow another cloud, list its host in the client option allowedAuthorityHosts", own.host),
                    ));
                }
                (host, tenant)
            }
        };
        if host.eq_ignore_ascii_case(&own.host) && tenant.eq_ignore_ascii_case(&own.tenant) {
            return Ok(None);
        }
        let endpoint = Self::entra(host, &tenant.to_ascii_lowercase(), field)?;
        Ok(Some(TokenEndpoint {
            query: self.query.clone(),
            ..endpoint
        }))
    }

    /// Whether `authority` is how a serialized cache labels the tokens of another tenant than
    /// this endpoint's own, as a client of the same app and token endpoint would have written
    /// it if its rules let it ask for that tenant: a canonical authority of one tenant, on any
    /// cloud (another client may list more `allowedAuthorityHosts`), and not this endpoint's
    /// own. Such an entry is one this client leaves alone rather than a sign of a forged or
    /// corrupt cache; whether it may *load* it is [`Self::for_request`]'s question.
    pub fn is_another_tenants_authority(&self, authority: &str) -> bool {
        let Ok(parts) = UrlParts::parse("authority", authority) else {
            return false;
        };
        let host = format!("{}://{}", parts.scheme, parts.host.to_ascii_lowercase());
        let requested = RequestAuthority::Authority(authority.to_owned());
        matches!(
            self.for_request(&requested, &[host]),
            Ok(Some(endpoint)) if endpoint.authority().as_deref() == Some(authority)
        )
    }

    /// `https://<cloud>/<tenant>` for Entra authorities: what [`RequestAuthority::Authority`]
    /// names, and how a serialized cache labels another tenant's tokens.
    pub fn authority(&self) -> Option<String> {
        self.entra
            .as_ref()
            .map(|entra| format!("{}/{}", entra.host, entra.tenant))
    }
}

struct UrlParts<'a> {
    scheme: &'static str,
    host: &'a str,
    path: &'a str,
}

impl<'a> UrlParts<'a> {
    fn parse(field: &'static str, url: &'a str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::invalid_authority(field, format!("{field} is not a usable URL: {why}"))
        };
        if url.is_empty() {
            return Err(Error::invalid_config(
                field,
                format!(
                    "{field} is required, e.g. \"https://login.microsoftonline.com/<tenant id>\""
                ),
            ));
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it contains whitespace or control characters"));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("it must start with https://"))?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if host.is_empty() {
            return Err(bad("it has no host"));
        }
        if host.contains('@') {
            return Err(bad("user names and passwords in URLs are not allowed"));
        }
        if path.contains(['?', '#']) || host.contains(['?', '#']) {
            return Err(bad(
                "query strings and fragments are not allowed here (use extraQueryParameters)",
            ));
        }
        let path = path.trim_end_matches('/');
        match scheme.to_ascii_lowercase().as_str() {
            "https" => Ok(UrlParts {
                scheme: "https",
                host,
                path,
            }),
            "http" if is_loopback_host(host) => Ok(UrlParts {
                scheme: "http",
                host,
                path,
            }),
            "http" => Err(Error::invalid_authority(
                field,
                format!("{field} must use https: credentials are only sent over plain http to loopback hosts (127.0.0.1, localhost, [::1])"),
            )),
            _ => Err(bad("only https URLs are supported")),
        }
    }
}

pub(crate) fn is_loopback_host(host_and_port: &str) -> bool {
    if let Some(bracketed) = host_and_port.strip_prefix('[') {
        return bracketed
            .split_once(']')
            .is_some_and(|(inside, _port)| inside == "::1");
    }
    let host = host_and_port
        .split_once(':')
        .map_or(host_and_port, |(h, _)| h);
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn endpoint(authority: &str) -> Result<String, Error> {
        TokenEndpoint::from_authority(authority).map(|e| e.url())
    }

    #[test]
    fn appends_the_v2_token_path() {
        assert_eq!(
            endpoint("https://login.microsoftonline.com/contoso.onmicrosoft.com").unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            endpoint("https://login.microsoftonline.com/tid/").unwrap(),
            "https://login.microsoftonline.com/tid/oauth2/v2.0/token"
        );
        assert_eq!(
            endpoint("HTTPS://login.microsoftonline.us/tid").unwrap(),
            "https://login.microsoftonline.us/tid/oauth2/v2.0/token"
        );
    }

    #[test]
    fn tenant_id_with_authority_host() {
        let public = TokenEndpoint::from_tenant("tid", None).unwrap();
        assert_eq!(
            public.url(),
            "https://login.microsoftonline.com/tid/oauth2/v2.0/token"
        );
        assert_eq!(public.tenant(), Some("tid"));
        assert_eq!(public.authority_host(), Some(PUBLIC_CLOUD_HOST));
        assert_eq!(public.scope_rules(), ScopeRules::Entra);
        let china =
            TokenEndpoint::from_tenant("tid", Some("https://login.chinacloudapi.cn/")).unwrap();
        assert_eq!(
            china.url(),
            "https://login.chinacloudapi.cn/tid/oauth2/v2.0/token"
        );
        assert_eq!(
            TokenEndpoint::from_tenant("", None).unwrap_err().field(),
            Some("tenantId")
        );
        assert!(
            TokenEndpoint::from_tenant("tid", Some("https://login.microsoftonline.com/x")).is_err()
        );
        assert!(TokenEndpoint::from_tenant("a/b", None).is_err());
        assert!(TokenEndpoint::from_tenant("consumers", None).is_err());
    }

    #[test]
    fn generic_endpoints_keep_their_path_and_use_generic_scope_rules() {
        let keycloak = TokenEndpoint::generic(
            "https://sso.example.com/realms/ops/protocol/openid-connect/token",
        )
        .unwrap();
        assert_eq!(
            keycloak.url(),
            "https://sso.example.com/realms/ops/protocol/openid-connect/token"
        );
        assert_eq!(keycloak.scope_rules(), ScopeRules::Generic);
        assert_eq!(keycloak.tenant(), None);
        assert_eq!(
            TokenEndpoint::generic("http://example.com/token")
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidAuthority
        );
        let named =
            TokenEndpoint::generic_named("url", "http://broker.example.com/token").unwrap_err();
        assert_eq!(named.field(), Some("url"));
        assert!(
            named.message().starts_with("url must use https"),
            "{}",
            named.message()
        );
    }

    #[test]
    fn extra_query_parameters_are_encoded_and_left_out_of_the_audience() {
        let endpoint = TokenEndpoint::from_authority("https://login.microsoftonline.com/tid")
            .unwrap()
            .with_extra_query_parameters(&[
                ("dc".into(), "ESTS-PUB-WUS2-AZ1-FD000-TEST1".into()),
                ("x y".into(), "a&b".into()),
            ]);
        assert_eq!(
            endpoint.url(),
            "https://login.microsoftonline.com/tid/oauth2/v2.0/token?dc=ESTS-PUB-WUS2-AZ1-FD000-TEST1&x+y=a%26b"
        );
        assert_eq!(
            endpoint.base_url(),
            "https://login.microsoftonline.com/tid/oauth2/v2.0/token"
        );
    }

    #[test]
    fn allows_plain_http_only_on_loopback() {
        assert!(endpoint("http://127.0.0.1:8080/tid").is_ok());
        assert!(endpoint("http://localhost/tid").is_ok());
        assert!(endpoint("http://[::1]:9000/tid").is_ok());
        for remote in [
            "http://login.microsoftonline.com/tid",
            "http://127.0.0.1.evil.example/tid",
            "http://localhost.evil.example/tid",
            "http://[::2]/tid",
        ] {
            let error = endpoint(remote).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidAuthority, "{remote}");
        }
    }

    /// A tenant is a GUID or a DNS name. `.` and `..` would be normalised out of the URL by
    /// fetch (`/../oauth2/v2.0/token` → `/oauth2/v2.0/token`), so the request would go to
    /// another endpoint than its cache key and assertion audience name.
    #[test]
    fn a_tenant_is_a_guid_or_a_dns_name() {
        let longest = format!(
            "{}.{}.{}.{}",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        );
        assert_eq!(longest.len(), 253);
        for good in [
            "11111111-2222-3333-4444-555555555555",
            "contoso.onmicrosoft.com",
            "Contoso.OnMicrosoft.com",
            "login.contoso-corp.co.uk",
            "tid",
            "9",
            longest.as_str(),
        ] {
            assert!(check_tenant_name(good, "tenantId").is_ok(), "{good}");
            assert!(TokenEndpoint::from_tenant(good, None).is_ok(), "{good}");
        }
        let huge = "a".repeat(5000);
        let too_long = format!("{longest}a");
        let long_label = format!("{}.com", "a".repeat(64));
        for (bad, rule) in [
            (".", "dot-separated part"),
            ("..", "dot-separated part"),
            (".contoso.com", "dot-separated part"),
            ("contoso.com.", "dot-separated part"),
            ("contoso..com", "dot-separated part"),
            ("-contoso.com", "dot-separated part"),
            ("contoso-.com", "dot-separated part"),
            ("contoso.-com", "dot-separated part"),
            (long_label.as_str(), "dot-separated part"),
            ("b2c_1_policy", "may only hold letters, digits, '-' and '.'"),
            ("con toso", "may only hold"),
            ("", "is empty"),
            (too_long.as_str(), "is 254 characters long"),
            (huge.as_str(), "is 5000 characters long"),
        ] {
            for field in ["tenantId", "authority", "tenant"] {
                let error = check_tenant_name(bad, field).unwrap_err();
                assert_eq!(error.kind(), ErrorKind::InvalidAuthority, "{bad}");
                assert_eq!(error.field(), Some(field), "{bad}");
                assert!(error.message().contains(rule), "{bad}: {error}");
                assert!(error.message().contains(field), "{bad}: {error}");
                assert!(error.message().len() < 400, "bounded: {bad}");
                if bad.len() > 2 {
                    assert!(!error.message().contains(bad), "never quoted: {bad}");
                }
            }
        }
        for authority in [
            "https://login.microsoftonline.com/..",
            "https://login.microsoftonline.com/.",
            "https://login.microsoftonline.com/./",
        ] {
            let error = endpoint(authority).unwrap_err();
            assert_eq!(error.field(), Some("authority"), "{authority}");
            assert!(
                error.message().contains("dot-separated part"),
                "{authority}: {error}"
            );
        }
        let error = TokenEndpoint::from_tenant("..", None).unwrap_err();
        assert_eq!(error.field(), Some("tenantId"));
        let error = TokenEndpoint::from_tenant(&huge, None).unwrap_err();
        assert!(error.message().contains("at most 253"), "{error}");
    }

    #[test]
    fn rejects_malformed_and_multi_tenant_authorities() {
        for (input, expected) in [
            ("login.microsoftonline.com/tid", "must start with https://"),
            ("ftp://host/tid", "only https"),
            ("https:///tid", "no host"),
            ("https://user:pw@host/tid", "user names"),
            ("https://host/tid?x=1", "query strings"),
            ("https://host", "one tenant segment"),
            ("https://host/a/b", "one tenant segment"),
            (
                "https://host/common",
                "cannot be used for client credentials",
            ),
            (
                "https://host/Organizations",
                "cannot be used for client credentials",
            ),
            ("https://host/t%20id", "may only hold"),
            ("https://host/t id", "whitespace"),
        ] {
            let error = endpoint(input).unwrap_err();
            assert!(error.message().contains(expected), "{input}: {error}");
        }
        let error = endpoint("").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidConfig);
        assert_eq!(error.field(), Some("authority"));
    }
}
