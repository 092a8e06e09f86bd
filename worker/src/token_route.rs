//! `POST /token`: authenticate the caller, then serve from KV or the identity provider
//! through the core client.

use std::rc::Rc;

use cctoken::cache::TokenStore;
use cctoken::js::{JsFetch, JsHost};
use cctoken::{ConfidentialClient, ErrorKind, TokenRequest, TokenSource};
use serde::Deserialize;
use worker::{console_error, Env, Request, Response, Result};

use crate::caller_auth::presents_key;
use crate::config::BrokerConfig;
use crate::kv_cache::KvTokenStore;
use crate::oauth_response::{oauth_error, token_response, TokenOrigin};

/// Request bodies are a short scope list; anything larger is refused unread.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Deserialize)]
struct TokenRequestBody {
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
    let Ok(parsed) = serde_json::from_slice::<TokenRequestBody>(&body) else {
        return oauth_error(
            400,
            "invalid_request",
            "the body must be JSON like {\"scopes\": [\"api://my-api/.default\"]}",
        );
    };

    let fetch = JsFetch::global().map_err(|e| worker::Error::RustError(e.to_string()))?;
    let store: Rc<dyn TokenStore> = Rc::new(KvTokenStore::new(
        env.kv("TOKEN_CACHE")?,
        config.client.expiry_buffer_ms(),
    ));
    let client = ConfidentialClient::with_store(config.client, JsHost::new(fetch), Some(store));
    let scopes = match client.scopes(&parsed.scopes) {
        Ok(scopes) => scopes,
        Err(error) => return oauth_error(400, "invalid_scope", &describe(&error)),
    };
    match client
        .acquire_token_for_client(TokenRequest::new(scopes))
        .await
    {
        Ok(result) => {
            let origin = match result.source {
                TokenSource::IdentityProvider => TokenOrigin::Idp,
                TokenSource::Store | TokenSource::Memory => TokenOrigin::Kv,
            };
            token_response(
                result.access_token.expose(),
                &result.token_type,
                result.expires_on_ms,
                js_sys::Date::now() as u64,
                origin,
            )
        }
        Err(error) => {
            console_error!("token request failed: {error}");
            let status = match error.kind() {
                ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Throttled => 503,
                _ => 502,
            };
            oauth_error(status, error.code(), &describe(&error))
        }
    }
}

/// The error's message and, when it has one, its hint.
fn describe(error: &cctoken::Error) -> String {
    match error.hint() {
        Some(hint) => format!("{} (hint: {hint})", error.message()),
        None => error.message().to_owned(),
    }
}
