//! The confidential client: configuration, the cache tiers, single-flight, background
//! refresh, retries and throttling around one sans-IO token request.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::pin::pin;
use std::rc::Rc;

use futures_util::future::{select, Either};

use crate::assertion::uuid_v4;
use crate::authority::{RequestAuthority, TokenEndpoint};
use crate::cache::{store_key, CachedToken, TenantEntry, TokenCache, TokenStore};
use crate::claims::merge_claims;
pub use crate::client_config::ClientConfig;
use crate::coordinator::Coordinator;
use crate::error::{Error, ErrorKind};
use crate::flight::Flight;
use crate::ports::Host;
use crate::request::{build_token_request, TokenRequestParts};
use crate::response::parse_token_response;
use crate::retry::{AttemptOutcome, RetryDecision};
use crate::scope::ScopeSet;
use crate::secret::AccessToken;

/// After a failed background refresh, the next one waits at least this long.
const REFRESH_RETRY_MS: u64 = 30_000;
/// A flight still under way this long after its total timeout has lost its task: a host may
/// cut a task off without dropping it (a Worker ends a `waitUntil` about 30 s after its
/// response). Later callers start a fetch of their own instead of waiting on it forever.
const STALE_FLIGHT_MARGIN_MS: u64 = 60_000;
/// How long a definitive refusal by the identity provider (`invalid_client`,
/// `invalid_scope`, `unauthorized_client`…) is answered from memory for its scope set.
/// Repeating a request the provider has refused cannot succeed, and a caller that keeps
/// sending it can get the whole app throttled; a fixed grant or secret still takes effect
/// within this window.
pub const REFUSAL_MEMORY_MS: u64 = 30_000;
/// Form parameters the client sets itself: an extra body parameter may not replace them.
const RESERVED_BODY_PARAMETERS: [&str; 7] = [
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "scope",
    "grant_type",
    "claims",
];

/// Longest caller-chosen correlation id accepted (a UUID has 36 characters).
const MAX_CORRELATION_ID_LEN: usize = 256;

/// A caller's correlation id travels as the `client-request-id` header: printable ASCII only,
/// so it can neither break the header nor be refused by fetch after the request has started.
fn validate_correlation_id(correlation_id: Option<&str>) -> Result<(), Error> {
    let Some(id) = correlation_id else {
        return Ok(());
    };
    if id.is_empty()
        || id.len() > MAX_CORRELATION_ID_LEN
        || id.chars().any(|c| !c.is_ascii() || c.is_ascii_control())
    {
        return Err(Error::invalid_config(
            "correlationId",
            format!("correlationId must be 1 to {MAX_CORRELATION_ID_LEN} printable ASCII characters (it is sent as the client-request-id header), e.g. a UUID"),
        ));
    }
    Ok(())
}

fn validate_extra_body(extra_body: &[(String, String)]) -> Result<(), Error> {
    for (name, _) in extra_body {
        if name.is_empty() {
            return Err(Error::invalid_config(
                "extraBodyParameters",
                "extraBodyParameters has an empty parameter name",
            ));
        }
        if RESERVED_BODY_PARAMETERS.contains(&name.as_str()) {
            return Err(Error::invalid_config(
                "extraBodyParameters",
                format!("extraBodyParameters may not set \"{name}\": the client sets it itself (use scopes, claims or the credential options instead)"),
            ));
        }
    }
    Ok(())
}

/// One call to [`ConfidentialClient::acquire_token_for_client`].
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The scopes (validated for the endpoint's rules).
    pub scopes: ScopeSet,
    /// Skip the cache read (the new token is still cached).
    pub force_refresh: bool,
    /// A claims challenge (JSON): skips the cache entirely and is sent as `claims`, merged
    /// with the client's capabilities when it declares any (it must then be a JSON object).
    pub claims: Option<String>,
    /// The `client-request-id` to send; a UUID v4 is generated when absent.
    pub correlation_id: Option<String>,
    /// Extra form parameters appended to the body. None may be one the client sets itself
    /// (`client_id`, `scope`, `grant_type`, `claims` or a credential parameter). A request
    /// with extra parameters asks for a token that may differ from the plain one: it is
    /// sent on its own, never served from or written to the cache.
    pub extra_body: Vec<(String, String)>,
    /// Another tenant than the client's, for this request only (a multi-tenant daemon): its
    /// tokens are cached, shared and refreshed apart from every other tenant's. See
    /// [`ClientConfig::endpoint_for`] for the rules it is held to.
    pub authority: Option<RequestAuthority>,
}

