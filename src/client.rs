//! The confidential client: configuration, cache lookup, and one token request on a miss.

use std::cell::RefCell;

use crate::authority::TokenEndpoint;
use crate::cache::{CachedToken, TokenCache, DEFAULT_EXPIRY_BUFFER_MS};
use crate::credential::Credential;
use crate::error::Error;
use crate::ports::{Clock, Fetch};
use crate::request::build_token_request;
use crate::response::parse_token_response;
use crate::scope::ScopeSet;
use crate::secret::Secret;

/// Longest client id accepted; Entra ids are GUIDs, other servers use short names.
const MAX_CLIENT_ID_LEN: usize = 256;

/// Validated client configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    client_id: String,
    endpoint: TokenEndpoint,
    credential: Credential,
    expiry_buffer_ms: u64,
}

impl ClientConfig {
    /// Configuration for an Entra ID authority such as
    /// `https://login.microsoftonline.com/<tenant>`.
    pub fn new(client_id: &str, authority: &str, credential: Credential) -> Result<Self, Error> {
        validate_client_id(client_id)?;
        Ok(ClientConfig {
            client_id: client_id.to_owned(),
            endpoint: TokenEndpoint::from_authority(authority)?,
            credential,
            expiry_buffer_ms: DEFAULT_EXPIRY_BUFFER_MS,
        })
    }

    /// The client (application) id.
    pub fn client_id(&self) -> &str {
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
}

fn validate_client_id(client_id: &str) -> Result<(), Error> {
    if client_id.is_empty() {
        return Err(Error::invalid_config(
            "clientId",
            "clientId is required: use the Application (client) ID from the app registration",
        ));
    }
    if client_id.len() > MAX_CLIENT_ID_LEN
        || client_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid_config(
            "clientId",
            format!("clientId must be at most {MAX_CLIENT_ID_LEN} characters without whitespace: use the Application (client) ID from the app registration"),
        ));
    }
    Ok(())
}

/// A token, from the cache or freshly issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    /// The access token.
    pub access_token: Secret,
    /// The token type, e.g. `Bearer`.
    pub token_type: String,
    /// Expiry, in milliseconds since the Unix epoch.
    pub expires_on_ms: u64,
    /// True when served from the cache without a request.
    pub from_cache: bool,
}

/// Acquires app-only tokens with the client-credentials grant and caches them per scope set.
pub struct ConfidentialClient<F, C> {
    config: ClientConfig,
    fetch: F,
    clock: C,
    cache: RefCell<TokenCache>,
}

impl<F: Fetch, C: Clock> ConfidentialClient<F, C> {
    /// A client that sends requests through `fetch` and reads time from `clock`.
    pub fn new(config: ClientConfig, fetch: F, clock: C) -> Self {
        let cache = RefCell::new(TokenCache::new(config.expiry_buffer_ms));
        ConfidentialClient {
            config,
            fetch,
            clock,
            cache,
        }
    }

    /// The client's configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Returns a cached token for `scopes` while it is fresh; otherwise requests one.
    pub async fn acquire_token_for_client(&self, scopes: &ScopeSet) -> Result<AuthResult, Error> {
        // Expiry counts from when the request was sent, not received: the token cannot
        // have been issued earlier, so the cached expiry never overshoots the real one.
        let sent_at_ms = self.clock.now_ms();
        if let Some(hit) = self.cache.borrow().get(scopes.cache_key(), sent_at_ms) {
            return Ok(AuthResult {
                access_token: hit.access_token.clone(),
                token_type: hit.token_type.clone(),
                expires_on_ms: hit.expires_on_ms,
                from_cache: true,
            });
        }
        let request = build_token_request(
            &self.config.endpoint,
            &self.config.client_id,
            &self.config.credential,
            scopes,
        );
        let response = self.fetch.fetch(request).await?;
        let token = parse_token_response(&response)?;
        let expires_on_ms = sent_at_ms.saturating_add(token.expires_in_s.saturating_mul(1000));
        self.cache.borrow_mut().put(
            scopes.cache_key(),
            CachedToken {
                access_token: token.access_token.clone(),
                token_type: token.token_type.clone(),
                expires_on_ms,
            },
            sent_at_ms,
        );
        Ok(AuthResult {
            access_token: token.access_token,
            token_type: token.token_type,
            expires_on_ms,
            from_cache: false,
        })
    }

