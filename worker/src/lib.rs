//! cctoken token broker: a Cloudflare Worker that holds the app's credential as Worker
//! secrets, authenticates its callers and shares tokens through Workers KV.
//!
//! This crate is an adapter: routing, caller authentication and KV. Requests to the
//! identity provider, response parsing and the freshness rule all come from the core.

mod caller_auth;
mod config;
mod digest;
mod kv_cache;
mod oauth_response;
mod token_route;

use worker::{event, Context, Env, Method, Request, Response, Result};

use oauth_response::oauth_error;

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    match (request.method(), request.path().as_str()) {
        (Method::Post, "/token") => token_route::handle(request, &env).await,
        (_, "/token") => {
            let mut response = oauth_error(405, "invalid_request", "use POST for /token")?;
            response.headers_mut().set("allow", "POST")?;
            Ok(response)
        }
        _ => oauth_error(
            404,
            "not_found",
            "unknown path: the broker serves POST /token",
        ),
    }
}