impl TokenRequest {
    /// A plain request for `scopes`.
    pub fn new(scopes: ScopeSet) -> Self {
        TokenRequest {
            scopes,
            force_refresh: false,
            claims: None,
            correlation_id: None,
            extra_body: Vec::new(),
            authority: None,
        }
    }
}

/// Where one request's token comes from and is kept: the endpoint (`None`, the client's own),
/// the tenant sent in the form to a token server serving many tenants at one endpoint
/// ([`ClientConfig::with_tenant_parameter`]), and the key of its cache entry, flight,
/// throttling and refusal memory. The client's own tenant keys by the scope set alone;
/// another tenant's key leads with its authority (or `name=tenant` for a form tenant), on a
/// line of its own (scope keys hold no line break), so no two tenants share anything.
#[derive(Clone)]
pub(crate) struct Target {
    endpoint: Option<TokenEndpoint>,
    form_tenant: Option<(&'static str, String)>,
    key: String,
}

impl Target {
    fn of(config: &ClientConfig, request: &TokenRequest) -> Result<Self, Error> {
        let scopes = request.scopes.cache_key();
        if let Some((name, tenant)) = config.form_tenant(request.authority.as_ref())? {
            return Ok(Target {
                endpoint: None,
                key: format!("{name}={tenant}\n{scopes}"),
                form_tenant: Some((name, tenant)),
            });
        }
        let endpoint = config.endpoint_for(request.authority.as_ref())?;
        let key = match endpoint.as_ref().and_then(TokenEndpoint::authority) {
            Some(authority) => format!("{authority}\n{scopes}"),
            None => scopes.to_owned(),
        };
        Ok(Target {
            endpoint,
            form_tenant: None,
            key,
        })
    }

    fn endpoint<'a>(&'a self, config: &'a ClientConfig) -> &'a TokenEndpoint {
        self.endpoint.as_ref().unwrap_or(&config.endpoint)
    }

    /// The tenant the token is for, when one is known.
    fn tenant<'a>(&'a self, config: &'a ClientConfig) -> Option<&'a str> {
        match &self.form_tenant {
            Some((_, tenant)) => Some(tenant),
            None => self.endpoint(config).tenant(),
        }
    }
}

/// Where a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The client's memory.
    Memory,
    /// The shared [`TokenStore`].
    Store,
    /// The fleet's [`Coordinator`].
    Coordinator,
    /// A new token from the identity provider.
    IdentityProvider,
}

/// A token, from a cache or freshly issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    /// The access token.
    pub access_token: AccessToken,
    /// The token type, e.g. `Bearer`.
    pub token_type: String,
    /// Expiry, in milliseconds since the Unix epoch.
    pub expires_on_ms: u64,
    /// Extended expiry, in milliseconds since the Unix epoch.
    pub ext_expires_on_ms: u64,
    /// When the client will refresh in the background, if it will.
    pub refresh_on_ms: Option<u64>,
    /// Until when a repeat of this request is a plain memory hit: before the expiry buffer
    /// and before the refresh point. Adapters may answer repeats themselves until then.
    pub served_as_is_until_ms: u64,
    /// The scopes the token was requested for.
    pub scopes: Vec<String>,
    /// Where the token came from.
    pub source: TokenSource,
    /// The `client-request-id` of the request that fetched it (or the caller's, on a hit).
    pub correlation_id: Option<String>,
    /// The tenant, for Entra authorities.
    pub tenant_id: Option<String>,
}

impl AuthResult {
    /// True when no request was sent to the identity provider.
    pub fn from_cache(&self) -> bool {
        self.source != TokenSource::IdentityProvider
    }
}

/// What a fetch is for: a caller's plain or forced request, or the client itself refreshing
/// before expiry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Origin {
    Plain,
    Forced,
    BackgroundRefresh,
}

impl Origin {
    fn of(request: &TokenRequest) -> Self {
        if request.force_refresh {
            Origin::Forced
        } else {
            Origin::Plain
        }
    }

