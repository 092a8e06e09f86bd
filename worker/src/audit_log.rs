//! The audit trail: one JSON line per `/token` request in the Worker's log and, when an
//! Analytics Engine dataset is bound as `AUDIT`, one data point with the same fields. The
//! record is built by the core ([`AuditRecord`]) and holds no key, token or secret.

use cctoken::broker::audit::AuditRecord;
use cctoken::js::object::{call, object};
use js_sys::Array;
use wasm_bindgen::JsValue;
use worker::{console_error, console_log, Env};

/// The optional Analytics Engine binding.
const DATASET: &str = "AUDIT";

/// Logs `record` and writes its data point when a dataset is bound.
pub fn emit(env: &Env, record: &AuditRecord) {
    console_log!("{}", record.to_log_line());
    let dataset = js_sys::Reflect::get(env, &DATASET.into()).unwrap_or(JsValue::UNDEFINED);
    if dataset.is_undefined() || dataset.is_null() {
        return;
    }
    let point = record.data_point();
    let strings = |values: &[String]| -> JsValue {
        values
            .iter()
            .map(|v| JsValue::from_str(v))
            .collect::<Array>()
            .into()
    };
    let doubles: Array = point
        .doubles
        .iter()
        .map(|d| JsValue::from_f64(*d))
        .collect();
    let data_point = object(&[
        ("blobs", strings(&point.blobs)),
        ("doubles", doubles.into()),
        ("indexes", strings(&point.indexes)),
    ]);
    // Analytics are best effort: a failed write must not fail the request it describes.
    if call(&dataset, "writeDataPoint", &[data_point.into()]).is_err() {
        console_error!("the AUDIT Analytics Engine dataset refused a data point; the log line above has the same fields");
    }
}
