//! `GET /healthz`: the version, and whether the configuration is complete (names only).

use serde_json::json;
use worker::{Env, Response, Result};

use crate::config::BrokerConfig;

/// Handles `GET /healthz`. Always 200: the body names the setting to fix (and which entry of
/// it) with fixed text; what exactly is wrong goes to the log, since anyone may ask.
pub fn handle(env: &Env) -> Result<Response> {
    let body = match BrokerConfig::from_env(env) {
        Ok(_) => json!({ "version": env!("CARGO_PKG_VERSION"), "configured": true }),
        Err(problem) => {
            problem.log();
            let mut body = json!({
                "version": env!("CARGO_PKG_VERSION"),
                "configured": false,
                "setting": problem.setting,
                "problem": problem.public(),
            });
            if let Some(index) = problem.index {
                body["index"] = json!(index);
            }
            body
        }
    };
    let mut response = Response::from_json(&body)?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}
