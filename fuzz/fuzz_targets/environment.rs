//! Environment variables (`cctoken::environment`): @azure/identity's `AZURE_*` names and
//! precedence, then on through the core's client options to a configuration, as every loader
//! does.
//!
//! Input format: `NAME=value` lines, as `env` prints them; the first line for a name wins.
#![no_main]

use std::collections::HashMap;

use cctoken::environment::settings_from_environment;
use cctoken::settings::{AppSettings, CredentialSetting};
use cctoken::{ClientSecret, Error, ErrorKind};
use cctoken_fuzz::{check_error, check_settings, text};
use libfuzzer_sys::fuzz_target;

/// Variables whose values must never reach an error or the settings' Debug output.
const SECRET_VARIABLES: [&str; 2] = ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD"];

fuzz_target!(|data: &[u8]| {
    let input = text(data);
    let mut variables: HashMap<String, String> = HashMap::new();
    for line in input.split('\n') {
        if let Some((name, value)) = line.split_once('=') {
            variables
                .entry(name.to_owned())
                .or_insert_with(|| value.to_owned());
        }
    }
    let result = read(&variables);
    match &result {
        Ok(settings) => check_settings(settings),
        Err(error) => {
            check_error(error);
            assert_eq!(error.kind(), ErrorKind::InvalidConfig);
            assert!(error.field().is_some_and(|f| f.starts_with("AZURE_")));
        }
    }
    // The outcome does not depend on the secrets' values, only on whether they are set: so no
    // error can show any part of them (the key-material invariant for secret values).
    let mut masked = variables.clone();
    for name in SECRET_VARIABLES {
        if let Some(value) = masked.get_mut(name) {
            if !value.trim().is_empty() {
                *value = "masked".to_owned();
            }
        }
    }
    assert_eq!(without_secret(result), without_secret(read(&masked)));
});

fn read(variables: &HashMap<String, String>) -> Result<AppSettings, Error> {
    settings_from_environment(|name| variables.get(name).cloned())
}

fn without_secret(result: Result<AppSettings, Error>) -> Result<AppSettings, Error> {
    result.map(|mut settings| {
        if let CredentialSetting::Secret(_) = settings.credential {
            settings.credential = CredentialSetting::Secret(ClientSecret::new("masked"));
        }
        settings
    })
}
