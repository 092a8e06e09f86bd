//! AES-256-GCM for KV values (WebCrypto): a random 96-bit IV per value, the KV key as
//! associated data so a value copied to another key does not decrypt.

use std::cell::RefCell;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cctoken::js::webcrypto::{random_bytes, subtle_call};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;

const IV_BYTES: usize = 12;

/// Seals and opens KV values with the `CACHE_KEY` secret.
pub struct CacheCipher {
    raw_key: [u8; 32],
    key: RefCell<Option<JsValue>>,
}

impl CacheCipher {
    /// A cipher for a 32-byte key.
    pub fn new(raw_key: [u8; 32]) -> Self {
        CacheCipher {
            raw_key,
            key: RefCell::new(None),
        }
    }

    async fn crypto_key(&self) -> Result<JsValue, JsValue> {
        if let Some(key) = self.key.borrow().as_ref() {
            return Ok(key.clone());
        }
        let usages: Array = ["encrypt", "decrypt"]
            .iter()
            .map(|u| JsValue::from(*u))
            .collect();
        let key = subtle_call(
            "importKey",
            &[
                "raw".into(),
                Uint8Array::from(&self.raw_key[..]).into(),
                "AES-GCM".into(),
                JsValue::FALSE,
                usages.into(),
            ],
        )
        .await?;
        *self.key.borrow_mut() = Some(key.clone());
        Ok(key)
    }

    /// `base64(iv || ciphertext+tag)`.
    pub async fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<String, JsValue> {
        let iv = random_bytes(IV_BYTES)?;
        let sealed = subtle_call(
            "encrypt",
            &[
                parameters(&iv, associated_data),
                self.crypto_key().await?,
                Uint8Array::from(plaintext).into(),
            ],
        )
        .await?;
        let mut out = iv;
        out.extend(Uint8Array::new(&sealed).to_vec());
        Ok(STANDARD.encode(out))
    }

    /// The plaintext of a [`CacheCipher::seal`] value stored under the same associated data.
    pub async fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<Vec<u8>, JsValue> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| JsValue::from_str("not base64"))?;
        if bytes.len() <= IV_BYTES {
            return Err(JsValue::from_str("too short"));
        }
        let (iv, ciphertext) = bytes.split_at(IV_BYTES);
        let plain = subtle_call(
            "decrypt",
            &[
                parameters(iv, associated_data),
                self.crypto_key().await?,
                Uint8Array::from(ciphertext).into(),
            ],
        )
        .await?;
        Ok(Uint8Array::new(&plain).to_vec())
    }
}

fn parameters(iv: &[u8], associated_data: &[u8]) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"name".into(), &"AES-GCM".into());
    let _ = Reflect::set(&object, &"iv".into(), &Uint8Array::from(iv).into());
    let _ = Reflect::set(
        &object,
        &"additionalData".into(),
        &Uint8Array::from(associated_data).into(),
    );
    object.into()
}
