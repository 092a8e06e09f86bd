//! The options users write, typed, and the one validation of each, turned into a
//! [`ClientConfig`]. Every entry builds one: the npm constructor, `fromEnvironment` and
//! `fromConfigFile` (through [`crate::settings::AppSettings::into_client_options`]),
//! `BrokerClient`, the Worker's settings and native callers. Errors name the npm module's
//! option (`credential.certificate.thumbprint`, `maxRetries`); an adapter that reads other
//! names (the Worker's `MAX_RETRIES`) maps the `field` back to its own.

use std::rc::Rc;

use crate::assertion::{thumbprint_from_hex, JwsAlgorithm};
use crate::authority::TokenEndpoint;
use crate::client_config::{validate_client_id, ClientConfig};
use crate::credential::{
    AssertionSource, CertificateCredential, CertificateOptions, Credential, SecretAuthMethod,
};
use crate::error::Error;
use crate::pem::{parse_certificates, parse_private_key, KeyType, PrivateKey};
use crate::ports::Signer;
use crate::retry::RetryPolicy;
use crate::secret::{ClientSecret, Secret};

/// How the host turns a private key into a [`Signer`] for `algorithm` (WebCrypto in JS
/// hosts); the key was parsed and the algorithm chosen by [`ClientOptions::into_config`].
pub type MakeSigner<'a> = &'a dyn Fn(PrivateKey, JwsAlgorithm) -> Result<Rc<dyn Signer>, Error>;

/// A client's options as written, before validation. `None` is "not given": the default, or
/// for a required option, an error naming it.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// `clientId`: the Application (client) ID. Required.
    pub client_id: Option<String>,
    /// `authority`: `https://login.microsoftonline.com/<tenant>`. One of `authority`,
    /// `tenantId` (with `authorityHost`) or `tokenEndpoint`.
    pub authority: Option<String>,
    /// `tenantId`: the Directory (tenant) ID or a verified domain.
    pub tenant_id: Option<String>,
    /// `authorityHost`: the cloud's host, with `tenantId` only.
    pub authority_host: Option<String>,
    /// `tokenEndpoint`: any other OAuth2 server's token endpoint.
    pub token_endpoint: Option<String>,
    /// `extraQueryParameters`: appended to the token endpoint's URL.
    pub extra_query_parameters: Vec<(String, String)>,
    /// `credential`: exactly one kind. Required.
    pub credential: Option<CredentialOptions>,
    /// `clientAuthMethod`: `client_secret_post` (default) or `client_secret_basic`.
    pub client_auth_method: Option<String>,
    /// `assertionAudience`: the `aud` of signed assertions, instead of the endpoint's URL.
    pub assertion_audience: Option<String>,
    /// `expiryBufferSeconds`, 0 to 86,400 (default 300).
    pub expiry_buffer_seconds: Option<u64>,
    /// `maxCacheEntries`, 0 to 1,000,000 (default 1,000; 0 keeps one).
    pub max_cache_entries: Option<u64>,
    /// `maxRetries`, 0 to 10 (default 2).
    pub max_retries: Option<u64>,
    /// `attemptTimeoutMs`, 1 to 600,000 (default 10,000).
    pub attempt_timeout_ms: Option<u64>,
    /// `totalTimeoutMs`, 1 to 3,600,000 (default 30,000).
    pub total_timeout_ms: Option<u64>,
    /// `clientCapabilities`, e.g. `["cp1"]`: sent as the `xms_cc` claims request (see
    /// [`ClientConfig::with_client_capabilities`]).
    pub client_capabilities: Option<Vec<String>>,
    /// `allowedAuthorityHosts`: clouds besides the client's own that a request's `authority`
    /// may name (see [`ClientConfig::with_allowed_authority_hosts`]).
    pub allowed_authority_hosts: Option<Vec<String>>,
    /// A form parameter sent with forced requests only (`BrokerClient`'s `force_refresh`);
    /// see [`ClientConfig::with_forced_refresh_parameter`].
    pub forced_refresh_parameter: Option<(String, String)>,
    /// The form parameter a request's tenant is sent in (`BrokerClient`'s `tenant`); see
    /// [`ClientConfig::with_tenant_parameter`].
    pub tenant_parameter: Option<&'static str>,
}

