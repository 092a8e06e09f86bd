//! Core errors as JS `Error` objects with machine-readable properties.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::host_bridge::ClientCredentialError;
use super::object::set;
use crate::error::Error;

/// A `ClientCredentialError` (the one class, from `host_bridge.mjs`) with `code`, `transient`
/// ([`Error::is_transient`]: trying again later may succeed) and, where known, `field`,
/// `hint`, `status`, `aadsts`, `description`, `correlationId`, `traceId`, `timestamp` and
/// `retryAfter` (ms). The message never holds secrets (see [`crate::error`]).
pub fn to_js_error(error: &Error) -> JsValue {
    let js_error = ClientCredentialError::new(&error.to_string());
    let target: &JsValue = js_error.as_ref();
    set(target, "code", &error.code().into());
    set(target, "transient", &error.is_transient().into());
    if let Some(field) = error.field() {
        set(target, "field", &field.into());
    }
    if let Some(hint) = error.hint() {
        set(target, "hint", &hint.into());
    }
    if let Some(correlation_id) = error.correlation_id() {
        set(target, "correlationId", &correlation_id.into());
    }
    if let Some(retry_after_ms) = error.retry_after_ms() {
        set(
            target,
            "retryAfter",
            &JsValue::from_f64(retry_after_ms as f64),
        );
    }
    if let Some(details) = error.idp_details() {
        set(target, "status", &details.status.into());
        let codes: Array = details
            .aadsts
            .iter()
            .map(|code| JsValue::from_f64(*code as f64))
            .collect();
        set(target, "aadsts", &codes);
        for (key, value) in [
            ("description", &details.description),
            ("traceId", &details.trace_id),
            ("timestamp", &details.timestamp),
        ] {
            if let Some(value) = value {
                set(target, key, &value.into());
            }
        }
    }
    js_error.into()
}

/// The `ClientCredentialError` class, which the package's entries export: the errors
/// [`to_js_error`] makes are its instances.
#[cfg(feature = "npm")]
#[wasm_bindgen(js_name = clientCredentialErrorClass)]
pub fn client_credential_error_class() -> JsValue {
    super::host_bridge::ERROR_CLASS.with(JsValue::clone)
}
