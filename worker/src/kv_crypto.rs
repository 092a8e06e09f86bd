//! AES-256-GCM for KV values (WebCrypto): a random 96-bit IV per value, the KV key as
//! associated data so a value copied to another key does not decrypt. Values are sealed with
//! `CACHE_KEY`; during a rotation, values `CACHE_KEY_PREVIOUS` sealed still open (and are
//! sealed anew with `CACHE_KEY` on their next write).

use std::cell::RefCell;

use cctoken::broker::kv_entry::{decode_sealed, encode_sealed, IV_BYTES};
use cctoken::js::object::object;
use cctoken::js::webcrypto::{random_bytes, subtle_call};
use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsValue;

/// Seals with the `CACHE_KEY` secret; opens with it or `CACHE_KEY_PREVIOUS`.
pub struct CacheCipher {
    current: AesKey,
    previous: Option<AesKey>,
}

/// A raw key and, once imported, its WebCrypto key.
struct AesKey {
    raw_key: [u8; 32],
    key: RefCell<Option<JsValue>>,
}

impl CacheCipher {
    /// A cipher sealing with `current`, opening with `current` or `previous`.
    pub fn new(current: [u8; 32], previous: Option<[u8; 32]>) -> Self {
        CacheCipher {
            current: AesKey::new(current),
            previous: previous.map(AesKey::new),
        }
    }

    /// `base64(iv || ciphertext+tag)`.
    pub async fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<String, JsValue> {
        self.current.seal(plaintext, associated_data).await
    }

    /// The plaintext of a [`CacheCipher::seal`] value stored under the same associated data,
    /// sealed with either key.
    pub async fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<Vec<u8>, JsValue> {
        match (
            self.current.open(sealed, associated_data).await,
            &self.previous,
        ) {
            (Err(_), Some(previous)) => previous.open(sealed, associated_data).await,
            (outcome, _) => outcome,
        }
    }
}

impl AesKey {
    fn new(raw_key: [u8; 32]) -> Self {
        AesKey {
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

    async fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<String, JsValue> {
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
        Ok(encode_sealed(&iv, &Uint8Array::new(&sealed).to_vec()))
    }

    async fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<Vec<u8>, JsValue> {
        let bytes = decode_sealed(sealed).map_err(JsValue::from_str)?;
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
    object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(iv).into()),
        ("additionalData", Uint8Array::from(associated_data).into()),
    ])
    .into()
}
