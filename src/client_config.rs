//! The client's validated configuration: where tokens come from, the credential, and the
//! cache and retry settings. [`crate::client_options::ClientOptions`] builds one from the
//! options users write; this is the form the client runs on.

use crate::authority::{check_tenant_name, RequestAuthority, TokenEndpoint};
use crate::cache::{DEFAULT_CACHE_CAPACITY, DEFAULT_EXPIRY_BUFFER_MS};
use crate::client_id::ClientId;
use crate::credential::Credential;
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::troubleshooting::HintContext;

/// Validated client configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub(crate) client_id: ClientId,
    pub(crate) endpoint: TokenEndpoint,
    pub(crate) credential: Credential,
    pub(crate) expiry_buffer_ms: u64,
    pub(crate) cache_capacity: usize,
    pub(crate) retry: RetryPolicy,
    pub(crate) assertion_audience: Option<String>,
    pub(crate) forced_refresh_parameter: Option<(String, String)>,
    pub(crate) client_capabilities: Vec<String>,
    /// The claims request the capabilities make, sent with every token request.
    pub(crate) capabilities_claims: Option<String>,
    /// Clouds besides the endpoint's own that a per-request authority may name
    /// (`scheme://host`, lowercase).
    pub(crate) allowed_authority_hosts: Vec<String>,
    /// The form parameter a request's tenant is sent in, for a token server that serves
    /// many tenants at one endpoint (see [`Self::with_tenant_parameter`]).
    pub(crate) tenant_parameter: Option<&'static str>,
}

impl ClientConfig {
    /// Configuration for `endpoint` (see [`TokenEndpoint`]'s constructors).
    pub fn new(
        client_id: &str,
        endpoint: TokenEndpoint,
        credential: Credential,
    ) -> Result<Self, Error> {
        let client_id = ClientId::parse(client_id)?;
        if let (Credential::Certificate(certificate), Some(_)) = (&credential, endpoint.tenant()) {
            certificate.check_entra_identification()?;
        }
        Ok(ClientConfig {
            client_id,
            endpoint,
            credential,
            expiry_buffer_ms: DEFAULT_EXPIRY_BUFFER_MS,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            retry: RetryPolicy::default(),
            assertion_audience: None,
            forced_refresh_parameter: None,
            client_capabilities: Vec::new(),
            capabilities_claims: None,
            allowed_authority_hosts: Vec::new(),
            tenant_parameter: None,
        })
    }

    /// Stop serving cached tokens this long before they expire (default 300 s).
    pub fn with_expiry_buffer_ms(mut self, expiry_buffer_ms: u64) -> Self {
        self.expiry_buffer_ms = expiry_buffer_ms;
        self
    }

