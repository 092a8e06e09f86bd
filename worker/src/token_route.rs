//! `POST /token`: authenticate the caller, check its budget and grants, then serve from
//! isolate memory, KV or the identity provider through the core client.

use std::rc::Rc;

use cctoken::broker::admission::admit;
use cctoken::broker::received_token_request::{parse, Refusal, MAX_BODY_BYTES};
use cctoken::broker::reply::{describe, ErrorReply};
use cctoken::js::webcrypto::sha256;
use worker::{console_error, Env, Request, Response, Result};

use crate::config::log_once;
use crate::oauth_response::{error_reply, oauth_error, token_response};
use crate::request_body::read_capped;
use crate::state::{broker, in_request, InRequest, RequestScope};

/// Handles `POST /token`. Background work it starts (a fetch, a refresh) belongs to `scope`.
pub async fn handle(mut request: Request, env: &Env, scope: &Rc<RequestScope>) -> Result<Response> {
    let broker = match broker(env) {
        Ok(broker) => broker,
        Err(misconfigured) => {
            log_once(&misconfigured);
            return error_reply(ErrorReply::from(&misconfigured));
        }
    };
    let content_type = request.headers().get("content-type")?;
    let authorization = request.headers().get("authorization")?;
    let Ok(body) = read_capped(&mut request, MAX_BODY_BYTES).await? else {
        return error_reply(Refusal::TooLarge.into());
    };
    let parsed = match parse(content_type.as_deref(), authorization.as_deref(), &body) {
        Ok(parsed) => parsed,
        Err(refusal) => return error_reply(refusal.into()),
    };
    // The key is hashed and compared with every configured hash in constant time.
    let caller = broker
        .callers
        .authenticate(&parsed.presented, |key| {
            Box::pin(async move { sha256(key).await.ok() })
        })
        .await;
    let Some(caller) = caller else {
        let mut response = oauth_error(401, "invalid_client", "present a broker key: Authorization: Bearer <key> with JSON, or client_id/client_secret (body or HTTP Basic) with the OAuth2 form")?;
        response.headers_mut().set(
            "www-authenticate",
            "Bearer realm=\"cctoken\", Basic realm=\"cctoken\"",
        )?;
        return Ok(response);
    };
    let admitted = admit(
        caller,
        &mut broker.budgets.borrow_mut(),
        parsed.wanted,
        |scopes| broker.client.scopes(scopes),
        js_sys::Date::now() as u64,
    );
    let token_request = match admitted {
        Ok(token_request) => token_request,
        Err(refusal) => return error_reply(refusal),
    };
    // A memory hit is answered here, synchronously: no future, task or signal for the
    // broker's most common answer (a refresh it may start still belongs to this request).
    if let Some(hit) = in_request(scope, || broker.client.acquire_from_memory(&token_request)) {
        return token_response(&hit, js_sys::Date::now() as u64);
    }
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
            error_reply(ErrorReply::acquisition_failed(&error))
        }
    }
}
