//! cctoken's sans-IO core with JS driving the I/O: JS sends the request and reads the reply
//! (as the npm module's host bridge does); the core builds the request and parses the reply in
//! two synchronous calls, and caches the token. No future, task, timer or flight in wasm: what
//! a cold acquire costs when the only work left in wasm is the protocol itself.
use cctoken::assertion::uuid_v4;
use cctoken::cache::{CachedToken, TokenCache, DEFAULT_CACHE_CAPACITY, DEFAULT_EXPIRY_BUFFER_MS};
use cctoken::credential::ResolvedCredential;
use cctoken::js::header_lines;
use cctoken::ports::HttpResponse;
use cctoken::request::{build_token_request, TokenRequestParts};
use cctoken::response::parse_token_response;
use cctoken::troubleshooting::HintContext;
use cctoken::{ClientSecret, TokenEndpoint};
use js_sys::Array;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

const ATTEMPT_TIMEOUT_MS: u64 = 30_000;

fn message(error: cctoken::Error) -> JsValue {
    JsValue::from_str(error.message())
}

/// A client-secret client whose caller does the fetching.
#[wasm_bindgen]
pub struct SansIoClient {
    client_id: String,
    endpoint: TokenEndpoint,
    secret: ClientSecret,
    cache: RefCell<TokenCache>,
}

#[wasm_bindgen]
impl SansIoClient {
    /// A client for `authority` with a client secret.
    #[wasm_bindgen(constructor)]
    pub fn new(client_id: &str, authority: &str, secret: &str) -> Result<SansIoClient, JsValue> {
        Ok(SansIoClient {
            client_id: client_id.to_owned(),
            endpoint: TokenEndpoint::from_authority(authority).map_err(message)?,
            secret: ClientSecret::new(secret.to_owned()),
            cache: RefCell::new(TokenCache::new(
                DEFAULT_EXPIRY_BUFFER_MS,
                DEFAULT_CACHE_CAPACITY,
            )),
        })
    }

    /// The request for `scope`: `[url, headerLines, body, correlationId, sentAtMs]`.
    pub fn begin(&self, scope: &str) -> Result<Array, JsValue> {
        let scopes =
            cctoken::ScopeSet::parse([scope], self.endpoint.scope_rules()).map_err(message)?;
        let correlation_id = uuid_v4().map_err(message)?;
        let request = build_token_request(TokenRequestParts {
            endpoint: &self.endpoint,
            client_id: &self.client_id,
            scopes: &scopes,
            credential: &ResolvedCredential::SecretPost(self.secret.clone()),
            claims: None,
            extra_body: &[],
            correlation_id: &correlation_id,
            timeout_ms: ATTEMPT_TIMEOUT_MS,
        });
        let lines = header_lines::encode(&request.headers).map_err(message)?;
        Ok(Array::of5(
            &request.url.into(),
            &lines.into(),
            &request.body.into(),
            &correlation_id.into(),
            &js_sys::Date::now().into(),
        ))
    }

    /// Parses the reply to [`Self::begin`]'s request and caches the token:
    /// `[accessToken, tokenType, expiresOnMs]`.
    pub fn finish(
        &self,
        scope: &str,
        sent_at_ms: f64,
        status: u16,
        header_lines: &str,
        body: &[u8],
    ) -> Result<Array, JsValue> {
        let response =
            HttpResponse::from_bytes(status, header_lines::decode(header_lines), body.to_vec());
        let context = HintContext {
            authority_host: self.endpoint.authority_host(),
            tenant: self.endpoint.tenant(),
            client_id: &self.client_id,
            secret: Some(&self.secret),
        };
        let now_ms = js_sys::Date::now() as u64;
        let reply = parse_token_response(&response, &context, now_ms).map_err(message)?;
        let token = CachedToken::issued(
            reply.access_token,
            reply.token_type,
            sent_at_ms as u64,
            reply.expires_in_s,
            reply.ext_expires_in_s,
            reply.refresh_in_s,
        );
        let answer = Array::of3(
            &token.access_token.expose().into(),
            &token.token_type.as_str().into(),
            &(token.expires_on_ms as f64).into(),
        );
        self.cache.borrow_mut().put(scope, token, now_ms);
        Ok(answer)
    }
}
