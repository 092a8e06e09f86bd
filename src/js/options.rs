//! JS values as the core reads options and requests ([`OptionValue`]): the core's readers
//! ([`crate::option_value`]) word every rule and refusal; this only says what a value is.
//!
//! An object's fields are its own string-keyed properties, enumerable or not
//! (`Object.getOwnPropertyNames`), each read once: a value inherited from a polluted
//! `Object.prototype` (say `Object.prototype.fetch`, set by a vulnerable object merge elsewhere
//! in the app) must never become a client's fetch, secret or endpoint, and an own `fetch` made
//! with `Object.defineProperty` (not enumerable by default) must not be passed over for the
//! global one, which would send the credential elsewhere; Symbol keys are not fields; a
//! throwing getter reads as `undefined`.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use super::object::get;
use crate::option_value::OptionValue;

#[wasm_bindgen]
extern "C" {
    /// `Object.hasOwn`: true only for the object's own properties, never inherited ones.
    #[wasm_bindgen(js_namespace = Object, js_name = hasOwn)]
    fn has_own(target: &JsValue, key: &str) -> bool;
}

/// The own property `key` of `object` (`process.env`, say); `undefined` when it has none
/// (inherited values are ignored) or `object` is not an object.
pub fn own(object: &JsValue, key: &str) -> JsValue {
    if object.is_object() && has_own(object, key) {
        get(object, key)
    } else {
        JsValue::UNDEFINED
    }
}

impl OptionValue for JsValue {
    fn is_absent(&self) -> bool {
        self.is_undefined() || self.is_null()
    }
    fn as_text(&self) -> Option<String> {
        self.as_string()
    }
    fn as_flag(&self) -> Option<bool> {
        self.as_bool()
    }
    fn as_number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn as_list(&self) -> Option<Vec<Self>> {
        Array::is_array(self).then(|| Array::from(self).to_vec())
    }
    fn as_fields(&self) -> Option<Vec<(String, Self)>> {
        if !self.is_object() || Array::is_array(self) {
            return None;
        }
        let keys = Object::get_own_property_names(self.unchecked_ref::<Object>());
        let names = keys.iter().filter_map(|key| key.as_string());
        Some(
            names
                .map(|name| {
                    let value = get(self, &name);
                    (name, value)
                })
                .collect(),
        )
    }
    fn is_callable(&self) -> bool {
        self.is_function()
    }
    fn is_abort_signal(&self) -> bool {
        ["addEventListener", "removeEventListener"]
            .iter()
            .all(|method| get(self, method).is_function())
    }
    fn is_same(&self, other: &Self) -> bool {
        Object::is(self, other)
    }
}
