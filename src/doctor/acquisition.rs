//! The token check: a failed acquisition as the CLI prints it today (`cctoken token`'s
//! `report`: the error, then AADSTS numbers, correlation id, trace id and retry-after on lines
//! of their own), with the exit class that command would use.

use super::finding::{CheckId, ExitClass, Finding};
use super::time::human_duration;
use crate::error::{Error, ErrorKind};

/// The exit class of an error, as `cctoken token` decides it: local problems (configuration,
/// authority, scope, key) are 2, [transient](Error::is_transient) ones 4, the rest (the
/// provider refused or answered something unusable) 3.
pub fn exit_class(error: &Error) -> ExitClass {
    match error.kind() {
        ErrorKind::InvalidConfig
        | ErrorKind::InvalidAuthority
        | ErrorKind::InvalidScope
        | ErrorKind::Crypto => ExitClass::Configuration,
        _ if error.is_transient() => ExitClass::Transient,
        _ => ExitClass::Refused,
    }
}

/// A token was acquired: `expires_in_ms` from now.
pub fn token_acquired(scope: &str, expires_in_ms: u64) -> Finding {
    Finding::ok(
        CheckId::Token,
        format!(
            "token acquired for {} (expires in {})",
            super::finding::printable(scope, 200),
            human_duration(expires_in_ms)
        ),
    )
}

/// A failed acquisition as a ✗: the summary is the error as the CLI prints it (code, message,
/// hint), the details its AADSTS numbers, correlation id, trace id and retry-after; the fix is
/// the hint, or what its class suggests when there is none. Errors never hold secrets
/// ([`crate::error`]), so all of it may be shown.
pub fn check_token_error(error: &Error) -> Finding {
    let class = exit_class(error);
    let mut details = Vec::new();
    if let Some(idp) = error.idp_details() {
        if !idp.aadsts.is_empty() {
            let codes: Vec<String> = idp.aadsts.iter().map(i64::to_string).collect();
            details.push(format!("AADSTS: {}", codes.join(", ")));
        }
    }
    if let Some(id) = error.correlation_id() {
        details.push(format!("correlation id: {id}"));
    }
    if let Some(trace) = error.idp_details().and_then(|idp| idp.trace_id.as_deref()) {
        details.push(format!("trace id: {trace}"));
    }
    if let Some(ms) = error.retry_after_ms() {
        details.push(format!("retry after: {} s", ms.div_ceil(1000)));
    }
    let fix = match (error.hint(), class) {
        (Some(hint), _) => hint.to_owned(),
        (None, ExitClass::Configuration) => "fix the setting the message names".to_owned(),
        (None, ExitClass::Transient) => "try again later: nothing needs to change on this side".to_owned(),
        (None, ExitClass::Refused) => "the identity provider refused: its message says why; give Microsoft support the correlation id if it does not".to_owned(),
    };
    Finding::fail(
        CheckId::Token,
        class,
        format!("no token: {}: {}", error.code(), error.message()),
        fix,
    )
    .with_details(details)
}