    /// Forgets every cached token.
    pub fn clear_cache(&self) {
        self.cache.borrow_mut().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{HttpRequest, HttpResponse};
    use std::cell::Cell;

    struct ScriptedFetch {
        requests: RefCell<Vec<HttpRequest>>,
        reply: HttpResponse,
    }

    impl Fetch for &ScriptedFetch {
        async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
            self.requests.borrow_mut().push(request);
            Ok(self.reply.clone())
        }
    }

    struct ManualClock(Cell<u64>);

    impl Clock for &ManualClock {
        fn now_ms(&self) -> u64 {
            self.0.get()
        }
    }

    const START_MS: u64 = 1_800_000_000_000;

    fn fixture(reply: HttpResponse) -> (ScriptedFetch, ManualClock, ClientConfig) {
        let config = ClientConfig::new(
            "app-id",
            "http://127.0.0.1:9/tenant-1",
            Credential::client_secret("pw").unwrap(),
        )
        .unwrap();
        let fetch = ScriptedFetch {
            requests: RefCell::new(Vec::new()),
            reply,
        };
        (fetch, ManualClock(Cell::new(START_MS)), config)
    }

    #[test]
    fn second_call_is_served_from_cache_until_the_buffer() {
        let (fetch, clock, config) = fixture(HttpResponse::new(
            200,
            r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}"#,
        ));
        let client = ConfidentialClient::new(config, &fetch, &clock);
        let scopes = ScopeSet::parse(["api://x/.default"]).unwrap();

        let first = pollster::block_on(client.acquire_token_for_client(&scopes)).unwrap();
        assert!(!first.from_cache);
        assert_eq!(first.access_token.expose(), "tok-1");
        assert_eq!(first.expires_on_ms, START_MS + 3_600_000);

        clock
            .0
            .set(START_MS + 3_600_000 - DEFAULT_EXPIRY_BUFFER_MS - 1);
        let second = pollster::block_on(client.acquire_token_for_client(&scopes)).unwrap();
        assert!(second.from_cache);
        assert_eq!(second.expires_on_ms, first.expires_on_ms);
        assert_eq!(fetch.requests.borrow().len(), 1);

        clock.0.set(START_MS + 3_600_000 - DEFAULT_EXPIRY_BUFFER_MS);
        let third = pollster::block_on(client.acquire_token_for_client(&scopes)).unwrap();
        assert!(!third.from_cache);
        assert_eq!(fetch.requests.borrow().len(), 2);

        let sent = &fetch.requests.borrow()[0];
        assert_eq!(sent.url, "http://127.0.0.1:9/tenant-1/oauth2/v2.0/token");
        assert_eq!(
            sent.body,
            "client_id=app-id&scope=api%3A%2F%2Fx%2F.default&client_secret=pw&grant_type=client_credentials"
        );
    }

    #[test]
    fn scope_sets_are_cached_separately_and_clear_cache_forgets() {
        let (fetch, clock, config) = fixture(HttpResponse::new(
            200,
            r#"{"access_token":"tok","expires_in":3600}"#,
        ));
        let client = ConfidentialClient::new(config, &fetch, &clock);
        let a = ScopeSet::parse(["a/.default"]).unwrap();
        let b = ScopeSet::parse(["b/.default"]).unwrap();
        for scopes in [&a, &b, &a, &b] {
            pollster::block_on(client.acquire_token_for_client(scopes)).unwrap();
        }
        assert_eq!(fetch.requests.borrow().len(), 2);
        client.clear_cache();
        pollster::block_on(client.acquire_token_for_client(&a)).unwrap();
        assert_eq!(fetch.requests.borrow().len(), 3);
    }

    #[test]
    fn errors_are_not_cached() {
        let (fetch, clock, config) = fixture(HttpResponse::new(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
        ));
        let client = ConfidentialClient::new(config, &fetch, &clock);
        let scopes = ScopeSet::parse(["a/.default"]).unwrap();
        for _ in 0..2 {
            let error = pollster::block_on(client.acquire_token_for_client(&scopes)).unwrap_err();
            assert_eq!(error.code(), "invalid_client");
        }
        assert_eq!(fetch.requests.borrow().len(), 2);
    }

    #[test]
    fn config_rejects_bad_client_ids() {
        let secret = || Credential::client_secret("pw").unwrap();
        let error = ClientConfig::new("", "https://h/t", secret()).unwrap_err();
        assert_eq!(error.field(), Some("clientId"));
        let error = ClientConfig::new("a b", "https://h/t", secret()).unwrap_err();
        assert_eq!(error.field(), Some("clientId"));
        assert!(ClientConfig::new(&"x".repeat(257), "https://h/t", secret()).is_err());
    }
}
