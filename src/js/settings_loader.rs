//! `ConfidentialClient.fromEnvironment()`, `fromConfigFile()` and `loadConfigFile()`: settings
//! parsed by the core and turned into its client options, with the files they name read here.

use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::bindings::{build_client, JsConfidentialClient};
use super::client_options::{read_client_options, write_client_options};
use super::object::object;
use super::runtime_io::{environment_variable, read_text_file};
use super::to_js_error;
use crate::client_options::{ClientOptions, Entry, HostFunctions};
use crate::config_file::parse_config_file;
use crate::environment::settings_from_environment;
use crate::error::Error;
use crate::option_value::{required_text, OptionValue};
use crate::settings::AppSettings;

#[wasm_bindgen(js_class = ConfidentialClient)]
impl JsConfidentialClient {
    /// A client from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` /
    /// `AZURE_CLIENT_CERTIFICATE_PATH` / `AZURE_FEDERATED_TOKEN_FILE` (as @azure/identity reads
    /// them); `overrides` are merged over the options built from them.
    #[wasm_bindgen(js_name = fromEnvironment)]
    pub fn from_environment(overrides: JsValue) -> Result<JsConfidentialClient, JsValue> {
        let build = || -> Result<JsConfidentialClient, Error> {
            let mut options = client_options(settings_from_environment(environment_variable)?)?;
            let host = if overrides.is_absent() {
                HostFunctions::default()
            } else {
                let (overrides, host) = read_client_options(&overrides, Entry::OVERRIDES)?;
                options.merge(overrides);
                host
            };
            build_client(options, host)
        };
        build().map_err(|e| to_js_error(&e))
    }

    /// A client from an ASP.NET `appsettings.json` (`AzureAd` section) or an MSAL Python config.
    #[wasm_bindgen(js_name = fromConfigFile)]
    pub fn from_config_file(path: JsValue) -> Result<JsConfidentialClient, JsValue> {
        let build = || build_client(load(&path)?.0, HostFunctions::default());
        build().map_err(|e| to_js_error(&e))
    }
}

/// `loadConfigFile(path)` → `{ options, scopes }`: what `fromConfigFile` would use, plus the
/// scopes the file names (MSAL Python configs have `scope`).
#[wasm_bindgen(js_name = loadConfigFile)]
pub fn load_config_file(path: JsValue) -> Result<JsValue, JsValue> {
    let load = || -> Result<JsValue, Error> {
        let (options, scopes) = load(&path)?;
        let scopes: Array = scopes.iter().map(|s| JsValue::from(s.as_str())).collect();
        let options = write_client_options(&options)?;
        Ok(object(&[("options", options.into()), ("scopes", scopes.into())]).into())
    };
    load().map_err(|e| to_js_error(&e))
}

fn load(path: &JsValue) -> Result<(ClientOptions, Vec<String>), Error> {
    let path = required_text(
        path,
        "configFile",
        "the path of appsettings.json or an MSAL config",
    )?;
    let mut settings = parse_config_file(&read_text_file("configFile", &path)?)?;
    let scopes = std::mem::take(&mut settings.scopes);
    Ok((client_options(settings)?, scopes))
}

fn client_options(settings: AppSettings) -> Result<ClientOptions, Error> {
    settings.into_client_options(Rc::new(read_text_file))
}
