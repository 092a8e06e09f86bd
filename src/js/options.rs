//! Reading options objects passed from JavaScript, with errors that name the field.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::error::Error;

/// The property `key` of `object`; `undefined` when `object` is not an object.
pub fn property(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// True for `undefined` and `null`.
pub fn is_absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// `value` as an object, or an error saying `field` must be one.
pub fn require_object(
    value: JsValue,
    field: &'static str,
    example: &str,
) -> Result<JsValue, Error> {
    if value.is_object() && !Array::is_array(&value) && !value.is_function() {
        Ok(value)
    } else {
        Err(Error::invalid_config(
            field,
            format!("{field} must be an object, e.g. {example}"),
        ))
    }
}

/// A required string, or an error naming `field` and saying what to put there.
pub fn require_string(value: &JsValue, field: &'static str, hint: &str) -> Result<String, Error> {
    if is_absent(value) {
        return Err(Error::invalid_config(
            field,
            format!("{field} is required: {hint}"),
        ));
    }
    value
        .as_string()
        .ok_or_else(|| Error::invalid_config(field, format!("{field} must be a string: {hint}")))
}

/// An optional string.
pub fn optional_string(value: &JsValue, field: &'static str) -> Result<Option<String>, Error> {
    if is_absent(value) {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| Error::invalid_config(field, format!("{field} must be a string")))
}

/// An optional boolean (default false).
pub fn optional_bool(value: &JsValue, field: &'static str) -> Result<bool, Error> {
    if is_absent(value) {
        return Ok(false);
    }
    value
        .as_bool()
        .ok_or_else(|| Error::invalid_config(field, format!("{field} must be true or false")))
}

/// An optional non-negative whole number, at most `max`.
pub fn optional_count(
    value: &JsValue,
    field: &'static str,
    max: u64,
) -> Result<Option<u64>, Error> {
    if is_absent(value) {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= max as f64 => {
            Ok(Some(n as u64))
        }
        _ => Err(Error::invalid_config(
            field,
            format!("{field} must be a whole number from 0 to {max}"),
        )),
    }
}

/// A plain object of string values, as name/value pairs in property order.
pub fn optional_string_map(
    value: &JsValue,
    field: &'static str,
) -> Result<Vec<(String, String)>, Error> {
    if is_absent(value) {
        return Ok(Vec::new());
    }
    let object = require_object(value.clone(), field, "{ name: \"value\" }")?;
    Object::entries(&Object::from(object))
        .iter()
        .map(|entry| {
            let pair = Array::from(&entry);
            match (pair.get(0).as_string(), pair.get(1).as_string()) {
                (Some(name), Some(value)) => Ok((name, value)),
                _ => Err(Error::invalid_config(
                    field,
                    format!("{field} values must be strings"),
                )),
            }
        })
        .collect()
}

/// An array of strings (e.g. scopes); `field` names it in errors.
pub fn require_string_array(value: &JsValue, field: &'static str) -> Result<Vec<String>, Error> {
    if !Array::is_array(value) {
        return Err(Error::invalid_scope(format!(
            "{field} must be an array of strings, e.g. [\"https://graph.microsoft.com/.default\"]"
        )));
    }
    Array::from(value)
        .iter()
        .enumerate()
        .map(|(index, item)| {
            item.as_string()
                .ok_or_else(|| Error::invalid_scope(format!("{field}[{index}] must be a string")))
        })
        .collect()
}
