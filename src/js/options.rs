//! Reading options objects passed from JavaScript, with errors that name the field.
//!
//! Options and request fields are read as own properties only ([`own`]): a value inherited
//! from a polluted `Object.prototype` (say `Object.prototype.fetch`, set by a vulnerable
//! object merge elsewhere in the app) must never become a client's fetch, secret or endpoint.
//! Unknown names are refused ([`refuse_unknown`]) so a misspelt or foreign field (`signal`
//! for `abortSignal`, `scope` for `scopes`) is an error instead of being silently ignored.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::option_names::unknown_name;

#[wasm_bindgen]
extern "C" {
    /// `Object.hasOwn`: true only for the object's own properties, never inherited ones.
    #[wasm_bindgen(js_namespace = Object, js_name = hasOwn)]
    fn has_own(target: &JsValue, key: &str) -> bool;
}

/// The own property `key` of `object`; `undefined` when it has none (inherited values are
/// ignored) or `object` is not an object.
pub fn own(object: &JsValue, key: &str) -> JsValue {
    if !is_own(object, key) {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// True when `object` is an object with an own property `key` (even one set to `undefined`).
pub fn is_own(object: &JsValue, key: &str) -> bool {
    object.is_object() && has_own(object, key)
}

/// A member of a host object (`Response`, `Headers`, `AbortSignal`): these keep their
/// properties on the prototype, so unlike [`own`] this follows it. Never for options.
pub fn member(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Refuses the first own enumerable property of `object` whose name is not in `known`, as
/// [`unknown_name`] words it (with the closest of `known` and `elsewhere`).
pub fn refuse_unknown(
    object: &JsValue,
    field: &'static str,
    what: &str,
    known: &[&str],
    elsewhere: &[&str],
) -> Result<(), Error> {
    if !object.is_object() {
        return Ok(());
    }
    match Object::keys(object.unchecked_ref::<Object>())
        .iter()
        .filter_map(|key| key.as_string())
        .find(|key| !known.contains(&key.as_str()))
    {
        Some(name) => Err(unknown_name(field, what, &name, known, elsewhere)),
        None => Ok(()),
    }
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

/// A plain object of string values, as name/value pairs in property order.
pub fn optional_string_map(
    value: &JsValue,
    field: &'static str,
) -> Result<Vec<(String, String)>, Error> {
    if is_absent(value) {
        return Ok(Vec::new());
    }
    let object = require_object(value.clone(), field, "{ name: \"value\" }")?;
    // Own enumerable properties only, so nothing inherited joins the form or the URL.
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
