//! The API exported to the npm package: `new ConfidentialClient(options)` and
//! `acquireTokenForClient({ scopes })`.

use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::options::{property, require_object, require_string, require_string_array};
use super::{to_js_error, JsClock, JsFetch};
use crate::client::{AuthResult, ClientConfig, ConfidentialClient};
use crate::credential::Credential;
use crate::error::Error;
use crate::scope::ScopeSet;

type Engine = ConfidentialClient<JsFetch, JsClock>;

/// A confidential client application that acquires app-only tokens.
#[wasm_bindgen(js_name = ConfidentialClient)]
pub struct JsConfidentialClient {
    engine: Rc<Engine>,
}

#[wasm_bindgen(js_class = ConfidentialClient)]
impl JsConfidentialClient {
    /// `new ConfidentialClient({ clientId, authority, credential: { clientSecret }, fetch? })`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsConfidentialClient, JsValue> {
        build_engine(options)
            .map(|engine| JsConfidentialClient {
                engine: Rc::new(engine),
            })
            .map_err(|e| to_js_error(&e))
    }

    /// `acquireTokenForClient({ scopes })` → `Promise<{ accessToken, tokenType, expiresOn,
    /// fromCache }>`. Bad input rejects the promise rather than throwing, like every other
    /// failure of an async call.
    #[wasm_bindgen(js_name = acquireTokenForClient)]
    pub fn acquire_token_for_client(&self, request: JsValue) -> Promise {
        let scopes = match parse_request(&request) {
            Ok(scopes) => scopes,
            Err(error) => return Promise::reject(&to_js_error(&error)),
        };
        let engine = Rc::clone(&self.engine);
        wasm_bindgen_futures::future_to_promise(async move {
            engine
                .acquire_token_for_client(&scopes)
                .await
                .map(|result| to_js_result(&result))
                .map_err(|e| to_js_error(&e))
        })
    }

    /// Forgets every cached token.
    #[wasm_bindgen(js_name = clearCache)]
    pub fn clear_cache(&self) {
        self.engine.clear_cache();
    }
}

fn build_engine(options: JsValue) -> Result<Engine, Error> {
    let options = require_object(
        options,
        "options",
        "{ clientId, authority, credential: { clientSecret } }",
    )?;
    let client_id = require_string(
        &property(&options, "clientId"),
        "clientId",
        "the Application (client) ID from the app registration",
    )?;
    let authority = require_string(
        &property(&options, "authority"),
        "authority",
        "e.g. \"https://login.microsoftonline.com/<tenant id>\"",
    )?;
    let credential = require_object(
        property(&options, "credential"),
        "credential",
        "{ clientSecret: process.env.AZURE_CLIENT_SECRET }",
    )?;
    let secret = require_string(
        &property(&credential, "clientSecret"),
        "credential.clientSecret",
        "the client secret's value from the app registration",
    )?;
    let config = ClientConfig::new(&client_id, &authority, Credential::client_secret(secret)?)?;
    let custom_fetch = property(&options, "fetch");
    let fetch = if custom_fetch.is_undefined() {
        JsFetch::global()?
    } else {
        JsFetch::with_function(custom_fetch)?
    };
    Ok(ConfidentialClient::new(config, fetch, JsClock))
}

fn parse_request(request: &JsValue) -> Result<ScopeSet, Error> {
    if !request.is_object() {
        return Err(Error::invalid_scope(
            "acquireTokenForClient needs { scopes: [...] }, e.g. { scopes: [\"https://graph.microsoft.com/.default\"] }",
        ));
    }
    let scopes = require_string_array(&property(request, "scopes"), "scopes")?;
    ScopeSet::parse(scopes)
}

fn to_js_result(result: &AuthResult) -> JsValue {
    let object = Object::new();
    let expires_on = js_sys::Date::new(&JsValue::from_f64(result.expires_on_ms as f64));
    for (key, value) in [
        ("accessToken", JsValue::from(result.access_token.expose())),
        ("tokenType", JsValue::from(result.token_type.as_str())),
        ("expiresOn", expires_on.into()),
        ("fromCache", JsValue::from_bool(result.from_cache)),
    ] {
        // Defining properties on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &key.into(), &value);
    }
    object.into()
}
