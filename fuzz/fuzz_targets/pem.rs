//! PEM and DER (`cctoken::pem`) and certificate thumbprints (`cctoken::assertion`): what a
//! certificate credential reads from its key file, certificate file and options.
//!
//! Each input is used three ways: as PEM text (private key and certificate chain), as the DER
//! inside a `PRIVATE KEY` block (reaching the DER reader without needing valid base64 from
//! the fuzzer), and as a hex thumbprint.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cctoken::pem::{parse_certificates, parse_private_key, PrivateKey};
use cctoken::{Error, ErrorKind};
use cctoken_fuzz::{check_error, check_no_key_material, check_thumbprint, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = text(data);
    check_key(parse_private_key("privateKeyPem", &input), &input);
    check_chain(parse_certificates("certificatePem", &input), &input);
    let block = pem_block("PRIVATE KEY", data);
    check_key(parse_private_key("privateKeyPem", &block), &block);
    check_thumbprint(&input, 20);
    check_thumbprint(&input, 32);
});

fn pem_block(label: &str, der: &[u8]) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        STANDARD.encode(der)
    )
}

/// Every PEM input is secret (a key file may hold the key beside the certificates): errors
/// name what is wrong without showing any of it.
fn check_config_error(error: &Error, field: &str, input: &str) {
    check_error(error);
    check_no_key_material(error, input);
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    assert_eq!(error.field(), Some(field));
}

/// A key (PKCS#8 as read, or PKCS#1/SEC1 wrapped into PKCS#8) reads back as itself: the
/// wrapping writes DER the reader accepts, with the same key type. Debug never shows it.
fn check_key(result: Result<PrivateKey, Error>, input: &str) {
    let key = match result {
        Ok(key) => key,
        Err(error) => return check_config_error(&error, "privateKeyPem", input),
    };
    let again = parse_private_key("privateKeyPem", &pem_block("PRIVATE KEY", &key.pkcs8_der))
        .expect("a key's own PKCS#8 reads back");
    assert_eq!(again, key);
    assert_eq!(
        format!("{key:?}"),
        format!("PrivateKey({:?}, <redacted>)", key.key_type)
    );
}

/// A chain written back as PEM reads back the same.
fn check_chain(result: Result<Vec<Vec<u8>>, Error>, input: &str) {
    let chain = match result {
        Ok(chain) => chain,
        Err(error) => return check_config_error(&error, "certificatePem", input),
    };
    assert!(!chain.is_empty());
    let pem: String = chain
        .iter()
        .map(|der| pem_block("CERTIFICATE", der))
        .collect();
    assert_eq!(parse_certificates("certificatePem", &pem).unwrap(), chain);
}