    /// Keep at most this many scope sets in memory (default 1,000).
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity.max(1);
        self
    }

    /// Retry and timeout settings.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `aud` of signed client assertions, instead of the token endpoint URL (for servers
    /// that want their issuer identifier).
    pub fn with_assertion_audience(mut self, audience: impl Into<String>) -> Self {
        self.assertion_audience = Some(audience.into());
        self
    }

    /// A form parameter sent with requests a caller forced (`force_refresh`), not with
    /// background refreshes: a token server that caches, such as the cctoken broker
    /// (`force_refresh=true`), then skips its caches too. Forced requests are still cached and
    /// shared as usual.
    pub fn with_forced_refresh_parameter(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.forced_refresh_parameter = Some((name.into(), value.into()));
        self
    }

    /// Declares client capabilities (e.g. `cp1`, continuous access evaluation): sent as the
    /// `xms_cc` claims request with every token request, and merged with a request's claims
    /// challenge (see [`crate::claims::merge_claims`]). Checked by
    /// [`crate::claims::validate_capabilities`]; an empty list declares none.
    pub fn with_client_capabilities(mut self, capabilities: Vec<String>) -> Result<Self, Error> {
        let capabilities = crate::claims::validate_capabilities(capabilities)?;
        self.capabilities_claims = crate::claims::capabilities_claims(&capabilities);
        self.client_capabilities = capabilities;
        Ok(self)
    }

    /// Clouds besides the client's own that a request's `authority` may name (MSAL's per-request
    /// authority), e.g. `https://login.microsoftonline.us`: the credential goes to those hosts
    /// too. Checked by [`crate::authority::parse_allowed_authority_hosts`].
    pub fn with_allowed_authority_hosts(mut self, hosts: &[String]) -> Result<Self, Error> {
        self.allowed_authority_hosts = crate::authority::parse_allowed_authority_hosts(hosts)?;
        Ok(self)
    }

    /// The token endpoint a request naming `requested` goes to: `None` for the client's own
    /// (see [`TokenEndpoint::for_request`]). A fixed `assertionAudience` names one tenant's
    /// endpoint, so a client with one takes no other tenant per request.
    pub fn endpoint_for(
        &self,
        requested: Option<&RequestAuthority>,
    ) -> Result<Option<TokenEndpoint>, Error> {
        let Some(requested) = requested else {
            return Ok(None);
        };
        let endpoint = self
            .endpoint
            .for_request(requested, &self.allowed_authority_hosts)?;
        if endpoint.is_some() && self.assertion_audience.is_some() {
            return Err(Error::invalid_config(
                requested.field(),
                format!("{} per request cannot be used with assertionAudience: it fixes every assertion's aud to one endpoint, while another tenant's assertions must name its own token endpoint; remove assertionAudience (the default aud is the tenant's token endpoint)", requested.field()),
            ));
        }
        Ok(endpoint)
    }

    /// Sends a request's tenant ([`RequestAuthority::Tenant`]) to this client's own endpoint
    /// as the form parameter `name`, for a token server that serves many tenants at one
    /// endpoint: the cctoken broker (`tenant`), which holds the credential and the tenant
    /// grants. Each tenant's tokens are still cached, shared, throttled and refused apart
    /// (see [`Self::form_tenant`]). `name` is also the request field errors name, so it is
    /// the one the host's callers write.
    pub fn with_tenant_parameter(mut self, name: &'static str) -> Self {
        self.tenant_parameter = Some(name);
        self
    }

    /// The form parameter and tenant a request naming `requested` sends, for a client with a
    /// tenant parameter ([`Self::with_tenant_parameter`]); `None` for any other client, and
    /// for a request naming no tenant. The tenant is held to the rules of an Entra tenant
    /// ([`crate::authority::check_tenant_name`], as the broker holds it) and lowercased, so
    /// that one tenant has one cache entry; an `authority` is refused (no URL goes there).
    pub fn form_tenant(
        &self,
        requested: Option<&RequestAuthority>,
    ) -> Result<Option<(&'static str, String)>, Error> {
        let (Some(name), Some(requested)) = (self.tenant_parameter, requested) else {
            return Ok(None);
        };
        match requested {
            RequestAuthority::Tenant(tenant) => {
                let well_formed =
                    !tenant.is_empty() && check_tenant_name(tenant, name).is_ok();
                if !well_formed {
                    return Err(Error::invalid_authority(
                        name,
                        format!("{name} must be a tenant id (a GUID) or a verified domain such as contoso.onmicrosoft.com: dot-separated parts of letters, digits and '-', each starting and ending with a letter or digit, at most 253 characters, and not common, organizations or consumers, which name no single tenant (leave {name} out for the broker app's own tenant)"),
                    ));
                }
                Ok(Some((name, tenant.to_ascii_lowercase())))
            }
            RequestAuthority::Authority(_) => Err(Error::invalid_authority(
                requested.field(),
                format!("authority per request is not taken by this token server: it serves many tenants at one URL, so name the tenant with {name}"),
            )),
        }
    }

    /// The declared client capabilities.
    pub fn client_capabilities(&self) -> &[String] {
        &self.client_capabilities
    }

    /// The client (application) id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The token endpoint requests go to.
    pub fn token_endpoint(&self) -> &TokenEndpoint {
        &self.endpoint
    }

    /// How long before expiry a cached token stops being served.
    pub fn expiry_buffer_ms(&self) -> u64 {
        self.expiry_buffer_ms
    }

    /// Retry and timeout settings.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// What troubleshooting hints may name for requests to `endpoint` (the client's own or a
    /// request's tenant).
    pub(crate) fn hint_context<'a>(&'a self, endpoint: &'a TokenEndpoint) -> HintContext<'a> {
        HintContext {
            authority_host: endpoint.authority_host(),
            tenant: endpoint.tenant(),
            client_id: &self.client_id,
            secret: match &self.credential {
                Credential::ClientSecret { secret, .. } => Some(secret),
                _ => None,
            },
        }
    }
}

/// Checks a client id (see [`ClientId::parse`]).
pub(crate) fn validate_client_id(client_id: &str) -> Result<(), Error> {
    ClientId::parse(client_id).map(|_| ())
}
