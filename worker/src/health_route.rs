//! `GET /healthz`: the version, and whether the configuration is complete (names only).

use std::cell::RefCell;

use serde_json::json;
use worker::{console_error, Env, Response, Result};

use crate::config::BrokerConfig;

thread_local! {
    static LAST_LOGGED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Logs a misconfiguration once per isolate while it stays the same: anyone may ask
/// `/healthz`, and each ask must not add a line to the operator's log.
fn log_once(line: String) {
    LAST_LOGGED.with(|last| {
        let mut last = last.borrow_mut();
        if last.as_deref() != Some(line.as_str()) {
            console_error!("{line}");
            *last = Some(line);
        }
    });
}

/// Handles `GET /healthz`. Always 200: the body names the setting to fix (and which entry of
/// it) with fixed text; what exactly is wrong goes to the log, since anyone may ask.
pub fn handle(env: &Env) -> Result<Response> {
    let body = match BrokerConfig::from_env(env) {
        Ok(_) => json!({ "version": env!("CARGO_PKG_VERSION"), "configured": true }),
        Err(problem) => {
            log_once(problem.log_line());
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
