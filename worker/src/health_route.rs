//! `GET /healthz`: the version, and whether the configuration is complete (names only).

use serde_json::json;
use worker::{Env, Response, Result};

use crate::config::BrokerConfig;

/// Handles `GET /healthz`. Always 200: the body says what is missing.
pub fn handle(env: &Env) -> Result<Response> {
    let body = match BrokerConfig::from_env(env) {
        Ok(_) => json!({ "version": env!("CARGO_PKG_VERSION"), "configured": true }),
        Err(problem) => json!({
            "version": env!("CARGO_PKG_VERSION"),
            "configured": false,
            "setting": problem.setting,
            "problem": problem.description,
        }),
    };
    let mut response = Response::from_json(&body)?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}
