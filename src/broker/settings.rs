//! The broker's settings (the Worker's vars and secrets) mapped onto the core's
//! [`ClientOptions`], [`Callers`] and the KV cache key, through a lookup the host supplies.
//! Problems name the setting, never its value: anyone can read `/healthz` and the 500 on
//! `/token`, so they see the setting's name and fixed text; the rest is for the log only.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::callers::Callers;
use crate::client_config::ClientConfig;
use crate::client_options::{
    whole_number_text, CertificateKeyOptions, ClientOptions, CredentialOptions, MakeSigner,
};
use crate::secret::{leaks, ClientSecret, Secret, LEAK_WINDOW};

/// Everything the broker reads from its settings.
pub struct BrokerSettings {
    /// The app's client configuration.
    pub client: ClientConfig,
    /// Who may call.
    pub callers: Callers,
    /// AES-256-GCM key for KV values: seals every write, opens entries.
    pub cache_key: [u8; 32],
    /// The key `cache_key` replaced, while rotating: opens entries sealed before the rotation
    /// (they are sealed again with `cache_key` on their next write).
    pub previous_cache_key: Option<[u8; 32]>,
}

/// A missing or unusable setting. Anyone can read `/healthz` and the 500 on `/token`, so what
/// they show is the setting's name, an index into it, and fixed text ([`Self::public`]); the
/// rest ([`Self::detail`]) goes to the Worker's log only.
#[derive(Debug, Clone)]
pub struct Misconfigured {
    /// The setting to fix, e.g. `CLIENT_SECRET`.
    pub setting: &'static str,
    /// Which entry of a list setting (`BROKER_CLIENTS`), counted from 0 as written.
    pub index: Option<usize>,
    /// What to do, as fixed text: never built from any setting's value.
    public: Cow<'static, str>,
    /// What is wrong, for the log: may name caller ids, fields and scopes, never a secret value.
    pub detail: String,
}

impl Misconfigured {
    /// `SETTING` or `SETTING[index]`.
    pub fn name(&self) -> String {
        match self.index {
            Some(index) => format!("{}[{index}]", self.setting),
            None => self.setting.to_owned(),
        }
    }

    /// The fixed text unauthenticated answers carry.
    pub fn public(&self) -> &str {
        &self.public
    }

    /// The line for the Worker's log.
    pub fn log_line(&self) -> String {
        format!("broker misconfigured: {}: {}", self.name(), self.detail)
    }

    /// A setting that is missing or fails a fixed rule: the rule is both public and the detail.
    pub fn missing(setting: &'static str, rule: &'static str) -> Self {
        Self::rule(setting, Cow::Borrowed(rule))
    }

    /// A setting that fails a rule stated without its value (a count's bounds): the rule is
    /// both public and the detail.
    fn rule(setting: &'static str, rule: Cow<'static, str>) -> Self {
        Misconfigured {
            setting,
            index: None,
            detail: rule.to_string(),
            public: rule,
        }
    }

    /// A setting whose value was refused with a description built from it (a core error, a
    /// parser's complaint): that description goes to the log only.
    pub fn refused(setting: &'static str, detail: impl Into<String>) -> Self {
        Misconfigured {
            setting,
            index: None,
            public: Cow::Borrowed(UNUSABLE),
            detail: detail.into(),
        }
    }
}

const UNUSABLE: &str = "this setting is not usable; the Worker's log (`wrangler tail`) says why";

/// The core's description of a refused secret, unless it holds text of the secret itself
/// (a parser quoting what it could not read).
fn about_secret(secret: &str, description: &str) -> String {
    if quotes(description, secret) {
        "refused (the description quoted the value, so it is withheld)".to_owned()
    } else {
        description.to_owned()
    }
}

/// True when `text` holds 16 or more consecutive characters of `secret`'s material: of a
/// PEM, its base64 runs (the key), not the `-----BEGIN PRIVATE KEY-----` lines that messages
/// legitimately name; of any other secret, the value.
fn quotes(text: &str, secret: &str) -> bool {
    if !secret.contains("-----") {
        return leaks(text, secret.trim());
    }
    secret
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
        .filter(|run| run.len() >= LEAK_WINDOW)
        .any(|run| leaks(text, run))
}