    /// The fetches a request of this kind may share, best first.
    fn may_join(self) -> &'static [Origin] {
        match self {
            Origin::Plain => &[Origin::Forced, Origin::BackgroundRefresh, Origin::Plain],
            Origin::Forced => &[Origin::Forced],
            Origin::BackgroundRefresh => &[Origin::Forced, Origin::BackgroundRefresh],
        }
    }
}

/// What one shared fetch yields to every waiter.
#[derive(Clone)]
struct Fetched {
    token: CachedToken,
    source: TokenSource,
    correlation_id: Option<String>,
}

type FetchFlight = Flight<Result<Fetched, Error>>;

/// A flight is for a scope set and one kind of fetch. A forced request never joins a plain
/// fetch, which may answer from the store with the very token it is meant to replace, nor a
/// background refresh, which does not ask a caching server to skip its caches.
#[derive(Clone, PartialEq, Eq, Hash)]
struct FlightKey {
    kind: Origin,
    scopes: String,
}

/// Called with the error when a background refresh fails (the caller already has a token).
pub type RefreshErrorHandler = Rc<dyn Fn(&Error)>;

struct Inner<H> {
    config: ClientConfig,
    host: H,
    cache: RefCell<TokenCache>,
    store: Option<Rc<dyn TokenStore>>,
    coordinator: Option<Rc<dyn Coordinator>>,
    /// Fetches under way, with when each started.
    in_flight: RefCell<HashMap<FlightKey, (FetchFlight, u64)>>,
    throttled_until: RefCell<HashMap<String, u64>>,
    /// Definitive refusals per scope set: until when, and the provider's error.
    refused: RefCell<HashMap<String, (u64, Error)>>,
    refresh_not_before: RefCell<HashMap<String, u64>>,
    on_refresh_error: RefCell<Option<RefreshErrorHandler>>,
}

/// Acquires app-only tokens with the client-credentials grant: cached per scope set,
/// coalesced across concurrent callers, refreshed in the background before expiry, retried
/// on transient failures.
pub struct ConfidentialClient<H> {
    inner: Rc<Inner<H>>,
}

