//! Core errors as JS `Error` objects with machine-readable properties.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::error::Error;

/// A JS `Error` named `ClientCredentialError` with `code`, and where known `field`,
/// `status`, `errorCodes`, `traceId`, `correlationId`. The message never holds secrets
/// (see [`crate::error`]).
pub fn to_js_error(error: &Error) -> JsValue {
    let js_error = js_sys::Error::new(&error.to_string());
    js_error.set_name("ClientCredentialError");
    let target: &Object = js_error.as_ref();
    set(target, "code", &error.code().into());
    if let Some(field) = error.field() {
        set(target, "field", &field.into());
    }
    if let Some(details) = error.idp_details() {
        set(target, "status", &details.status.into());
        let codes: Array = details
            .error_codes
            .iter()
            .map(|code| JsValue::from_f64(*code as f64))
            .collect();
        set(target, "errorCodes", &codes);
        if let Some(trace_id) = &details.trace_id {
            set(target, "traceId", &trace_id.into());
        }
        if let Some(correlation_id) = &details.correlation_id {
            set(target, "correlationId", &correlation_id.into());
        }
    }
    js_error.into()
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a plain data property on a fresh Error cannot fail; there is nothing useful to
    // do if a frozen prototype made it fail, so the error is still thrown without it.
    let _ = Reflect::set(target, &key.into(), value);
}
