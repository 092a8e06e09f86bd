//! [`ClientOptions`] read from the options a host hands over: `new ConfidentialClient(…)`,
//! `fromEnvironment`'s overrides and `new BrokerClient(…)`. Unknown names are refused with the
//! closest known one; the values themselves are validated by [`ClientOptions::into_config`].

use super::{CertificateKeyOptions, ClientOptions, CredentialOptions};
use crate::authority::TokenEndpoint;
use crate::client_id::ClientId;
use crate::credential::AssertionSource;
use crate::error::Error;
use crate::option_names::{
    BROKER_CLIENT_OPTIONS, CERTIFICATE_OPTIONS, CLIENT_OPTIONS, CREDENTIAL_OPTIONS,
    CREDENTIAL_OPTIONS_DOTTED,
};
use crate::option_value::{Fields, OptionValue};
use crate::request::{FORCE_REFRESH_PARAMETER, TENANT_PARAMETER};
use crate::secret::{ClientSecret, Secret};

/// How `forceRefresh` reaches the broker's token route.
const FORCE_REFRESH_FIELD: (&str, &str) = (FORCE_REFRESH_PARAMETER, "true");

/// The options that are the host's functions, handed back for the host to resolve.
pub struct HostFunctions<V> {
    /// `fetch`: the function requests go through (default: the host's own).
    pub fetch: Option<V>,
    /// `onRefreshError`: told about failed background refreshes.
    pub on_refresh_error: Option<V>,
}

impl<V> Default for HostFunctions<V> {
    /// The host's own: its global `fetch`, no refresh error handler.
    fn default() -> Self {
        HostFunctions {
            fetch: None,
            on_refresh_error: None,
        }
    }
}

/// Which options are being read, as errors name them.
pub struct Entry {
    /// The error `field` of the options object: "options", or "overrides".
    pub field: &'static str,
    /// What its names are, e.g. "option".
    pub what: &'static str,
    /// An example of the options, for when something else is given.
    pub example: &'static str,
}

impl Entry {
    /// `new ConfidentialClient(options)`.
    pub const CONSTRUCTOR: Entry = Entry {
        field: "options",
        what: "option",
        example: "{ clientId, authority, credential: { clientSecret } }",
    };
    /// `ConfidentialClient.fromEnvironment(overrides)`.
    pub const OVERRIDES: Entry = Entry {
        field: "overrides",
        what: "fromEnvironment option",
        example: "{ maxRetries: 5 }",
    };
}

impl ClientOptions {
    /// Reads `value`; `callback` turns a `credential.clientAssertion` function into the
    /// host's assertion source.
    pub fn read<V: OptionValue>(
        value: &V,
        entry: Entry,
        callback: impl FnOnce(V) -> AssertionSource,
    ) -> Result<(ClientOptions, HostFunctions<V>), Error> {
        let options = Fields::read(
            value,
            entry.field,
            entry.example,
            entry.what,
            CLIENT_OPTIONS,
            CREDENTIAL_OPTIONS_DOTTED,
        )?;
        let credential = options.get("credential");
        let client_options = ClientOptions {
            client_id: options.string("clientId")?,
            authority: options.string("authority")?,
            tenant_id: options.string("tenantId")?,
            authority_host: options.string("authorityHost")?,
            token_endpoint: options.string("tokenEndpoint")?,
            extra_query_parameters: options.string_map("extraQueryParameters")?,
            credential: credential
                .map(|c| read_credential(c, callback))
                .transpose()?,
            client_auth_method: options.string("clientAuthMethod")?,
            assertion_audience: options.string("assertionAudience")?,
            expiry_buffer_seconds: options.count("expiryBufferSeconds"),
            max_cache_entries: options.count("maxCacheEntries"),
            max_retries: options.count("maxRetries"),
            attempt_timeout_ms: options.count("attemptTimeoutMs"),
            total_timeout_ms: options.count("totalTimeoutMs"),
            client_capabilities: options.string_list("clientCapabilities")?,
            allowed_authority_hosts: options.string_list("allowedAuthorityHosts")?,
            forced_refresh_parameter: None,
            tenant_parameter: None,
        };
        let host = HostFunctions {
            fetch: options.get("fetch").cloned(),
            on_refresh_error: options.get("onRefreshError").cloned(),
        };
        Ok((client_options, host))
    }

