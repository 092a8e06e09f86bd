//! SHA-256 through WebCrypto (`crypto.subtle.digest`), so the Worker ships no hash code.

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Lower-case hex SHA-256 of `data`.
pub async fn sha256_hex(data: &str) -> Result<String, JsValue> {
    let subtle = Reflect::get(&js_sys::global(), &"crypto".into())
        .and_then(|crypto| Reflect::get(&crypto, &"subtle".into()))?;
    let digest_fn: js_sys::Function = Reflect::get(&subtle, &"digest".into())?.dyn_into()?;
    let bytes = Uint8Array::from(data.as_bytes());
    let pending: Promise = digest_fn
        .call2(&subtle, &"SHA-256".into(), &bytes)?
        .dyn_into()?;
    let buffer = JsFuture::from(pending).await?;
    let hash = Uint8Array::new(&buffer).to_vec();
    Ok(hash.iter().map(|byte| format!("{byte:02x}")).collect())
}