/// `credential`: exactly one of its options.
#[derive(Clone, Default)]
pub struct CredentialOptions {
    /// `clientSecret`.
    pub client_secret: Option<ClientSecret>,
    /// `certificate`.
    pub certificate: Option<CertificateKeyOptions>,
    /// `clientAssertion`: a signed JWT, or a callback producing one per request.
    pub client_assertion: Option<AssertionSource>,
}

/// `credential.certificate`: a private key and what identifies it to the server.
#[derive(Debug, Clone, Default)]
pub struct CertificateKeyOptions {
    /// `privateKeyPem` (PKCS#8 or PKCS#1; may hold the certificate chain too). Required.
    pub private_key_pem: Option<Secret>,
    /// `certificatePem`: the chain, leaf first, when apart from the key.
    pub certificate_pem: Option<String>,
    /// `thumbprint`: SHA-1, hex.
    pub thumbprint: Option<String>,
    /// `thumbprintSha256`: hex.
    pub thumbprint_sha256: Option<String>,
    /// `sendX5c`: send the chain as `x5c`.
    pub send_x5c: bool,
    /// `algorithm`: `PS256`, `RS256` or `ES256` (default: as the key and identifiers suit).
    pub algorithm: Option<String>,
    /// `keyId`: the `kid` header.
    pub key_id: Option<String>,
}

/// The value a host reads for a count that is no whole number (negative, fractional, not a
/// number, text with other characters): outside every count's range, so the one range rule
/// refuses it with the one message.
pub const NOT_A_WHOLE_NUMBER: u64 = u64::MAX;

/// A count read as a JS number: the number, or [`NOT_A_WHOLE_NUMBER`].
pub fn whole_number(value: f64) -> u64 {
    // Only whole numbers JS represents exactly (up to 2^53 - 1).
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < 9_007_199_254_740_992.0
    {
        value as u64
    } else {
        NOT_A_WHOLE_NUMBER
    }
}

/// A count read as text (digits, blanks around them allowed): the number, or
/// [`NOT_A_WHOLE_NUMBER`].
pub fn whole_number_text(text: &str) -> u64 {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return NOT_A_WHOLE_NUMBER;
    }
    text.parse().unwrap_or(NOT_A_WHOLE_NUMBER)
}

