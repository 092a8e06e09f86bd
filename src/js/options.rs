//! Reading options objects passed from JavaScript, with errors that name the field.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::error::Error;

/// The property `key` of `object`; `undefined` when `object` is not an object.
pub fn property(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// `value` as an object, or an error saying `field` must be one.
pub fn require_object(
    value: JsValue,
    field: &'static str,
    example: &str,
) -> Result<JsValue, Error> {
    if value.is_object() && !js_sys::Array::is_array(&value) {
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
    if value.is_undefined() || value.is_null() {
        return Err(Error::invalid_config(
            field,
            format!("{field} is required: {hint}"),
        ));
    }
    value
        .as_string()
        .ok_or_else(|| Error::invalid_config(field, format!("{field} must be a string: {hint}")))
}

/// An array of strings (e.g. scopes); `field` names it in errors.
pub fn require_string_array(value: &JsValue, field: &'static str) -> Result<Vec<String>, Error> {
    if !js_sys::Array::is_array(value) {
        return Err(Error::invalid_scope(format!(
            "{field} must be an array of strings, e.g. [\"https://graph.microsoft.com/.default\"]"
        )));
    }
    js_sys::Array::from(value)
        .iter()
        .enumerate()
        .map(|(index, item)| {
            item.as_string()
                .ok_or_else(|| Error::invalid_scope(format!("{field}[{index}] must be a string")))
        })
        .collect()
}