impl<H> Clone for ConfidentialClient<H> {
    fn clone(&self) -> Self {
        ConfidentialClient {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<H: Host> ConfidentialClient<H> {
    /// A client that uses `host` for HTTP, time, waiting and background tasks.
    pub fn new(config: ClientConfig, host: H) -> Self {
        Self::with_store(config, host, None)
    }

    /// A client with a shared [`TokenStore`] beneath its memory.
    pub fn with_store(config: ClientConfig, host: H, store: Option<Rc<dyn TokenStore>>) -> Self {
        Self::with_shared_tiers(config, host, store, None)
    }

    /// A client with a shared [`TokenStore`] beneath its memory and a fleet [`Coordinator`]
    /// beneath that, before the identity provider.
    pub fn with_shared_tiers(
        config: ClientConfig,
        host: H,
        store: Option<Rc<dyn TokenStore>>,
        coordinator: Option<Rc<dyn Coordinator>>,
    ) -> Self {
        let cache = TokenCache::new(config.expiry_buffer_ms, config.cache_capacity);
        ConfidentialClient {
            inner: Rc::new(Inner {
                config,
                host,
                cache: RefCell::new(cache),
                store,
                coordinator,
                in_flight: RefCell::new(HashMap::new()),
                throttled_until: RefCell::new(HashMap::new()),
                refused: RefCell::new(HashMap::new()),
                refresh_not_before: RefCell::new(HashMap::new()),
                on_refresh_error: RefCell::new(None),
            }),
        }
    }

    /// The client's configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The host the client runs on.
    pub fn host(&self) -> &H {
        &self.inner.host
    }

    /// Reports background refresh failures to `handler` (they never reach callers, who keep
    /// getting the cached token until it expires).
    pub fn on_refresh_error(&self, handler: Option<RefreshErrorHandler>) {
        *self.inner.on_refresh_error.borrow_mut() = handler;
    }

    /// Parses scopes under this client's endpoint rules.
    pub fn scopes<I, S>(&self, scopes: I) -> Result<ScopeSet, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        ScopeSet::parse(scopes, self.inner.config.endpoint.scope_rules())
    }

    /// A token for `request.scopes`: from memory while fresh (refreshing in the background
    /// past its refresh point), else from the store or the identity provider, with one
    /// request shared by all concurrent callers.
    pub async fn acquire_token_for_client(
        &self,
        mut request: TokenRequest,
    ) -> Result<AuthResult, Error> {
        validate_correlation_id(request.correlation_id.as_deref())?;
        validate_extra_body(&request.extra_body)?;
        // A claims challenge is merged with the client's capabilities here, once, before any
        // request: the merged claims are what is sent (see `fetch_with_retries`).
        if let Some(challenge) = &request.claims {
            request.claims = Some(merge_claims(
                &self.inner.config.client_capabilities,
                challenge,
            )?);
        }
        let target = Target::of(&self.inner.config, &request)?;
        if let Some(hit) = self.memory_hit(&request, &target) {
            return Ok(hit);
        }
        let inner = &self.inner;
        let key = &target.key;
        let now_ms = inner.host.now_ms();
        // Throttling only stops requests to the identity provider; a fresh token is still served.
        if let Some(until) = inner.throttled_until.borrow().get(key).copied() {
            if now_ms < until {
                return Err(Error::new(
                    ErrorKind::Throttled,
                    "the identity provider is throttling this client for these scopes; calls fail fast until its Retry-After window ends",
                )
                .with_retry_after_ms(until - now_ms));
            }
        }
        if let Some(refusal) = inner.remembered_refusal(key, now_ms) {
            return Err(refusal);
        }
        let fetched = if request.claims.is_some() || !request.extra_body.is_empty() {
            // A claims challenge or extra parameters ask for a token that may differ from
            // the plain one: never shared, never cached.
            let (token, correlation_id) = inner
                .fetch_from_idp(&request, &target, Origin::of(&request))
                .await?;
            Fetched {
                token,
                source: TokenSource::IdentityProvider,
                correlation_id: Some(correlation_id),
            }
        } else {
            self.join_or_start(&request, &target, Origin::of(&request))
                .wait()
                .await?
        };
        Ok(inner.result(
            fetched.token,
            fetched.source,
            fetched.correlation_id,
            &request.scopes,
            &target,
        ))
    }

    /// The memory tier of [`Self::acquire_token_for_client`] on its own, without awaiting:
    /// the cached token it would serve (starting the background refresh past the refresh
    /// point), or `None` when it would go further. Adapters answer hits with it without
    /// any promise machinery.
    pub fn acquire_from_memory(&self, request: &TokenRequest) -> Option<AuthResult> {
        // An unusable correlation id goes the long way, which reports it.
        validate_correlation_id(request.correlation_id.as_deref()).ok()?;
        // So does an authority the client refuses.
        let target = Target::of(&self.inner.config, request).ok()?;
        self.memory_hit(request, &target)
    }

    /// [`Self::acquire_from_memory`] for a request whose correlation id is already checked.
    fn memory_hit(&self, request: &TokenRequest, target: &Target) -> Option<AuthResult> {
        if request.claims.is_some() || request.force_refresh || !request.extra_body.is_empty() {
            return None;
        }
        let inner = &self.inner;
        let now_ms = inner.host.now_ms();
        let token = inner.cache.borrow_mut().get(&target.key, now_ms).cloned()?;
        if token.needs_refresh(now_ms) {
            self.refresh_in_background(request, target, now_ms);
        }
        Some(inner.result(
            token,
            TokenSource::Memory,
            request.correlation_id.clone(),
            &request.scopes,
            target,
        ))
    }

    /// Forgets every cached token, and every remembered refusal.
    pub fn clear_cache(&self) {
        self.inner.cache.borrow_mut().clear();
        self.inner.refused.borrow_mut().clear();
    }

    /// The fresh cached tokens as versioned JSON (holds tokens: store it as a secret).
    pub fn serialize_cache(&self) -> String {
        let config = &self.inner.config;
        self.inner.cache.borrow().serialize(
            config.endpoint.base_url(),
            &config.client_id,
            self.inner.host.now_ms(),
        )
    }

    /// Loads tokens written by [`Self::serialize_cache`]; returns how many were fresh. The
    /// blob needs integrity as well as secrecy (see [`TokenCache::deserialize`]).
    pub fn deserialize_cache(&self, json: &str) -> Result<usize, Error> {
        let config = &self.inner.config;
        // Another tenant's entry is loaded only under the rules a request naming it meets, so a
        // token is only ever loaded for a request that would have been allowed to fetch it.
        // Clients of one app can differ in those rules and still share a cache (a daemon with
        // allowedAuthorityHosts, a CLI without): an entry this client may not ask for is
        // skipped, not taken as a forgery, or one such entry would cost every other hit.
        // What no client of the app could have written still refuses the blob.
        let tenant_entry = |authority: &str| {
            let requested = RequestAuthority::Authority(authority.to_owned());
            let loadable = config
                .endpoint_for(Some(&requested))
                .ok()
                .flatten()
                .and_then(|endpoint| endpoint.authority());
            if loadable.as_deref() == Some(authority) {
                TenantEntry::Load
            } else if config.endpoint.is_another_tenants_authority(authority) {
                TenantEntry::Skip
            } else {
                TenantEntry::Refuse
            }
        };
        self.inner.cache.borrow_mut().deserialize_tenants(
            json,
            config.endpoint.base_url(),
            &config.client_id,
            config.endpoint.scope_rules(),
            self.inner.host.now_ms(),
            &tenant_entry,
        )
    }

    /// The flight fetching `request.scopes` for `origin`: one under way that it may share
    /// (see [`Origin::may_join`]), or a new one. The fetch runs as a task of its own; callers
    /// only wait for its result, woken through a signal of the host (see [`Flight`]).
    fn join_or_start(
        &self,
        request: &TokenRequest,
        target: &Target,
        origin: Origin,
    ) -> FetchFlight {
        let scopes = target.key.as_str();
        let now_ms = self.inner.host.now_ms();
        let stale_after_ms = self.inner.stale_flight_ms();
        {
            let in_flight = self.inner.in_flight.borrow();
            for kind in origin.may_join() {
                let key = FlightKey {
                    kind: *kind,
                    scopes: scopes.to_owned(),
                };
                match in_flight.get(&key) {
                    Some((flight, started_ms))
                        if now_ms.saturating_sub(*started_ms) <= stale_after_ms =>
                    {
                        return flight.clone();
                    }
                    _ => {}
                }
            }
        }
        let key = FlightKey {
            kind: origin,
            scopes: scopes.to_owned(),
        };
        // Made here, by the task that starts the fetch (its signal belongs to this task's
        // context in hosts that have one).
        let flight = FetchFlight::new(&self.inner.host);
        self.inner
            .in_flight
            .borrow_mut()
            .insert(key.clone(), (flight.clone(), now_ms));
        let inner = Rc::clone(&self.inner);
        let request = request.clone();
        let target = target.clone();
        let producer = flight.clone();
        self.inner.host.spawn(Box::pin(async move {
            let outcome = inner.fetch_through_tiers(&request, &target, origin).await;
            {
                // A flight that went stale may have been replaced: only its own entry goes.
                let mut in_flight = inner.in_flight.borrow_mut();
                if in_flight
                    .get(&key)
                    .is_some_and(|(entry, _)| entry.is(&producer))
                {
                    in_flight.remove(&key);
                }
            }
            if let Err(error) = &outcome {
                inner.remember_refusal(&key.scopes, error);
            }
            producer.complete(outcome);
        }));
        flight
    }

    fn refresh_in_background(&self, request: &TokenRequest, target: &Target, now_ms: u64) {
        let key = target.key.clone();
        let not_before = self.inner.refresh_not_before.borrow().get(&key).copied();
        if not_before.is_some_and(|at| now_ms < at) {
            return;
        }
        // Marks the refresh as under way until it ends (or, if its task is lost, until its
        // flight is stale).
        self.inner.refresh_not_before.borrow_mut().insert(
            key.clone(),
            now_ms.saturating_add(self.inner.stale_flight_ms()),
        );
        // Not forced (a memory hit never is): another client sharing the store may have
        // refreshed already, and a stored token past its own refresh point is never taken. The
        // refresh's request gets a correlation id of its own, not the caller's.
        let refresh = TokenRequest {
            correlation_id: None,
            ..request.clone()
        };
        let inner = Rc::clone(&self.inner);
        self.join_or_start(&refresh, target, Origin::BackgroundRefresh)
            .on_complete(move |outcome| match outcome {
                Ok(_) => {
                    inner.refresh_not_before.borrow_mut().remove(&key);
                }
                Err(error) => {
                    let wait = error.retry_after_ms().unwrap_or(0).max(REFRESH_RETRY_MS);
                    let retry_at = inner.host.now_ms().saturating_add(wait);
                    inner.refresh_not_before.borrow_mut().insert(key, retry_at);
                    let handler = inner.on_refresh_error.borrow().clone();
                    if let Some(handler) = handler {
                        handler(error);
                    }
                }
            });
    }
}

impl<H: Host> Inner<H> {
    /// How long after it started a flight is taken for lost.
    fn stale_flight_ms(&self) -> u64 {
        self.config
            .retry
            .total_timeout_ms
            .saturating_add(STALE_FLIGHT_MARGIN_MS)
    }

    fn remember_refusal(&self, scopes: &str, error: &Error) {
        if error.is_refusal() {
            let now_ms = self.host.now_ms();
            let mut refused = self.refused.borrow_mut();
            // Bounded like the cache: scope sets come from callers, and refused ones too.
            if refused.len() >= self.config.cache_capacity {
                refused.retain(|_, (until, _)| now_ms < *until);
                if refused.len() >= self.config.cache_capacity {
                    refused.clear();
                }
            }
            refused.insert(
                scopes.to_owned(),
                (now_ms.saturating_add(REFUSAL_MEMORY_MS), error.clone()),
            );
        }
    }

    /// The provider's refusal of these scopes, while it is remembered.
    fn remembered_refusal(&self, scopes: &str, now_ms: u64) -> Option<Error> {
        let mut refused = self.refused.borrow_mut();
        match refused.get(scopes) {
            Some((until, error)) if now_ms < *until => Some(error.clone()),
            Some(_) => {
                refused.remove(scopes);
                None
            }
            None => None,
        }
    }

    fn result(
        &self,
        token: CachedToken,
        source: TokenSource,
        correlation_id: Option<String>,
        scopes: &ScopeSet,
        target: &Target,
    ) -> AuthResult {
        let fresh_until = token
            .expires_on_ms
            .saturating_sub(self.config.expiry_buffer_ms)
            .min(token.lease_until_ms.unwrap_or(u64::MAX));
        AuthResult {
            served_as_is_until_ms: token
                .refresh_on_ms
                .map_or(fresh_until, |at| at.min(fresh_until)),
            access_token: token.access_token,
            token_type: token.token_type,
            expires_on_ms: token.expires_on_ms,
            ext_expires_on_ms: token.ext_expires_on_ms,
            refresh_on_ms: token.refresh_on_ms,
            scopes: scopes.iter().map(str::to_owned).collect(),
            source,
            correlation_id,
            tenant_id: target.tenant(&self.config).map(str::to_owned),
        }
    }

    /// The token's name in a shared store and the fleet: the effective token endpoint names
    /// the tenant, so every tenant has its own entry and its own coordinator.
    /// A form tenant's endpoint is named with its tenant as the query (a base URL has none).
    fn store_key(&self, scopes: &ScopeSet, target: &Target) -> String {
        let base_url = target.endpoint(&self.config).base_url();
        let endpoint = match &target.form_tenant {
            Some((name, tenant)) => Cow::Owned(format!("{base_url}?{name}={tenant}")),
            None => Cow::Borrowed(base_url),
        };
        store_key(&endpoint, &self.config.client_id, scopes.cache_key())
    }

    /// Sends the token request, retrying as the policy says within the total deadline.
    async fn fetch_from_idp(
        &self,
        request: &TokenRequest,
        target: &Target,
        origin: Origin,
    ) -> Result<(CachedToken, String), Error> {
        let correlation_id = match &request.correlation_id {
            Some(id) => id.clone(),
            None => uuid_v4()?,
        };
        self.fetch_with_retries(request, target, origin, &correlation_id)
            .await
            .map(|token| (token, correlation_id.clone()))
            .map_err(|error| match error.correlation_id() {
                Some(_) => error,
                None => error.with_correlation_id(correlation_id.clone()),
            })
    }

    async fn fetch_with_retries(
        &self,
        request: &TokenRequest,
        target: &Target,
        origin: Origin,
        correlation_id: &str,
    ) -> Result<CachedToken, Error> {
        let config = &self.config;
        let endpoint = target.endpoint(config);
        let policy = &config.retry;
        let deadline_ms = self.host.now_ms().saturating_add(policy.total_timeout_ms);
        // Another tenant's assertions name its own endpoint (`endpoint_for` refuses a fixed
        // audience with another tenant).
        let audience = config
            .assertion_audience
            .as_deref()
            .unwrap_or(endpoint.base_url());
        let mut extra_body = Cow::Borrowed(request.extra_body.as_slice());
        if let Some((name, tenant)) = &target.form_tenant {
            extra_body
                .to_mut()
                .push(((*name).to_owned(), tenant.clone()));
        }
        if let (Some(parameter), Origin::Forced) = (&config.forced_refresh_parameter, origin) {
            extra_body.to_mut().push(parameter.clone());
        }
        let mut retries_done = 0;
        loop {
            let sent_at_ms = self.host.now_ms();
            if sent_at_ms >= deadline_ms {
                return Err(timeout_error(policy.total_timeout_ms, "in total"));
            }
            let credential = config
                .credential
                .resolve(&config.client_id, endpoint.base_url(), audience, sent_at_ms)
                .await?;
            let attempt_timeout_ms = policy.attempt_timeout_ms.min(deadline_ms - sent_at_ms);
            let http_request = build_token_request(TokenRequestParts {
                endpoint,
                client_id: &config.client_id,
                scopes: &request.scopes,
                credential: &credential,
                // A challenge (already merged with the capabilities), else the capabilities'
                // own claims request: a token asked for with those alone is cached as usual.
                claims: request
                    .claims
                    .as_deref()
                    .or(config.capabilities_claims.as_deref()),
                extra_body: &extra_body,
                correlation_id,
                timeout_ms: attempt_timeout_ms,
            });
            let response = {
                let fetch = pin!(self.host.fetch(http_request));
                let timer = pin!(self.host.sleep(attempt_timeout_ms));
                match select(fetch, timer).await {
                    Either::Left((response, _)) => Some(response),
                    Either::Right(((), _)) => None,
                }
            };
            let received_at_ms = self.host.now_ms();
            let (outcome, error) = match response {
                None => (
                    AttemptOutcome::Timeout,
                    timeout_error(attempt_timeout_ms, "for one attempt"),
                ),
                Some(Err(error)) if error.kind() == ErrorKind::Network => {
                    (AttemptOutcome::NetworkError, error)
                }
                Some(Err(error)) => return Err(error),
                Some(Ok(response)) => {
                    match parse_token_response(
                        &response,
                        &config.hint_context(endpoint),
                        received_at_ms,
                    ) {
                        Ok(token) => {
                            return Ok(CachedToken::issued(
                                token.access_token,
                                token.token_type,
                                sent_at_ms,
                                token.expires_in_s,
                                token.ext_expires_in_s,
                                token.refresh_in_s,
                            ))
                        }
                        Err(error) if !error.is_transient() => return Err(error),
                        Err(error) => (
                            AttemptOutcome::Status {
                                status: response.status,
                                retry_after_ms: error.retry_after_ms(),
                            },
                            error,
                        ),
                    }
                }
            };
            match policy.decide(
                outcome,
                retries_done,
                received_at_ms,
                deadline_ms,
                random_u64(),
            ) {
                RetryDecision::RetryAfter(delay_ms) => {
                    if delay_ms > 0 {
                        self.host.sleep(delay_ms).await;
                    }
                    retries_done += 1;
                }
                RetryDecision::GiveUp => return Err(error),
                RetryDecision::Throttled(wait_ms) => {
                    self.throttled_until
                        .borrow_mut()
                        .insert(target.key.clone(), received_at_ms.saturating_add(wait_ms));
                    return Err(Error::new(
                        ErrorKind::Throttled,
                        format!(
                            "the identity provider is throttling this client (HTTP 429) and asks to wait {} s, longer than the request's deadline: {}",
                            wait_ms.div_ceil(1000),
                            error.message()
                        ),
                    )
                    .with_retry_after_ms(wait_ms));
                }
            }
        }
    }
}

fn timeout_error(ms: u64, scope: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!("the token endpoint did not answer within {ms} ms {scope}"),
    )
    .with_hint(
        "check network access to the token endpoint; raise the timeout options if it is slow",
    )
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // Without randomness the jitter is merely zero; retries still happen.
    let _ = crate::random::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}
mod tiers;

#[cfg(test)]
mod tests;
