//! cctoken token broker: a Cloudflare Worker that holds the app's credential as Worker
//! secrets, authenticates its callers, and shares tokens through isolate memory and
//! encrypted Workers KV, so a fleet makes one identity-provider request per scope set.
//!
//! Across isolates and locations, one Durable Object class ([`Coordinator`]) makes the fleet
//! one broker: a coordinator per token acquires it once and keeps it warm, a ledger per
//! caller holds its budgets, a counter per address throttles failed authentications.
//!
//! This crate is the I/O around the core's decisions: routing, reading `Env`, KV, WebCrypto,
//! Durable Objects, requests and responses. Requests to the identity provider, caching rules, single-flight
//! and refresh come from the core's client; the broker's own rules (callers and their keys,
//! budgets, settings, replies, KV entries) from its `broker` module.

mod address_guard;
mod audit_log;
mod budget_check;
mod config;
mod coordinator_object;
mod fleet;
mod health_route;
mod kv_cache;
mod kv_crypto;
mod oauth_response;
mod request_body;
mod state;
mod token_coordinator;
mod token_route;

pub use coordinator_object::Coordinator;

use worker::{event, Context, Env, Method, Request, Response, Result};

use oauth_response::oauth_error;

#[event(fetch)]
async fn fetch(request: Request, env: Env, context: Context) -> Result<Response> {
    match (request.method(), request.path().as_str()) {
        (Method::Post, "/token") => {
            let scope = state::RequestScope::new(context, request.headers().get("cf-ray")?);
            token_route::handle(request, &env, &scope).await
        }
        (Method::Get, "/healthz") => health_route::handle(&env),
        (_, "/token") => method_not_allowed("POST"),
        (_, "/healthz") => method_not_allowed("GET"),
        _ => oauth_error(
            404,
            "not_found",
            "unknown path: the broker serves POST /token and GET /healthz",
        ),
    }
}

fn method_not_allowed(allowed: &str) -> Result<Response> {
    let mut response = oauth_error(405, "invalid_request", &format!("use {allowed}"))?;
    response.headers_mut().set("allow", allowed)?;
    Ok(response)
}