/// A count option's name and bounds.
struct Count(&'static str, u64, u64);

const EXPIRY_BUFFER_SECONDS: Count = Count("expiryBufferSeconds", 0, 86_400);
const MAX_CACHE_ENTRIES: Count = Count("maxCacheEntries", 0, 1_000_000);
const MAX_RETRIES: Count = Count("maxRetries", 0, 10);
// 0 would end every attempt (or call) before it starts: refused, not quietly raised to 1.
const ATTEMPT_TIMEOUT_MS: Count = Count("attemptTimeoutMs", 1, 600_000);
const TOTAL_TIMEOUT_MS: Count = Count("totalTimeoutMs", 1, 3_600_000);

impl Count {
    fn check(&self, value: Option<u64>) -> Result<Option<u64>, Error> {
        let Count(field, min, max) = *self;
        match value {
            Some(n) if !(min..=max).contains(&n) => Err(Error::invalid_config(
                field,
                format!("{field} must be a whole number from {min} to {max}"),
            )),
            _ => Ok(value),
        }
    }
}

/// Replaces `into` with `from` when `from` is given.
fn replace_if_given<T>(into: &mut Option<T>, from: Option<T>) {
    if from.is_some() {
        *into = from;
    }
}

impl ClientOptions {
    /// Lays `overrides` over these options: each option given there replaces this one, and
    /// an override of where tokens come from (any of `authority`, `tenantId`,
    /// `authorityHost`, `tokenEndpoint`) replaces that choice entirely.
    pub fn merge(&mut self, overrides: ClientOptions) {
        let endpoint = [
            &overrides.authority,
            &overrides.tenant_id,
            &overrides.authority_host,
            &overrides.token_endpoint,
        ];
        if endpoint.iter().any(|option| option.is_some()) {
            self.authority = overrides.authority;
            self.tenant_id = overrides.tenant_id;
            self.authority_host = overrides.authority_host;
            self.token_endpoint = overrides.token_endpoint;
        }
        if !overrides.extra_query_parameters.is_empty() {
            self.extra_query_parameters = overrides.extra_query_parameters;
        }
        replace_if_given(&mut self.client_id, overrides.client_id);
        replace_if_given(&mut self.credential, overrides.credential);
        replace_if_given(&mut self.client_auth_method, overrides.client_auth_method);
        replace_if_given(&mut self.assertion_audience, overrides.assertion_audience);
        replace_if_given(
            &mut self.expiry_buffer_seconds,
            overrides.expiry_buffer_seconds,
        );
        replace_if_given(&mut self.max_cache_entries, overrides.max_cache_entries);
        replace_if_given(&mut self.max_retries, overrides.max_retries);
        replace_if_given(&mut self.attempt_timeout_ms, overrides.attempt_timeout_ms);
        replace_if_given(&mut self.total_timeout_ms, overrides.total_timeout_ms);
        replace_if_given(&mut self.client_capabilities, overrides.client_capabilities);
        replace_if_given(
            &mut self.allowed_authority_hosts,
            overrides.allowed_authority_hosts,
        );
        replace_if_given(
            &mut self.forced_refresh_parameter,
            overrides.forced_refresh_parameter,
        );
        replace_if_given(&mut self.tenant_parameter, overrides.tenant_parameter);
    }

    /// Validates every option and builds the configuration; `make_signer` makes the signer
    /// of a certificate credential.
    pub fn into_config(self, make_signer: MakeSigner<'_>) -> Result<ClientConfig, Error> {
        let client_id = self.client_id.unwrap_or_default();
        validate_client_id(&client_id)?;
        let endpoint = endpoint(
            self.authority,
            self.tenant_id,
            self.authority_host,
            self.token_endpoint,
        )?
        .with_extra_query_parameters(&self.extra_query_parameters);
        let credential = credential(
            self.credential.unwrap_or_default(),
            self.client_auth_method,
            make_signer,
        )?;
        let mut config = ClientConfig::new(&client_id, endpoint, credential)?;
        if let Some(audience) = self.assertion_audience {
            config = config.with_assertion_audience(audience);
        }
        if let Some(seconds) = EXPIRY_BUFFER_SECONDS.check(self.expiry_buffer_seconds)? {
            config = config.with_expiry_buffer_ms(seconds * 1000);
        }
        if let Some(entries) = MAX_CACHE_ENTRIES.check(self.max_cache_entries)? {
            config = config.with_cache_capacity(entries as usize);
        }
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            max_retries: MAX_RETRIES
                .check(self.max_retries)?
                .map_or(defaults.max_retries, |n| n as u32),
            attempt_timeout_ms: ATTEMPT_TIMEOUT_MS
                .check(self.attempt_timeout_ms)?
                .unwrap_or(defaults.attempt_timeout_ms),
            total_timeout_ms: TOTAL_TIMEOUT_MS
                .check(self.total_timeout_ms)?
                .unwrap_or(defaults.total_timeout_ms),
            ..defaults
        };
        config = config.with_retry_policy(retry);
        if let Some(capabilities) = self.client_capabilities {
            config = config.with_client_capabilities(capabilities)?;
        }
        if let Some(hosts) = self.allowed_authority_hosts {
            config = config.with_allowed_authority_hosts(&hosts)?;
        }
        if let Some((name, value)) = self.forced_refresh_parameter {
            config = config.with_forced_refresh_parameter(name, value);
        }
        if let Some(name) = self.tenant_parameter {
            config = config.with_tenant_parameter(name);
        }
        Ok(config)
    }
}

/// Exactly one of `authority`, `tenantId` (with optional `authorityHost`) or `tokenEndpoint`.
fn endpoint(
    authority: Option<String>,
    tenant_id: Option<String>,
    authority_host: Option<String>,
    token_endpoint: Option<String>,
) -> Result<TokenEndpoint, Error> {
    match (authority, tenant_id, token_endpoint) {
        (Some(authority), None, None) if authority_host.is_none() => TokenEndpoint::from_authority(&authority),
        (None, Some(tenant), None) => TokenEndpoint::from_tenant(&tenant, authority_host.as_deref()),
        (None, None, Some(url)) if authority_host.is_none() => TokenEndpoint::generic(&url),
        (None, None, None) => Err(Error::invalid_config(
            "authority",
            "authority is required: pass authority (\"https://login.microsoftonline.com/<tenant>\"), tenantId (with optional authorityHost), or tokenEndpoint for another OAuth2 server",
        )),
        _ => Err(Error::invalid_config(
            "authority",
            "pass exactly one of authority, tenantId (authorityHost goes only with tenantId) or tokenEndpoint",
        )),
    }
}

