//! `POST /token`: authenticate the caller, check its budget and grants, then serve from
//! isolate memory, KV or the identity provider through the core client.

use std::rc::Rc;

use cctoken::js::webcrypto::sha256;
use cctoken::received_token_request::{parse, BadBody, Presented, Refusal, MAX_BODY_BYTES};
use cctoken::TokenRequest;
use worker::{console_error, Env, Request, Response, Result};

use crate::callers::Caller;
use crate::oauth_response::{acquisition_failed, describe, oauth_error, token_response};
use crate::request_body::read_capped;
use crate::state::{broker, Broker, InRequest, RequestScope};

/// Handles `POST /token`. Background work it starts (a fetch, a refresh) belongs to `scope`.
pub async fn handle(mut request: Request, env: &Env, scope: &Rc<RequestScope>) -> Result<Response> {
    let broker = match broker(env) {
        Ok(broker) => broker,
        Err(misconfigured) => {
            misconfigured.log();
            return oauth_error(
                500,
                "server_misconfigured",
                &format!("{}: {}", misconfigured.name(), misconfigured.public()),
            );
        }
    };
    let content_type = request.headers().get("content-type")?;
    let authorization = request.headers().get("authorization")?;
    let Ok(body) = read_capped(&mut request, MAX_BODY_BYTES).await? else {
        return too_large();
    };
    let parsed = match parse(content_type.as_deref(), authorization.as_deref(), &body) {
        Ok(parsed) => parsed,
        Err(Refusal::TooLarge) => return too_large(),
        Err(Refusal::UnsupportedMediaType) => {
            return oauth_error(415, "invalid_request", "send application/json ({\"scopes\": [...]}) or an application/x-www-form-urlencoded OAuth2 client-credentials request")
        }
    };
    let Some(caller) = authenticate(&broker, &parsed.presented).await else {
        let mut response = oauth_error(401, "invalid_client", "present a broker key: Authorization: Bearer <key> with JSON, or client_id/client_secret (body or HTTP Basic) with the OAuth2 form")?;
        response.headers_mut().set(
            "www-authenticate",
            "Bearer realm=\"cctoken\", Basic realm=\"cctoken\"",
        )?;
        return Ok(response);
    };
    let now_ms = js_sys::Date::now() as u64;
    let taken =
        broker
            .budgets
            .borrow_mut()
            .take_request(&caller.id, caller.rate_per_minute, now_ms);
    if let Err(retry_after_s) = taken {
        return slow_down(
            &format!(
                "caller {} is over its budget of {} requests per minute",
                caller.id, caller.rate_per_minute
            ),
            retry_after_s,
        );
    }
    let wanted = match parsed.wanted {
        Ok(wanted) => wanted,
        Err(BadBody::Invalid(why)) => return oauth_error(400, "invalid_request", why),
        Err(BadBody::UnsupportedGrantType) => {
            return oauth_error(
                400,
                "unsupported_grant_type",
                "the broker serves grant_type=client_credentials",
            )
        }
    };
    let scopes = match broker.client.scopes(&wanted.scopes) {
        Ok(scopes) => scopes,
        Err(error) => return oauth_error(400, "invalid_scope", &describe(&error)),
    };
    if !caller.may_request(&scopes) {
        return oauth_error(
            403,
            "invalid_scope",
            &format!(
                "caller {} is not granted {}",
                caller.id,
                scopes.to_request_param()
            ),
        );
    }
    if wanted.force_refresh {
        let taken = broker.budgets.borrow_mut().take_forced_refresh(
            &caller.id,
            caller.force_refresh_per_minute,
            js_sys::Date::now() as u64,
        );
        if let Err(retry_after_s) = taken {
            return slow_down(
                &format!(
                    "caller {} is over its budget of {} forced refreshes per minute; requests without forceRefresh are still served",
                    caller.id, caller.force_refresh_per_minute
                ),
                retry_after_s,
            );
        }
    }
    let token_request = TokenRequest {
        force_refresh: wanted.force_refresh,
        ..TokenRequest::new(scopes)
    };
    // Run as this request, so background work the client starts (a fetch, a refresh) goes to
    // this request's `waitUntil`. Concurrent requests share one fetch through the client's
    // single-flight, each resuming in its own request context.
    match InRequest::new(
        Rc::clone(scope),
        broker.client.acquire_token_for_client(token_request),
    )
    .await
    {
        Ok(token) => token_response(&token, js_sys::Date::now() as u64),
        Err(error) => {
            console_error!(
                "token request failed: {}: {}",
                error.code(),
                describe(&error)
            );
            acquisition_failed(&error)
        }
    }
}

fn too_large() -> Result<Response> {
    oauth_error(413, "invalid_request", "the request body is over 16 KiB")
}

/// 429 with the seconds until the budget allows another request.
fn slow_down(description: &str, retry_after_s: u64) -> Result<Response> {
    let mut response = oauth_error(429, "slow_down", description)?;
    response
        .headers_mut()
        .set("retry-after", &retry_after_s.to_string())?;
    Ok(response)
}

/// The caller whose key was presented. The key is hashed and compared with every configured
/// hash in constant time.
async fn authenticate<'a>(broker: &'a Broker, presented: &Presented) -> Option<&'a Caller> {
    match presented {
        Presented::Basic(readings) => {
            // Every usable reading is hashed and compared with every configured hash, whether
            // or not another matched, so neither the answer nor the work done says which
            // reading failed.
            let mut found = [None, None];
            for (slot, reading) in found
                .iter_mut()
                .zip([&readings.form_decoded, &readings.raw])
            {
                if let Some((id, key)) = reading {
                    let hash = sha256(key.expose().as_bytes()).await.ok()?;
                    *slot = broker.callers.by_id_and_key(id, &hash);
                }
            }
            match found {
                // Each reading opens a different caller: neither is meant, so none is taken.
                [Some(decoded), Some(raw)] if decoded.id != raw.id => None,
                [Some(caller), _] | [None, Some(caller)] => Some(caller),
                [None, None] => None,
            }
        }
        Presented::Key(key) => {
            let hash = sha256(key.expose().as_bytes()).await.ok()?;
            broker.callers.by_key(&hash)
        }
        Presented::IdAndKey(id, key) => {
            let hash = sha256(key.expose().as_bytes()).await.ok()?;
            broker.callers.by_id_and_key(id, &hash)
        }
        Presented::Nothing => None,
    }
}
