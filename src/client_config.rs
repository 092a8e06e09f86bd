//! The client's validated configuration: where tokens come from, the credential, and the
//! cache and retry settings. [`crate::client_options::ClientOptions`] builds one from the
//! options users write; this is the form the client runs on.

use crate::authority::TokenEndpoint;
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

    pub(crate) fn hint_context(&self) -> HintContext<'_> {
        HintContext {
            authority_host: self.endpoint.authority_host(),
            tenant: self.endpoint.tenant(),
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
