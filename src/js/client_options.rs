//! `new ConfidentialClient(options)` and `fromEnvironment`'s overrides, read from JS into the
//! core's [`ClientOptions`] (which validates them), and `loadConfigFile`'s options written
//! back as a JS object. Own properties only, unknown names refused with the closest known one
//! (see [`super::options`]). `fetch` and `onRefreshError` are JS functions, kept here as
//! [`HostOptions`].

use std::rc::Rc;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::fetch::describe_js_error;
use super::object::{object, set};
use super::options::{
    is_absent, optional_bool, optional_string, optional_string_map, own, refuse_unknown,
    require_object, require_string,
};
use crate::client_options::{
    whole_number, CertificateKeyOptions, ClientOptions, CredentialOptions, NOT_A_WHOLE_NUMBER,
};
use crate::credential::AssertionSource;
use crate::error::{Error, ErrorKind};
use crate::option_names::{
    CERTIFICATE_OPTIONS, CLIENT_OPTIONS, CREDENTIAL_OPTIONS, CREDENTIAL_OPTIONS_DOTTED,
};
use crate::secret::Secret;

/// The options that are JS functions: the host's, not the core's.
#[derive(Default)]
pub(super) struct HostOptions {
    /// `fetch`: the function requests go through (default: the global one).
    pub fetch: JsValue,
    /// `onRefreshError`: told about failed background refreshes.
    pub on_refresh_error: JsValue,
}

/// Reads `options` (the constructor's, or `fromEnvironment`'s overrides: `field` is
/// "options" or "overrides", `what` names the options in errors).
pub(super) fn read_client_options(
    options: JsValue,
    field: &'static str,
    what: &str,
    example: &str,
) -> Result<(ClientOptions, HostOptions), Error> {
    let options = require_object(options, field, example)?;
    // Checked first, so a misspelt option is named rather than its absence.
    refuse_unknown(
        &options,
        field,
        what,
        CLIENT_OPTIONS,
        CREDENTIAL_OPTIONS_DOTTED,
    )?;
    let string = |name: &'static str| optional_string(&own(&options, name), name);
    let count = |name: &'static str| {
        let value = own(&options, name);
        (!is_absent(&value)).then(|| value.as_f64().map_or(NOT_A_WHOLE_NUMBER, whole_number))
    };
    let credential = own(&options, "credential");
    let client_options = ClientOptions {
        client_id: string("clientId")?,
        authority: string("authority")?,
        tenant_id: string("tenantId")?,
        authority_host: string("authorityHost")?,
        token_endpoint: string("tokenEndpoint")?,
        extra_query_parameters: optional_string_map(
            &own(&options, "extraQueryParameters"),
            "extraQueryParameters",
        )?,
        credential: if is_absent(&credential) {
            None
        } else {
            Some(read_credential(credential)?)
        },
        client_auth_method: string("clientAuthMethod")?,
        assertion_audience: string("assertionAudience")?,
        expiry_buffer_seconds: count("expiryBufferSeconds"),
        max_cache_entries: count("maxCacheEntries"),
        max_retries: count("maxRetries"),
        attempt_timeout_ms: count("attemptTimeoutMs"),
        total_timeout_ms: count("totalTimeoutMs"),
        forced_refresh_parameter: None,
    };
    let host = HostOptions {
        fetch: own(&options, "fetch"),
        on_refresh_error: own(&options, "onRefreshError"),
    };
    Ok((client_options, host))
}

fn read_credential(credential: JsValue) -> Result<CredentialOptions, Error> {
    let credential = require_object(
        credential,
        "credential",
        "{ clientSecret: process.env.AZURE_CLIENT_SECRET }",
    )?;
    refuse_unknown(
        &credential,
        "credential",
        "credential option",
        CREDENTIAL_OPTIONS,
        &[],
    )?;
    let secret = own(&credential, "clientSecret");
    let certificate = own(&credential, "certificate");
    let assertion = own(&credential, "clientAssertion");
    Ok(CredentialOptions {
        client_secret: (!is_absent(&secret))
            .then(|| {
                require_string(
                    &secret,
                    "credential.clientSecret",
                    "the client secret's value from the app registration",
                )
            })
            .transpose()?
            .map(Secret::new),
        certificate: (!is_absent(&certificate))
            .then(|| read_certificate(certificate))
            .transpose()?,
        client_assertion: if is_absent(&assertion) {
            None
        } else if assertion.is_function() {
            Some(assertion_callback(assertion.unchecked_into()))
        } else {
            let assertion = require_string(
                &assertion,
                "credential.clientAssertion",
                "a signed JWT, or a function returning one",
            )?;
            Some(AssertionSource::Fixed(Secret::new(assertion)))
        },
    })
}

fn read_certificate(certificate: JsValue) -> Result<CertificateKeyOptions, Error> {
    let certificate = require_object(
        certificate,
        "credential.certificate",
        "{ privateKeyPem, certificatePem }",
    )?;
    refuse_unknown(
        &certificate,
        "credential.certificate",
        "certificate option",
        CERTIFICATE_OPTIONS,
        &[],
    )?;
    let string = |name: &str, field: &'static str| optional_string(&own(&certificate, name), field);
    Ok(CertificateKeyOptions {
        private_key_pem: string("privateKeyPem", "credential.certificate.privateKeyPem")?
            .map(Secret::new),
        certificate_pem: string("certificatePem", "credential.certificate.certificatePem")?,
        thumbprint: string("thumbprint", "credential.certificate.thumbprint")?,
        thumbprint_sha256: string(
            "thumbprintSha256",
            "credential.certificate.thumbprintSha256",
        )?,
        send_x5c: optional_bool(
            &own(&certificate, "sendX5c"),
            "credential.certificate.sendX5c",
        )?,
        algorithm: string("algorithm", "credential.certificate.algorithm")?,
        key_id: string("keyId", "credential.certificate.keyId")?,
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
    let written = Object::new();
    let strings = [
        ("clientId", &options.client_id),
        ("authority", &options.authority),
        ("tenantId", &options.tenant_id),
        ("authorityHost", &options.authority_host),
        ("tokenEndpoint", &options.token_endpoint),
    ];
    for (name, value) in strings {
        if let Some(value) = value {
            set(&written, name, &value.as_str().into());
        }
    }
    let Some(credential) = &options.credential else {
        return Ok(written);
    };
    let credential_object = Object::new();
    if let Some(secret) = &credential.client_secret {
        set(&credential_object, "clientSecret", &secret.expose().into());
    }
    if let Some(certificate) = &credential.certificate {
        let pem = certificate.private_key_pem.as_ref().map(Secret::expose);
        let certificate_object = object(&[("sendX5c", certificate.send_x5c.into())]);
        let strings = [
            ("privateKeyPem", pem),
            ("certificatePem", certificate.certificate_pem.as_deref()),
            ("thumbprint", certificate.thumbprint.as_deref()),
        ];
        for (name, value) in strings {
            if let Some(value) = value {
                set(&certificate_object, name, &value.into());
            }
        }
        set(&credential_object, "certificate", &certificate_object);
    }
    match &credential.client_assertion {
        Some(AssertionSource::Fixed(assertion)) => set(
            &credential_object,
            "clientAssertion",
            &assertion.expose().into(),
        ),
        // Config files name no federated token file, the one source of callbacks.
        Some(AssertionSource::Callback(_)) => {
            return Err(Error::invalid_config(
                "configFile",
                "a clientAssertion callback cannot be written as options",
            ))
        }
        None => {}
    }
    set(&written, "credential", &credential_object);
    Ok(written)
}