/// The Worker's settings for the app's client, by the npm option each sets (the `field` the
/// core's errors name; a dotted field belongs to the setting of its first parts), and what to
/// tell anyone when the setting is missing.
const CLIENT_SETTINGS: [(&str, &str, &str); 12] = [
    ("tenantId", "TENANT_ID", "set TENANT_ID (and AUTHORITY_HOST outside the public cloud), AUTHORITY, or TOKEN_ENDPOINT"),
    ("authorityHost", "AUTHORITY_HOST", UNUSABLE),
    ("authority", "AUTHORITY", UNUSABLE),
    ("tokenEndpoint", "TOKEN_ENDPOINT", UNUSABLE),
    ("clientId", "CLIENT_ID", "CLIENT_ID is missing: the app registration's Application (client) ID"),
    ("credential.clientSecret", "CLIENT_SECRET", UNUSABLE),
    ("credential.certificate", "CLIENT_CERTIFICATE", UNUSABLE),
    ("credential", "CLIENT_SECRET", "no app credential: `wrangler secret put CLIENT_SECRET`, or CLIENT_CERTIFICATE with a PEM holding the key and certificate"),
    ("maxRetries", "MAX_RETRIES", UNUSABLE),
    ("attemptTimeoutMs", "ATTEMPT_TIMEOUT_MS", UNUSABLE),
    ("totalTimeoutMs", "TOTAL_TIMEOUT_MS", UNUSABLE),
    ("clientCapabilities", "CLIENT_CAPABILITIES", UNUSABLE),
];

/// The row of [`CLIENT_SETTINGS`] for an option name (`credential.certificate.thumbprint`
/// belongs to `credential.certificate`).
fn client_setting(option: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    CLIENT_SETTINGS.iter().find(|(name, ..)| {
        option
            .strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    })
}

/// The core's description with the npm option names it uses in the Worker's setting names.
fn in_setting_names(description: &str) -> String {
    let mut shown = String::new();
    let mut word = String::new();
    for c in description.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '.' {
            word.push(c);
            continue;
        }
        let name = word.trim_end_matches('.');
        match client_setting(name) {
            Some((_, setting, _)) => shown.extend([setting, &word[name.len()..]]),
            None => shown.push_str(&word),
        }
        word.clear();
        shown.push(c);
    }
    shown.pop();
    shown
}

/// The count settings, by option name: their refusals state the bounds, never the value.
const COUNT_SETTINGS: [&str; 3] = ["maxRetries", "attemptTimeoutMs", "totalTimeoutMs"];

/// A refusal caused by which settings are set together, told as fixed text naming the one to
/// change; `None` when the value of one setting is at fault.
fn settings_rule(field: &str, is_set: &dyn Fn(&str) -> bool) -> Option<Misconfigured> {
    match field {
        "authority" => {
            let chosen = ["TENANT_ID", "AUTHORITY", "TOKEN_ENDPOINT"]
                .into_iter()
                .filter(|name| is_set(name))
                .count();
            match chosen {
                0 => Some(Misconfigured::missing("TENANT_ID", CLIENT_SETTINGS[0].2)),
                // TENANT_ID takes AUTHORITY_HOST; its own refusals have other fields.
                1 if is_set("AUTHORITY_HOST") => Some(Misconfigured::missing(
                    "AUTHORITY_HOST",
                    "AUTHORITY_HOST goes only with TENANT_ID: unset it, or set TENANT_ID in place of AUTHORITY or TOKEN_ENDPOINT",
                )),
                1 => None,
                _ => Some(Misconfigured::missing(
                    if is_set("AUTHORITY") { "AUTHORITY" } else { "TENANT_ID" },
                    "set only one of TENANT_ID, AUTHORITY and TOKEN_ENDPOINT",
                )),
            }
        }
        // The credential as a whole is refused only when none is set or both are.
        "credential" if is_set("CLIENT_CERTIFICATE") => Some(Misconfigured::missing(
            "CLIENT_SECRET",
            "set CLIENT_SECRET or CLIENT_CERTIFICATE, not both",
        )),
        _ => None,
    }
}

