//! Thin access to the host's WebCrypto (`crypto.subtle`, `crypto.getRandomValues`).

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Calls `crypto.subtle[method](...args)` and awaits the promise.
pub async fn subtle_call(method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let subtle = Reflect::get(&js_sys::global(), &"crypto".into())
        .and_then(|crypto| Reflect::get(&crypto, &"subtle".into()))?;
    if subtle.is_undefined() {
        return Err(js_sys::Error::new("this runtime has no WebCrypto (crypto.subtle)").into());
    }
    let function: Function = Reflect::get(&subtle, &method.into())?.dyn_into()?;
    let args: Array = args.iter().collect();
    let pending = Reflect::apply(&function, &subtle, &args)?;
    JsFuture::from(Promise::resolve(&pending)).await
}

/// SHA-256 of `data`.
pub async fn sha256(data: &[u8]) -> Result<[u8; 32], JsValue> {
    let digest = subtle_call("digest", &["SHA-256".into(), Uint8Array::from(data).into()]).await?;
    let mut out = [0u8; 32];
    Uint8Array::new(&digest).copy_to(&mut out);
    Ok(out)
}

/// `n` bytes from `crypto.getRandomValues`.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into())?;
    let fill: Function = Reflect::get(&crypto, &"getRandomValues".into())?.dyn_into()?;
    let buffer = Uint8Array::new_with_length(n as u32);
    fill.call1(&crypto, &buffer)?;
    Ok(buffer.to_vec())
}
