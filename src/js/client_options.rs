//! `new ConfidentialClient(options)` and `fromEnvironment`'s overrides, read by the core
//! ([`ClientOptions::read`]) with a `clientAssertion` function made into a callback here, and
//! `loadConfigFile`'s options written back as a JS object.

use std::rc::Rc;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::fetch::describe_js_error;
use super::object::{object, set};
use crate::client_options::{ClientOptions, Entry, HostFunctions, Written};
use crate::credential::AssertionSource;
use crate::error::{Error, ErrorKind};
use crate::secret::Secret;

/// Reads `options` (the constructor's, or `fromEnvironment`'s overrides, as `entry` says).
pub(super) fn read_client_options(
    options: &JsValue,
    entry: Entry,
) -> Result<(ClientOptions, HostFunctions<JsValue>), Error> {
    ClientOptions::read(options, entry, |callback| {
        assertion_callback(callback.unchecked_into())
    })
}

/// A JS `clientAssertion` callback as the core's: called with `{ clientId, tokenEndpoint }`,
/// it returns the assertion or a promise of it.
fn assertion_callback(callback: Function) -> AssertionSource {
    AssertionSource::Callback(Rc::new(move |context| {
        let callback = callback.clone();
        Box::pin(async move {
            let argument = object(&[
                ("clientId", context.client_id.into()),
                ("tokenEndpoint", context.token_endpoint.into()),
            ]);
            let returned = callback
                .call1(&JsValue::UNDEFINED, &argument)
                .map_err(|e| callback_error(&e))?;
            let value = JsFuture::from(Promise::resolve(&returned))
                .await
                .map_err(|e| callback_error(&e))?;
            value.as_string().map(Secret::new).ok_or_else(|| {
                Error::invalid_config(
                    "credential.clientAssertion",
                    "the clientAssertion callback must return a string (or a promise of one)",
                )
            })
        })
    }))
}

fn callback_error(cause: &JsValue) -> Error {
    Error::new(
        ErrorKind::Crypto,
        format!(
            "the clientAssertion callback failed: {}",
            describe_js_error(cause)
        ),
    )
    .with_field("credential.clientAssertion")
}

/// `options` as the constructor takes them (what `loadConfigFile` returns). Holds the
/// secret: it is the caller's to keep.
pub(super) fn write_client_options(options: &ClientOptions) -> Result<Object, Error> {
    Ok(write(options.written()?))
}

fn write(fields: Vec<(&str, Written<'_>)>) -> Object {
    let written = Object::new();
    for (name, value) in fields {
        let value = match value {
            Written::Text(text) => JsValue::from(text),
            Written::Flag(flag) => JsValue::from(flag),
            Written::Object(fields) => write(fields).into(),
        };
        set(&written, name, &value);
    }
    written
}
