//! `GET /healthz`: the version, and whether the configuration is complete (names only).

use cctoken::broker::reply::health_body;
use worker::{Env, Response, Result};

use crate::config::{log_once, BrokerConfig};

/// Handles `GET /healthz`. Always 200: the body names the setting to fix (and which entry of
/// it) with fixed text; what exactly is wrong goes to the log, since anyone may ask.
pub fn handle(env: &Env) -> Result<Response> {
    let problem = BrokerConfig::from_env(env).err();
    if let Some(problem) = &problem {
        log_once(problem);
    }
    let body = health_body(env!("CARGO_PKG_VERSION"), problem.as_ref());
    let mut response = Response::from_json(&body)?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}