/// The app's client from the settings `lookup` finds, through the core's one validation of
/// client options; a refusal names the setting to fix.
fn client_config(
    lookup: &dyn Fn(&str) -> Option<String>,
    make_signer: MakeSigner<'_>,
) -> Result<ClientConfig, Misconfigured> {
    let count = |name| lookup(name).map(|text| whole_number_text(&text));
    let secret = lookup("CLIENT_SECRET");
    let pem = lookup("CLIENT_CERTIFICATE");
    let options = ClientOptions {
        client_id: lookup("CLIENT_ID"),
        authority: lookup("AUTHORITY"),
        tenant_id: lookup("TENANT_ID"),
        authority_host: lookup("AUTHORITY_HOST"),
        token_endpoint: lookup("TOKEN_ENDPOINT"),
        credential: Some(CredentialOptions {
            client_secret: secret.clone().map(ClientSecret::new),
            // A combined PEM: the key and its certificate chain.
            certificate: pem.clone().map(|pem| CertificateKeyOptions {
                private_key_pem: Some(Secret::new(pem)),
                ..CertificateKeyOptions::default()
            }),
            ..CredentialOptions::default()
        }),
        max_retries: count("MAX_RETRIES"),
        attempt_timeout_ms: count("ATTEMPT_TIMEOUT_MS"),
        total_timeout_ms: count("TOTAL_TIMEOUT_MS"),
        // Comma-separated, e.g. "cp1": the clientCapabilities option.
        client_capabilities: lookup("CLIENT_CAPABILITIES").map(|list| {
            list.split(',')
                .map(|capability| capability.trim().to_owned())
                .collect()
        }),
        ..ClientOptions::default()
    };
    options.into_config(make_signer).map_err(|error| {
        let field = error.field().unwrap_or("clientId");
        if let Some(problem) = settings_rule(field, &|name| lookup(name).is_some()) {
            return problem;
        }
        if COUNT_SETTINGS.contains(&field) {
            // The core states a count's bounds without the value given: fixed text.
            let setting = client_setting(field).map_or("MAX_RETRIES", |row| row.1);
            return Misconfigured::rule(setting, Cow::Owned(in_setting_names(error.message())));
        }
        // Every field the core names has a row; an unforeseen one is the app's (clientId's row).
        let &(_, setting, when_missing) = client_setting(field).unwrap_or(&CLIENT_SETTINGS[4]);
        if lookup(setting).is_none() && when_missing != UNUSABLE {
            return Misconfigured::missing(setting, when_missing);
        }
        // Checked before renaming, which could split a quoted run of a secret.
        let detail = [&secret, &pem]
            .into_iter()
            .flatten()
            .fold(error.message().to_owned(), |detail, secret| {
                about_secret(secret, &detail)
            });
        Misconfigured::refused(setting, in_setting_names(&detail))
    })
}

impl BrokerSettings {
    /// Reads `TENANT_ID` (+ `AUTHORITY_HOST`) or `AUTHORITY` or `TOKEN_ENDPOINT`, `CLIENT_ID`,
    /// `CLIENT_SECRET` or `CLIENT_CERTIFICATE`, `BROKER_CLIENTS`, `CACHE_KEY`, and optionally
    /// `CACHE_KEY_PREVIOUS`, `MAX_RETRIES`, `ATTEMPT_TIMEOUT_MS`, `TOTAL_TIMEOUT_MS`,
    /// `CLIENT_CAPABILITIES` (comma-separated, e.g. `cp1`), through
    /// `lookup` (a setting's
    /// text; blank counts as unset). `make_signer` turns a certificate's key into a signer.
    pub fn read(
        lookup: impl Fn(&str) -> Option<String>,
        make_signer: MakeSigner<'_>,
    ) -> Result<Self, Misconfigured> {
        let lookup = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let client = client_config(&lookup, make_signer)?;
        let callers = lookup("BROKER_CLIENTS")
            .ok_or_else(|| Misconfigured::missing("BROKER_CLIENTS", "BROKER_CLIENTS is missing: `wrangler secret put BROKER_CLIENTS` with the callers' key hashes and scopes"))
            .and_then(|json| {
                Callers::parse(&json, client.token_endpoint().scope_rules()).map_err(|e| {
                    Misconfigured {
                        setting: "BROKER_CLIENTS",
                        index: e.index,
                        public: Cow::Borrowed(match e.index {
                            Some(_) => "this caller's entry is not usable; the Worker's log (`wrangler tail`) says why",
                            None => "must be a JSON object of callers: {\"<caller id>\": {\"keySha256\": [\"<64 hex digits>\"], \"scopes\": [\"…\"], \"ratePerMinute\": 600}}",
                        }),
                        detail: e.detail,
                    }
                })
            })?;
        let cache_key = lookup("CACHE_KEY")
            .and_then(|b64| aes_key(&b64))
            .ok_or_else(|| Misconfigured::missing("CACHE_KEY", "CACHE_KEY must be 32 random bytes in base64: `openssl rand -base64 32 | wrangler secret put CACHE_KEY`"))?;
        // Optional, but once set held to the same rule: a mistyped previous key would
        // otherwise only show as every old entry missing.
        let previous_cache_key = lookup("CACHE_KEY_PREVIOUS")
            .map(|b64| {
                aes_key(&b64).ok_or_else(|| Misconfigured::missing("CACHE_KEY_PREVIOUS", "CACHE_KEY_PREVIOUS must be 32 random bytes in base64: the CACHE_KEY being replaced, `wrangler secret put CACHE_KEY_PREVIOUS`"))
            })
            .transpose()?;
        Ok(BrokerSettings {
            client,
            callers,
            cache_key,
            previous_cache_key,
        })
    }
}

/// An AES-256 key from its base64 text: exactly 32 bytes.
fn aes_key(b64: &str) -> Option<[u8; 32]> {
    let bytes = STANDARD.decode(b64.trim()).ok()?;
    <[u8; 32]>::try_from(bytes).ok()
}

#[cfg(test)]
mod tests;