fn credential(
    options: CredentialOptions,
    client_auth_method: Option<String>,
    make_signer: MakeSigner<'_>,
) -> Result<Credential, Error> {
    let method = || match client_auth_method.as_deref() {
        None | Some("client_secret_post") => Ok(SecretAuthMethod::Post),
        Some("client_secret_basic") => Ok(SecretAuthMethod::Basic),
        Some(_) => Err(Error::invalid_config(
            "clientAuthMethod",
            "clientAuthMethod must be \"client_secret_post\" (default) or \"client_secret_basic\"",
        )),
    };
    match (
        options.client_secret,
        options.certificate,
        options.client_assertion,
    ) {
        (Some(secret), None, None) => Credential::client_secret_with(secret.expose(), method()?),
        (None, Some(certificate), None) => certificate_credential(certificate, make_signer),
        (None, None, Some(AssertionSource::Fixed(assertion))) => {
            Credential::client_assertion(assertion.expose())
        }
        (None, None, Some(callback)) => Ok(Credential::Assertion(callback)),
        (None, None, None) => Err(Error::invalid_config(
            "credential",
            "credential needs one of clientSecret, certificate or clientAssertion",
        )),
        _ => Err(Error::invalid_config(
            "credential",
            "credential takes exactly one of clientSecret, certificate or clientAssertion",
        )),
    }
}

const PRIVATE_KEY_PEM: &str = "credential.certificate.privateKeyPem";

/// The certificate recipe: the key, the chain (from `certificatePem`, else from a combined
/// PEM), the thumbprints, and the algorithm: as given, else ES256 for a P-256 key, RS256 when
/// only a SHA-1 thumbprint identifies the key (it identifies it only in RS256 assertions),
/// else PS256.
fn certificate_credential(
    options: CertificateKeyOptions,
    make_signer: MakeSigner<'_>,
) -> Result<Credential, Error> {
    let key_pem = options.private_key_pem.ok_or_else(|| {
        Error::invalid_config(
            PRIVATE_KEY_PEM,
            "credential.certificate.privateKeyPem is required: the PEM private key (PKCS#8 \"BEGIN PRIVATE KEY\" or PKCS#1 \"BEGIN RSA PRIVATE KEY\")",
        )
    })?;
    let key = parse_private_key(PRIVATE_KEY_PEM, key_pem.expose())?;
    let chain = match &options.certificate_pem {
        Some(pem) => parse_certificates("credential.certificate.certificatePem", pem)?,
        // A combined PEM (key and certificate in one file) serves as both.
        None => parse_certificates(PRIVATE_KEY_PEM, key_pem.expose()).unwrap_or_default(),
    };
    let thumbprint_sha1 = options
        .thumbprint
        .map(|hex| thumbprint_from_hex("credential.certificate.thumbprint", &hex, 20))
        .transpose()?;
    let thumbprint_sha256 = options
        .thumbprint_sha256
        .map(|hex| thumbprint_from_hex("credential.certificate.thumbprintSha256", &hex, 32))
        .transpose()?;
    let algorithm = match options.algorithm {
        Some(name) => JwsAlgorithm::parse("credential.certificate.algorithm", &name)?,
        None if key.key_type == KeyType::EcP256 => JwsAlgorithm::Es256,
        None if chain.is_empty() && thumbprint_sha256.is_none() && thumbprint_sha1.is_some() => {
            JwsAlgorithm::Rs256
        }
        None => JwsAlgorithm::Ps256,
    };
    let credential = CertificateCredential::new(
        make_signer(key, algorithm)?,
        CertificateOptions {
            certificate_chain: chain,
            thumbprint_sha256,
            thumbprint_sha1,
            send_x5c: options.send_x5c,
            key_id: options.key_id,
        },
    )?;
    Ok(Credential::Certificate(Rc::new(credential)))
}

mod read;
mod written;
pub use read::{Entry, HostFunctions};
pub use written::Written;

#[cfg(test)]
mod tests;
