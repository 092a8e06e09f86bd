//! `POST /token`: throttle failing addresses, authenticate the caller, check its budget and
//! grants, then serve from isolate memory, KV, the fleet's coordinator or the identity
//! provider through the core client. Every request leaves one audit record.

use std::rc::Rc;

use cctoken::assertion::uuid_v4;
use cctoken::authority::RequestAuthority;
use cctoken::broker::address_throttle::{address_key, throttled_reply};
use cctoken::broker::admission::admit;
use cctoken::broker::audit::{correlation_id_from_header, tier_of, AuditRecord, Tier};
use cctoken::broker::budget_lease::{over_budget_reply, Budget};
use cctoken::broker::received_token_request::{parse, Refusal, MAX_BODY_BYTES};
use cctoken::broker::reply::{describe, ErrorReply};
use cctoken::js::webcrypto::sha256;
use worker::{console_error, Env, Request, Response, Result};

use crate::audit_log;
use crate::config::log_once;
use crate::oauth_response::{error_reply, oauth_error, token_response};
use crate::request_body::read_capped;
use crate::state::{broker, in_request, Broker, InRequest, RequestScope};

/// What the audit record says about a request, filled in as it is known.
#[derive(Default)]
struct Outcome {
    caller: Option<String>,
    scopes: Option<Vec<String>>,
    tier: Option<Tier>,
    tenant: Option<String>,
}

/// Handles `POST /token`. Background work it starts (a fetch, a refresh) belongs to `scope`.
pub async fn handle(request: Request, env: &Env, scope: &Rc<RequestScope>) -> Result<Response> {
    let started_ms = js_sys::Date::now();
    let correlation_id =
        match correlation_id_from_header(request.headers().get("client-request-id")?.as_deref()) {
            Some(id) => id,
            None => uuid_v4().map_err(|e| worker::Error::RustError(e.message().to_owned()))?,
        };
    let mut outcome = Outcome::default();
    // Every request leaves its audit line, also one the runtime failed under.
    let mut response = match serve(request, env, scope, &correlation_id, &mut outcome).await {
        Ok(response) => response,
        Err(error) => {
            console_error!("the broker could not serve a /token request: {error}");
            oauth_error(
                500,
                "server_error",
                "the broker could not serve the request; try again",
            )?
        }
    };
    response
        .headers_mut()
        .set("client-request-id", &correlation_id)?;
    audit_log::emit(
        env,
        &AuditRecord {
            time_ms: started_ms as u64,
            caller: outcome.caller,
            scopes: outcome.scopes,
            tier: outcome.tier,
            status: response.status_code(),
            duration_ms: (js_sys::Date::now() - started_ms).max(0.0) as u64,
            correlation_id,
            cf_ray: scope.ray().map(str::to_owned),
            tenant: outcome.tenant,
        },
    );
    Ok(response)
}

async fn serve(
    mut request: Request,
    env: &Env,
    scope: &Rc<RequestScope>,
    correlation_id: &str,
    outcome: &mut Outcome,
) -> Result<Response> {
    let broker = match broker(env) {
        Ok(broker) => broker,
        Err(misconfigured) => {
            log_once(&misconfigured);
            return error_reply(ErrorReply::from(&misconfigured));
        }
    };
    // Before any key is checked, so a blocked address learns nothing from its guesses.
    let address = address_key(request.headers().get("cf-connecting-ip")?.as_deref());
    if let Some(retry_after_s) = address.as_deref().and_then(|a| broker.guard.blocked(a)) {
        return error_reply(throttled_reply(retry_after_s));
    }
    let content_type = request.headers().get("content-type")?;
    let authorization = request.headers().get("authorization")?;
    let Ok(body) = read_capped(&mut request, MAX_BODY_BYTES).await? else {
        return error_reply(Refusal::TooLarge.into());
    };
    let parsed = match parse(content_type.as_deref(), authorization.as_deref(), &body) {
        Ok(parsed) => parsed,
        Err(refusal) => return error_reply(refusal.into()),
    };
    let check = match address.as_deref().map(|a| broker.guard.begin_check(a)) {
        Some(Err(retry_after_s)) => return error_reply(throttled_reply(retry_after_s)),
        Some(Ok(check)) => Some(check),
        None => None,
    };
    // The key is hashed and compared with every configured hash in constant time.
    let caller = broker
        .callers
        .authenticate(&parsed.presented, |key| {
            Box::pin(async move { sha256(key).await.ok() })
        })
        .await;
    let Some(caller) = caller else {
        if let Some(address) = &address {
            let fleet = broker.fleet.as_ref();
            if let Some(retry_after_s) = broker.guard.failed(fleet, address).await {
                return error_reply(throttled_reply(retry_after_s));
            }
        }
        let mut response = oauth_error(401, "invalid_client", "present a broker key: Authorization: Bearer <key> with JSON, or client_id/client_secret (body or HTTP Basic) with the OAuth2 form")?;
        response.headers_mut().set(
            "www-authenticate",
            "Bearer realm=\"cctoken\", Basic realm=\"cctoken\"",
        )?;
        return Ok(response);
    };
    drop(check);
    outcome.caller = Some(caller.id.clone());
    if let Err(retry_after_s) = take(
        &broker,
        &caller.id,
        Budget::Requests,
        caller.rate_per_minute,
    )
    .await
    {
        return error_reply(over_budget_reply(
            &caller.id,
            Budget::Requests,
            caller.rate_per_minute,
            retry_after_s,
        ));
    }
    let mut token_request = match admit(
        caller,
        parsed.wanted,
        |scopes| broker.client.scopes(scopes),
        broker.client.config().token_endpoint().tenant(),
    ) {
        Ok(token_request) => token_request,
        Err(refusal) => return error_reply(refusal),
    };
    outcome.scopes = Some(token_request.scopes.iter().map(str::to_owned).collect());
    if let Some(RequestAuthority::Tenant(tenant)) = &token_request.authority {
        outcome.tenant = Some(tenant.clone());
    }
    if token_request.force_refresh {
        let per_minute = caller.force_refresh_per_minute;
        if let Err(retry_after_s) =
            take(&broker, &caller.id, Budget::ForcedRefreshes, per_minute).await
        {
            return error_reply(over_budget_reply(
                &caller.id,
                Budget::ForcedRefreshes,
                per_minute,
                retry_after_s,
            ));
        }
    }
    token_request
        .correlation_id
        .get_or_insert_with(|| correlation_id.to_owned());
    // A memory hit is answered here, synchronously: no future, task or signal for the
    // broker's most common answer (a refresh it may start still belongs to this request).
    if let Some(hit) = in_request(scope, || broker.client.acquire_from_memory(&token_request)) {
        outcome.tier = Some(tier_of(hit.source));
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
        Ok(token) => {
            outcome.tier = Some(tier_of(token.source));
            token_response(&token, js_sys::Date::now() as u64)
        }
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

async fn take(
    broker: &Broker,
    caller: &str,
    budget: Budget,
    per_minute: u32,
) -> std::result::Result<(), u64> {
    broker
        .budgets
        .take(broker.fleet.as_ref(), caller, budget, per_minute)
        .await
}
