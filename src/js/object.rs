//! The few `Reflect` moves every JS adapter makes (read a member, set one, call a method),
//! defined once for the npm module and the Worker.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `target[key]`, or `undefined` when `target` is not an object or the read throws.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key] = value`. Used on objects this crate created, where a plain data property
/// cannot fail to be set; if a frozen prototype made it fail there is nothing better to do
/// than go on without it.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &key.into(), value);
}

/// `target[method](...args)`; an error when `method` is not a function or throws.
pub fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let function: Function = get(target, method).dyn_into()?;
    let args: Array = args.iter().collect();
    Reflect::apply(&function, target, &args)
}

/// [`call`], then awaits what it returned (a promise, or a plain value).
pub async fn call_async(
    target: &JsValue,
    method: &str,
    args: &[JsValue],
) -> Result<JsValue, JsValue> {
    let returned = call(target, method, args)?;
    JsFuture::from(Promise::resolve(&returned)).await
}

/// A fresh object without a prototype, for objects handed to host APIs that read every
/// member they know (`fetch`'s `RequestInit`: `dispatcher`, `redirect`, `credentials`…): none
/// may come from a polluted `Object.prototype`.
pub fn bare_object() -> Object {
    Object::create(JsValue::NULL.unchecked_ref())
}

/// An object with `entries` as its members.
pub fn object(entries: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in entries {
        set(&object, key, value);
    }
    object
}
