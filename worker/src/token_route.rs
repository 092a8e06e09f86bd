//! `POST /token`: authenticate the caller, then serve from KV or the identity provider.

use cctoken::cache::CachedToken;
use cctoken::js::{JsClock, JsFetch};
use cctoken::ports::Clock;
use cctoken::{ConfidentialClient, ErrorKind, ScopeSet};
use serde::Deserialize;
use worker::{console_error, Env, Request, Response, Result};

use crate::caller_auth::presents_key;
use crate::config::BrokerConfig;
use crate::kv_cache;
use crate::oauth_response::{oauth_error, token_response, TokenSource};

/// Request bodies are a short scope list; anything larger is refused unread.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Deserialize)]
struct TokenRequest {
    scopes: Vec<String>,
}

/// Handles `POST /token`.
pub async fn handle(mut request: Request, env: &Env) -> Result<Response> {
    let config = match BrokerConfig::from_env(env) {
        Ok(config) => config,
        Err(misconfigured) => {
            console_error!("broker misconfigured: {}", misconfigured.description);
            return oauth_error(500, "server_misconfigured", &misconfigured.description);
        }
    };
    let authorization = request.headers().get("authorization")?;
    if !presents_key(authorization.as_deref(), &config.broker_key) {
        let mut response = oauth_error(
            401,
            "invalid_client",
            "present the broker key as Authorization: Bearer <key>",
        )?;
        response
            .headers_mut()
            .set("www-authenticate", "Bearer realm=\"cctoken\"")?;
        return Ok(response);
    }
    let body = request.bytes().await?;
    if body.len() > MAX_BODY_BYTES {
        return oauth_error(413, "invalid_request", "the request body is over 16 KiB");
    }
    let scopes = match serde_json::from_slice::<TokenRequest>(&body) {
        Ok(parsed) => match ScopeSet::parse(&parsed.scopes) {
            Ok(scopes) => scopes,
            Err(error) => return oauth_error(400, "invalid_scope", error.message()),
        },
        Err(_) => {
            return oauth_error(
                400,
                "invalid_request",
                "the body must be JSON like {\"scopes\": [\"api://my-api/.default\"]}",
            )
        }
    };

    let kv = env.kv("TOKEN_CACHE")?;
    let buffer_ms = config.client.expiry_buffer_ms();
    let key = kv_cache::key_for(&config.client, &scopes).await?;
    let now_ms = JsClock.now_ms();
    if let Some(token) = kv_cache::read_fresh(&kv, &key, now_ms, buffer_ms).await {
        return token_response(
            token.access_token.expose(),
            &token.token_type,
            token.expires_on_ms,
            now_ms,
            TokenSource::Kv,
        );
    }

    let fetch = JsFetch::global().map_err(|e| worker::Error::RustError(e.to_string()))?;
    let client = ConfidentialClient::new(config.client, fetch, JsClock);
    match client.acquire_token_for_client(&scopes).await {
        Ok(result) => {
            let token = CachedToken {
                access_token: result.access_token,
                token_type: result.token_type,
                expires_on_ms: result.expires_on_ms,
            };
            let now_ms = JsClock.now_ms();
            kv_cache::write(&kv, &key, &token, now_ms, buffer_ms).await;
            token_response(
                token.access_token.expose(),
                &token.token_type,
                token.expires_on_ms,
                now_ms,
                TokenSource::Idp,
            )
        }
        Err(error) => {
            console_error!("token request failed: {error}");
            let status = match error.kind() {
                ErrorKind::Network => 503,
                _ => 502,
            };
            oauth_error(status, error.code(), error.message())
        }
    }
}
