//! Thin access to the host's WebCrypto (`crypto.subtle`, `crypto.getRandomValues`).

use js_sys::Uint8Array;
use wasm_bindgen::JsValue;

use super::object::{call, call_async, get};

/// Calls `crypto.subtle[method](...args)` and awaits the promise.
pub async fn subtle_call(method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let subtle = get(&get(&js_sys::global(), "crypto"), "subtle");
    if subtle.is_undefined() {
        return Err(js_sys::Error::new("this runtime has no WebCrypto (crypto.subtle)").into());
    }
    call_async(&subtle, method, args).await
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
    let buffer = Uint8Array::new_with_length(n as u32);
    call(
        &get(&js_sys::global(), "crypto"),
        "getRandomValues",
        &[buffer.clone().into()],
    )?;
    Ok(buffer.to_vec())
}
