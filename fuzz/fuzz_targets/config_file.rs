//! Config files (`cctoken::config_file`): ASP.NET `appsettings.json` and MSAL Python configs,
//! JSON with comments and trailing commas, then on through the core's client options to a
//! configuration and scopes, as every loader does.
#![no_main]

use cctoken::config_file::parse_config_file;
use cctoken::settings::{AppSettings, CredentialSetting};
use cctoken::ErrorKind;
use cctoken::ClientSecret;
use cctoken_fuzz::{check_error, check_settings, text};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let input = text(data);
    match parse_config_file(&input) {
        Ok(settings) => check_settings(&settings),
        Err(error) => {
            check_error(&error);
            assert_eq!(error.kind(), ErrorKind::InvalidConfig);
            assert_eq!(error.field(), Some("configFile"));
        }
    }
    check_secrets_do_not_matter(&input);
});

/// The key-material invariant for secret values: the outcome for a plain JSON file does not
/// depend on its secrets' values, only on whether they are set, so no error can show any part
/// of them. Checked on the file as serde_json writes it back, with and without its secrets.
fn check_secrets_do_not_matter(input: &str) {
    let Ok(value) = serde_json::from_str::<Value>(input) else {
        return;
    };
    let mut masked = value.clone();
    if !mask_secrets(&mut masked) {
        return;
    }
    let original = parse_config_file(&value.to_string()).map(without_secret);
    let masked = parse_config_file(&masked.to_string()).map(without_secret);
    assert_eq!(original, masked);
}

/// Replaces every non-blank value of a key that holds a secret in either format; true when
/// there was one.
fn mask_secrets(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut masked = false;
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(text) if matches!(key.as_str(), "ClientSecret" | "secret") => {
                        if !text.trim().is_empty() {
                            *text = "masked".to_owned();
                            masked = true;
                        }
                    }
                    _ => masked |= mask_secrets(value),
                }
            }
            masked
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |m, item| mask_secrets(item) | m),
        _ => false,
    }
}

fn without_secret(mut settings: AppSettings) -> AppSettings {
    if let CredentialSetting::Secret(_) = settings.credential {
        settings.credential = CredentialSetting::Secret(ClientSecret::new("masked"));
    }
    settings
}
