//! `ConfidentialClient.fromEnvironment()`, `fromConfigFile()` and `loadConfigFile()`: settings
//! parsed by the core, files they name read here, turned into constructor options.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::bindings::{
    build_client, JsConfidentialClient, CLIENT_OPTIONS, CREDENTIAL_OPTIONS_DOTTED,
};
use super::options::{is_absent, is_own, refuse_unknown, require_object, require_string};
use super::runtime_io::{environment_variable, read_text_file};
use super::to_js_error;
use crate::config_file::parse_config_file;
use crate::environment::settings_from_environment;
use crate::error::Error;
use crate::settings::{AppSettings, AuthoritySetting, CredentialSetting};

#[wasm_bindgen(js_class = ConfidentialClient)]
impl JsConfidentialClient {
    /// A client from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` /
    /// `AZURE_CLIENT_CERTIFICATE_PATH` / `AZURE_FEDERATED_TOKEN_FILE` (as @azure/identity reads
    /// them); `overrides` are merged over the options built from them.
    #[wasm_bindgen(js_name = fromEnvironment)]
    pub fn from_environment(overrides: JsValue) -> Result<JsConfidentialClient, JsValue> {
        let build = || -> Result<JsConfidentialClient, Error> {
            let settings = settings_from_environment(environment_variable)?;
            let options = options_from_settings(&settings)?;
            merge(&options, &overrides)?;
            build_client(options.into())
        };
        build().map_err(|e| to_js_error(&e))
    }

    /// A client from an ASP.NET `appsettings.json` (`AzureAd` section) or an MSAL Python config.
    #[wasm_bindgen(js_name = fromConfigFile)]
    pub fn from_config_file(path: JsValue) -> Result<JsConfidentialClient, JsValue> {
        let build = || -> Result<JsConfidentialClient, Error> {
            let (options, _) = load(&path)?;
            build_client(options.into())
        };
        build().map_err(|e| to_js_error(&e))
    }
}

/// `loadConfigFile(path)` → `{ options, scopes }`: what `fromConfigFile` would use, plus the
/// scopes the file names (MSAL Python configs have `scope`).
#[wasm_bindgen(js_name = loadConfigFile)]
pub fn load_config_file(path: JsValue) -> Result<JsValue, JsValue> {
    let load = || -> Result<JsValue, Error> {
        let (options, scopes) = load(&path)?;
        let result = Object::new();
        set(&result, "options", &options);
        set(&result, "scopes", &scopes);
        Ok(result.into())
    };
    load().map_err(|e| to_js_error(&e))
}

fn load(path: &JsValue) -> Result<(Object, Array), Error> {
    let path = require_string(
        path,
        "configFile",
        "the path of appsettings.json or an MSAL config",
    )?;
    let text = read_text_file("configFile", &path)?;
    let settings = parse_config_file(&text)?;
    let scopes: Array = settings
        .scopes
        .iter()
        .map(|s| JsValue::from(s.as_str()))
        .collect();
    Ok((options_from_settings(&settings)?, scopes))
}

fn options_from_settings(settings: &AppSettings) -> Result<Object, Error> {
    let options = Object::new();
    set(&options, "clientId", &settings.client_id.as_str().into());
    match &settings.authority {
        AuthoritySetting::Authority(authority) => {
            set(&options, "authority", &authority.as_str().into())
        }
        AuthoritySetting::Tenant { tenant_id, host } => {
            set(&options, "tenantId", &tenant_id.as_str().into());
            if let Some(host) = host {
                set(&options, "authorityHost", &host.as_str().into());
            }
        }
    }
    let credential = Object::new();
    match &settings.credential {
        CredentialSetting::Secret(secret) => {
            set(&credential, "clientSecret", &secret.expose().into())
        }
        CredentialSetting::CertificateFiles {
            key_path,
            certificate_path,
            thumbprint,
            send_x5c,
        } => {
            let certificate = Object::new();
            set(
                &certificate,
                "privateKeyPem",
                &read_text_file("certificate", key_path)?.into(),
            );
            if let Some(path) = certificate_path {
                set(
                    &certificate,
                    "certificatePem",
                    &read_text_file("certificate", path)?.into(),
                );
            }
            if let Some(thumbprint) = thumbprint {
                set(&certificate, "thumbprint", &thumbprint.as_str().into());
            }
            set(&certificate, "sendX5c", &JsValue::from_bool(*send_x5c));
            set(&credential, "certificate", &certificate);
        }
        CredentialSetting::FederatedTokenFile(path) => {
            let path = path.clone();
            // Read afresh for every token request: the platform rotates the file.
            let read = Closure::<dyn Fn(JsValue) -> Result<JsValue, JsValue>>::new(
                move |_context: JsValue| {
                    read_text_file("AZURE_FEDERATED_TOKEN_FILE", &path)
                        .map(|token| JsValue::from(token.trim()))
                        .map_err(|e| to_js_error(&e))
                },
            );
            set(&credential, "clientAssertion", &read.into_js_value());
        }
    }
    set(&options, "credential", &credential);
    Ok(options)
}

fn merge(options: &Object, overrides: &JsValue) -> Result<(), Error> {
    if is_absent(overrides) {
        return Ok(());
    }
    let overrides = require_object(overrides.clone(), "overrides", "{ maxRetries: 5 }")?;
    // Checked before copying, so that a name like `__proto__` is never set on the options.
    refuse_unknown(
        &overrides,
        "overrides",
        "fromEnvironment option",
        CLIENT_OPTIONS,
        CREDENTIAL_OPTIONS_DOTTED,
    )?;
    // An override of where tokens come from replaces the environment's choice entirely.
    let endpoint_keys = ["authority", "tenantId", "authorityHost", "tokenEndpoint"];
    if endpoint_keys.iter().any(|key| is_own(&overrides, key)) {
        for key in endpoint_keys {
            let _ = Reflect::delete_property(options, &key.into());
        }
    }
    for entry in Object::entries(&Object::from(overrides)).iter() {
        let pair = Array::from(&entry);
        let _ = Reflect::set(options, &pair.get(0), &pair.get(1));
    }
    Ok(())
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Plain data properties on fresh objects cannot fail to be set.
    let _ = Reflect::set(target, &key.into(), value);
}
