//! The input key material of the persistent token cache (pkg/src/persistent-cache.mjs), for
//! the package's JS only: it is not re-exported by the package's entries.
//!
//! `fromEnvironment` and `fromConfigFile` read the credential inside the wasm, so the JS that
//! encrypts the cache file cannot see it. This reads the same settings again, through the same
//! validation as the client (so the material belongs to exactly the credential the client
//! uses), and returns bytes that bind the credential to the app: HKDF (in JS, WebCrypto) turns
//! them into the file's name and its AES-GCM keys. Federated credentials (a client assertion,
//! fixed or from a callback) have no stable secret: they get no material and no file.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::client_options::read_client_options;
use super::runtime_io::{environment_variable, read_text_file};
use super::WebCryptoSigner;
use crate::client_options::{ClientOptions, Entry};
use crate::config_file::parse_config_file;
use crate::credential::Credential;
use crate::environment::settings_from_environment;
use crate::error::Error;
use crate::option_value::OptionValue;
use crate::ports::Signer;

/// Names the format: material of another version must never derive the same keys.
const DOMAIN: &[u8] = b"cctoken persistent cache v1\0";

/// `persistentCacheKeyMaterial(source, options)`: `source` is `"options"` (the constructor's
/// options), `"environment"` (`fromEnvironment`'s overrides, or undefined) or `"configFile"`
/// (`options` is the path). Returns a `Uint8Array` of secret material, or undefined for a
/// federated credential or settings that do not build a client. The caller imports it as a
/// non-extractable HKDF key and wipes it; it is never logged.
#[wasm_bindgen(js_name = persistentCacheKeyMaterial)]
pub fn persistent_cache_key_material(source: &str, options: JsValue) -> JsValue {
    let material = match source {
        "options" => read_client_options(&options, Entry::CONSTRUCTOR).map(|(options, _)| options),
        "environment" => from_environment(&options),
        "configFile" => from_config_file(&options),
        _ => return JsValue::UNDEFINED,
    }
    .and_then(key_material);
    match material {
        Ok(Some(bytes)) => Uint8Array::from(bytes.as_slice()).into(),
        _ => JsValue::UNDEFINED,
    }
}

fn from_environment(overrides: &JsValue) -> Result<ClientOptions, Error> {
    let mut options = settings_from_environment(environment_variable)?
        .into_client_options(Rc::new(read_text_file))?;
    if !overrides.is_absent() {
        options.merge(read_client_options(overrides, Entry::OVERRIDES)?.0);
    }
    Ok(options)
}

fn from_config_file(path: &JsValue) -> Result<ClientOptions, Error> {
    let path = path
        .as_string()
        .ok_or_else(|| Error::invalid_config("configFile", "configFile must be a path"))?;
    parse_config_file(&read_text_file("configFile", &path)?)?
        .into_client_options(Rc::new(read_text_file))
}

/// The material of `options`' credential, bound to the token endpoint and client id the
/// client would use; `None` for a federated credential.
fn key_material(options: ClientOptions) -> Result<Option<Vec<u8>>, Error> {
    // The private key as the core parsed it (PKCS#8 DER), so that a PKCS#1 and a PKCS#8 PEM
    // of one key, or the same key with other whitespace, open the same file.
    let private_key = RefCell::new(None);
    let config = options.into_config(&|key, algorithm| {
        *private_key.borrow_mut() = Some(key.pkcs8_der.clone());
        Ok(Rc::new(WebCryptoSigner::new(key, algorithm)?) as Rc<dyn Signer>)
    })?;
    let (kind, secret): (&[u8], Vec<u8>) = match &config.credential {
        Credential::ClientSecret { secret, .. } => {
            (b"client secret", secret.expose().as_bytes().to_vec())
        }
        Credential::Certificate(_) => match private_key.into_inner() {
            Some(der) => (b"private key", der),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    let mut material = DOMAIN.to_vec();
    for part in [
        config.token_endpoint().base_url().as_bytes(),
        config.client_id().as_str().as_bytes(),
        kind,
        &secret,
    ] {
        // Length-prefixed: no two different (endpoint, client id, credential) share bytes.
        material.extend_from_slice(&(part.len() as u32).to_be_bytes());
        material.extend_from_slice(part);
    }
    Ok(Some(material))
}