    /// `new BrokerClient({ url, callerId, key, fetch? })`: a client of the broker's token
    /// route, with `fetch` handed back.
    pub fn read_broker<V: OptionValue>(
        value: &V,
    ) -> Result<(ClientOptions, HostFunctions<V>), Error> {
        let options = Fields::read(
            value,
            "options",
            "{ url, callerId, key }",
            "BrokerClient option",
            BROKER_CLIENT_OPTIONS,
            &[],
        )?;
        let url = options.required_string(
            "url",
            "the broker's URL, e.g. https://cctoken-broker.example.workers.dev",
        )?;
        let caller_id =
            options.required_string("callerId", "the caller id configured in BROKER_CLIENTS")?;
        let key = options.required_string("key", "the caller's broker key")?;
        // Checked here so that a problem names the option the caller set, not the client
        // option it becomes (clientId, credential.clientSecret).
        if ClientId::parse(&caller_id).is_err() {
            return Err(Error::invalid_config(
                "callerId",
                "callerId must be the caller's id as configured in BROKER_CLIENTS: 1 to 256 characters without whitespace",
            ));
        }
        if key.is_empty() {
            return Err(Error::invalid_config(
                "key",
                "key is empty: pass the caller's broker key",
            ));
        }
        let token_url = format!("{}/token", url.trim_end_matches('/'));
        TokenEndpoint::generic_named("url", &token_url)?;
        let client_options = ClientOptions {
            client_id: Some(caller_id),
            token_endpoint: Some(token_url),
            client_auth_method: Some("client_secret_basic".into()),
            credential: Some(CredentialOptions {
                client_secret: Some(ClientSecret::new(key)),
                ..CredentialOptions::default()
            }),
            // The broker hands out tokens with at least its own buffer left; keep them until
            // a minute before expiry.
            expiry_buffer_seconds: Some(60),
            forced_refresh_parameter: Some((
                FORCE_REFRESH_FIELD.0.into(),
                FORCE_REFRESH_FIELD.1.into(),
            )),
            // A request's `tenant` goes to the broker as its form's `tenant`: one name from
            // the caller's code to the broker's grant check.
            tenant_parameter: Some(TENANT_PARAMETER),
            ..ClientOptions::default()
        };
        let host = HostFunctions {
            fetch: options.get("fetch").cloned(),
            ..HostFunctions::default()
        };
        Ok((client_options, host))
    }
}

fn read_credential<V: OptionValue>(
    credential: &V,
    callback: impl FnOnce(V) -> AssertionSource,
) -> Result<CredentialOptions, Error> {
    let credential = Fields::read(
        credential,
        "credential",
        "{ clientSecret: process.env.AZURE_CLIENT_SECRET }",
        "credential option",
        CREDENTIAL_OPTIONS,
        &[],
    )?;
    let secret = credential.get("clientSecret").map(|secret| {
        crate::option_value::required_text(
            secret,
            "credential.clientSecret",
            "the client secret's value from the app registration",
        )
    });
    let certificate = credential.get("certificate").map(read_certificate);
    let assertion = credential.get("clientAssertion").map(|assertion| {
        if assertion.is_callable() {
            return Ok(callback(assertion.clone()));
        }
        let assertion = crate::option_value::required_text(
            assertion,
            "credential.clientAssertion",
            "a signed JWT, or a function returning one",
        )?;
        Ok(AssertionSource::Fixed(Secret::new(assertion)))
    });
    Ok(CredentialOptions {
        client_secret: secret.transpose()?.map(ClientSecret::new),
        certificate: certificate.transpose()?,
        client_assertion: assertion.transpose()?,
    })
}

fn read_certificate<V: OptionValue>(certificate: &V) -> Result<CertificateKeyOptions, Error> {
    let certificate = Fields::read(
        certificate,
        "credential.certificate",
        "{ privateKeyPem, certificatePem }",
        "certificate option",
        CERTIFICATE_OPTIONS,
        &[],
    )?;
    Ok(CertificateKeyOptions {
        private_key_pem: certificate
            .string("credential.certificate.privateKeyPem")?
            .map(Secret::new),
        certificate_pem: certificate.string("credential.certificate.certificatePem")?,
        thumbprint: certificate.string("credential.certificate.thumbprint")?,
        thumbprint_sha256: certificate.string("credential.certificate.thumbprintSha256")?,
        send_x5c: certificate.flag("credential.certificate.sendX5c")?,
        algorithm: certificate.string("credential.certificate.algorithm")?,
        key_id: certificate.string("credential.certificate.keyId")?,
    })
}

#[cfg(test)]
mod tests;
