//! `GET /healthz`: the version, whether the configuration is complete (names only), and
//! whether fleet coordination is on.

use cctoken::broker::reply::health_body;
use worker::{Env, Response, Result};

use crate::config::{log_once, BrokerConfig};
use crate::fleet::coordination_status;

/// Handles `GET /healthz`. Always 200: the body names the setting to fix (and which entry of
/// it) with fixed text; what exactly is wrong goes to the log, since anyone may ask.
pub fn handle(env: &Env) -> Result<Response> {
    let problem = BrokerConfig::from_env(env).err();
    if let Some(problem) = &problem {
        log_once(problem);
    }
    let mut body = health_body(env!("CARGO_PKG_VERSION"), problem.as_ref());
    body["coordination"] = coordination_status(env).into();
    let mut response = Response::from_json(&body)?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}
