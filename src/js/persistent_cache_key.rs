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
    Ok(Some(material(
        config.token_endpoint().base_url(),
        config.client_id().as_str(),
        &config.client_capabilities,
        kind,
        &secret,
    )))
}

/// The length-prefixed parts, so that no two different (endpoint, client id, capabilities,
/// credential) share bytes. The capabilities are part of it because the core sends them with
/// every token request (`xms_cc`): a `cp1` client's long-lived, revocable tokens must not be
/// loaded by a client that cannot answer their claims challenges, nor the other way round.
fn material(
    token_endpoint: &str,
    client_id: &str,
    capabilities: &[String],
    kind: &[u8],
    secret: &[u8],
) -> Vec<u8> {
    let capabilities = canonical_capabilities(capabilities);
    let mut material = DOMAIN.to_vec();
    for part in [
        token_endpoint.as_bytes(),
        client_id.as_bytes(),
        capabilities.as_bytes(),
        kind,
        secret,
    ] {
        material.extend_from_slice(&(part.len() as u32).to_be_bytes());
        material.extend_from_slice(part);
    }
    material
}

/// Sorted, without repeats, comma-joined (a capability name has no comma): `["cp1", "cp2"]`
/// and `["cp2", "cp1"]` make the same requests, so they share a file; none is "".
fn canonical_capabilities(capabilities: &[String]) -> String {
    let mut sorted: Vec<&str> = capabilities.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENDPOINT: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com/";
    const CLIENT: &str = "11111111-0000-4000-8000-000000000001";

    fn of(capabilities: &[&str]) -> Vec<u8> {
        let capabilities: Vec<String> = capabilities.iter().map(|c| c.to_string()).collect();
        material(ENDPOINT, CLIENT, &capabilities, b"client secret", b"s3cret")
    }

    #[test]
    fn capabilities_are_part_of_the_material() {
        assert_ne!(of(&[]), of(&["cp1"]));
        assert_ne!(of(&["cp1"]), of(&["cp1", "cp2"]));
        assert_eq!(
            of(&["cp2", "cp1"]),
            of(&["cp1", "cp2"]),
            "order does not matter"
        );
        assert_eq!(of(&["cp1", "cp1"]), of(&["cp1"]));
    }

    #[test]
    fn parts_are_length_prefixed() {
        // Bytes moved from one part into the next give other material.
        let a = material(ENDPOINT, CLIENT, &[], b"client secret", b"s3cret");
        let b = material(ENDPOINT, CLIENT, &["c".into()], b"lient secret", b"s3cret");
        assert_ne!(a, b);
        let mut expected = DOMAIN.to_vec();
        for part in [
            ENDPOINT.as_bytes(),
            CLIENT.as_bytes(),
            b"cp1",
            b"client secret",
            b"s3cret",
        ] {
            expected.extend_from_slice(&(part.len() as u32).to_be_bytes());
            expected.extend_from_slice(part);
        }
        assert_eq!(of(&["cp1"]), expected);
    }
}
