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
    /// AES-256-GCM key for KV values.
    pub cache_key: [u8; 32],
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
const CLIENT_SETTINGS: [(&str, &str, &str); 11] = [
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
    /// `MAX_RETRIES`, `ATTEMPT_TIMEOUT_MS`, `TOTAL_TIMEOUT_MS`, through `lookup` (a setting's
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
            .and_then(|b64| STANDARD.decode(b64.trim()).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| Misconfigured::missing("CACHE_KEY", "CACHE_KEY must be 32 random bytes in base64: `openssl rand -base64 32 | wrangler secret put CACHE_KEY`"))?;
        Ok(BrokerSettings {
            client,
            callers,
            cache_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::RetryPolicy;

    #[test]
    fn a_description_quoting_a_secret_is_withheld() {
        let pem =
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n";
        for (description, withheld) in [
            ("CLIENT_CERTIFICATE holds no certificate", false),
            (
                "unknown label \"PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0\"",
                true,
            ),
            ("…ANBgkqhkiG9w0BAQEF…", true),
            ("…NBgkqhkiG9w0BAQ…", false),
            (
                "CLIENT_CERTIFICATE has a malformed BEGIN line: it must read \"-----BEGIN <LABEL>-----\" with five dashes on each side, e.g. \"-----BEGIN PRIVATE KEY-----\"",
                false,
            ),
        ] {
            let shown = about_secret(pem, description);
            assert_eq!(shown != description, withheld, "{description}");
        }
        assert_ne!(
            about_secret("hunter2", "the secret hunter2 is short"),
            "the secret hunter2 is short"
        );
    }

    /// The client from a base of usable settings with `pairs` over them ("" unsets one).
    fn client(pairs: &[(&str, &str)]) -> Result<ClientConfig, Misconfigured> {
        let base = [
            ("TENANT_ID", "contoso.onmicrosoft.com"),
            ("CLIENT_ID", "app"),
            ("CLIENT_SECRET", "s3cret-value"),
        ];
        client_config(
            &|name| {
                let (_, value) = pairs.iter().chain(&base).find(|(n, _)| *n == name)?;
                Some(value.to_string()).filter(|v| !v.is_empty())
            },
            &|_, _| Err(crate::Error::crypto("these tests make no signer")),
        )
    }

    #[test]
    fn retry_settings_default_unless_set() {
        let defaults = client(&[]).unwrap();
        assert_eq!(*defaults.retry_policy(), RetryPolicy::default());
        let set = client(&[
            ("MAX_RETRIES", "0"),
            ("ATTEMPT_TIMEOUT_MS", " 250 "),
            ("TOTAL_TIMEOUT_MS", "3000"),
        ])
        .unwrap();
        let retry = set.retry_policy();
        assert_eq!(retry.max_retries, 0);
        assert_eq!(retry.attempt_timeout_ms, 250);
        assert_eq!(retry.total_timeout_ms, 3000);
        assert_eq!(retry.base_delay_ms, RetryPolicy::default().base_delay_ms);
    }

    #[test]
    fn unusable_retry_settings_name_the_setting_not_the_value() {
        for (name, value, description) in [
            ("MAX_RETRIES", "11", "from 0 to 10"),
            ("MAX_RETRIES", "-1", "from 0 to 10"),
            ("ATTEMPT_TIMEOUT_MS", "0", "from 1 to 600000"),
            ("ATTEMPT_TIMEOUT_MS", "1.5", "from 1 to 600000"),
            ("TOTAL_TIMEOUT_MS", "3600001", "from 1 to 3600000"),
            ("TOTAL_TIMEOUT_MS", "soon", "from 1 to 3600000"),
            (
                "TOTAL_TIMEOUT_MS",
                "99999999999999999999999",
                "from 1 to 3600000",
            ),
        ] {
            let problem = client(&[(name, value)]).unwrap_err();
            assert_eq!(problem.setting, name);
            let rule = format!("{name} must be a whole number {description}");
            assert_eq!(problem.detail, rule);
            assert_eq!(
                problem.public(),
                rule,
                "the bounds, never the value: public"
            );
        }
    }

    #[test]
    fn client_problems_name_the_setting_to_fix() {
        let no_endpoint = client(&[("TENANT_ID", "")]).unwrap_err();
        assert_eq!(no_endpoint.setting, "TENANT_ID");
        assert!(no_endpoint.public().starts_with("set TENANT_ID"));
        const BOTH_ENDPOINTS: &str = "set only one of TENANT_ID, AUTHORITY and TOKEN_ENDPOINT";
        /// Settings over the base, the setting named, the start of its public text.
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: [Case; 9] = [
            (
                &[("AUTHORITY", "https://login.microsoftonline.com/t")],
                "AUTHORITY",
                BOTH_ENDPOINTS,
            ),
            (
                &[("TOKEN_ENDPOINT", "https://idp.example/token")],
                "TENANT_ID",
                BOTH_ENDPOINTS,
            ),
            (
                &[("TENANT_ID", ""), ("AUTHORITY", "https://h/a/b")],
                "AUTHORITY",
                UNUSABLE,
            ),
            (
                &[("AUTHORITY_HOST", "https://h/path")],
                "AUTHORITY_HOST",
                UNUSABLE,
            ),
            (
                &[
                    ("TENANT_ID", ""),
                    ("TOKEN_ENDPOINT", "https://idp.example/token"),
                    ("AUTHORITY_HOST", "https://login.microsoftonline.us"),
                ],
                "AUTHORITY_HOST",
                "AUTHORITY_HOST goes only with TENANT_ID",
            ),
            (
                &[
                    ("TENANT_ID", ""),
                    ("AUTHORITY_HOST", "https://login.microsoftonline.us"),
                ],
                "TENANT_ID",
                "set TENANT_ID",
            ),
            (
                &[("TENANT_ID", ""), ("TOKEN_ENDPOINT", "ftp://h")],
                "TOKEN_ENDPOINT",
                UNUSABLE,
            ),
            (&[("CLIENT_ID", "a b")], "CLIENT_ID", UNUSABLE),
            (
                &[("CLIENT_CERTIFICATE", "pem")],
                "CLIENT_SECRET",
                "set CLIENT_SECRET or CLIENT_CERTIFICATE, not both",
            ),
        ];
        for (pairs, setting, public) in cases {
            let problem = client(pairs).unwrap_err();
            assert_eq!(problem.setting, setting, "{pairs:?}");
            assert!(
                problem.public().starts_with(public),
                "{pairs:?}: {}",
                problem.public()
            );
            assert!(!problem.detail.contains("s3cret-value"));
        }
        assert_eq!(
            client(&[("CLIENT_ID", "")]).unwrap_err().public(),
            "CLIENT_ID is missing: the app registration's Application (client) ID"
        );
        let no_credential = client(&[("CLIENT_SECRET", "")]).unwrap_err();
        assert_eq!(no_credential.setting, "CLIENT_SECRET");
        assert!(no_credential.public().starts_with("no app credential"));
    }

    /// CLIENT_CERTIFICATE is one PEM holding the key (and the certificate): the key reaches
    /// the signer factory.
    #[test]
    fn the_certificate_setting_reaches_the_signer() {
        let key = include_str!("../../tests/fixtures/rsa-pkcs8.key.pem");
        let cert = include_str!("../../tests/fixtures/rsa.cert.pem");
        let pem = format!("{key}{cert}");
        let settings = [
            ("TENANT_ID", "contoso.onmicrosoft.com"),
            ("CLIENT_ID", "app"),
            ("CLIENT_CERTIFICATE", pem.as_str()),
        ];
        let problem = client_config(
            &|name| {
                let (_, value) = settings.iter().find(|(n, _)| *n == name)?;
                Some(value.to_string())
            },
            &|_, _| {
                Err(crate::Error::invalid_config(
                    "credential.certificate",
                    "the signer factory was reached",
                ))
            },
        )
        .unwrap_err();
        assert_eq!(problem.setting, "CLIENT_CERTIFICATE");
        assert_eq!(problem.detail, "the signer factory was reached");
    }

    #[test]
    fn descriptions_use_the_setting_names() {
        assert_eq!(
            in_setting_names("pass exactly one of authority, tenantId (authorityHost goes only with tenantId) or tokenEndpoint."),
            "pass exactly one of AUTHORITY, TENANT_ID (AUTHORITY_HOST goes only with TENANT_ID) or TOKEN_ENDPOINT."
        );
        assert_eq!(
            in_setting_names("credential.certificate.privateKeyPem holds no private key"),
            "CLIENT_CERTIFICATE holds no private key"
        );
    }

    #[test]
    fn public_text_is_fixed_and_names_the_entry() {
        let problem = Misconfigured {
            setting: "BROKER_CLIENTS",
            index: Some(3),
            public: Cow::Borrowed(UNUSABLE),
            detail: "caller \"jobs\" appears again".to_owned(),
        };
        assert_eq!(problem.name(), "BROKER_CLIENTS[3]");
        assert_eq!(problem.public(), UNUSABLE);
        assert_eq!(
            problem.log_line(),
            "broker misconfigured: BROKER_CLIENTS[3]: caller \"jobs\" appears again"
        );
        assert_eq!(
            Misconfigured::refused("TENANT_ID", "tenant \"x y\" is not valid").public(),
            UNUSABLE
        );
    }

    /// Every setting through `read`, as the Worker passes them: blank is unset, and each
    /// setting's problem is named with its fixed public text.
    #[test]
    fn reads_callers_and_the_cache_key_after_the_client() {
        let callers = format!(
            r#"{{"jobs": {{"keySha256": ["{}"], "scopes": ["api://a/.default"]}}}}"#,
            "01".repeat(32)
        );
        let cache_key = STANDARD.encode([7u8; 32]);
        let read = |pairs: &[(&str, &str)]| {
            let base = [
                ("TENANT_ID", "contoso.onmicrosoft.com"),
                ("CLIENT_ID", "app"),
                ("CLIENT_SECRET", "s3cret-value"),
                ("BROKER_CLIENTS", callers.as_str()),
                ("CACHE_KEY", cache_key.as_str()),
            ];
            BrokerSettings::read(
                |name| {
                    let (_, value) = pairs.iter().chain(&base).find(|(n, _)| *n == name)?;
                    Some(value.to_string())
                },
                &|_, _| Err(crate::Error::crypto("these tests make no signer")),
            )
        };
        let settings = read(&[]).unwrap();
        assert_eq!(settings.cache_key, [7; 32]);
        assert_eq!(settings.callers.by_key(&[1; 32]).unwrap().id, "jobs");
        for (pairs, name, public) in [
            (
                &[("CLIENT_SECRET", " \n")][..],
                "CLIENT_SECRET",
                "no app credential",
            ),
            (
                &[("BROKER_CLIENTS", " ")],
                "BROKER_CLIENTS",
                "BROKER_CLIENTS is missing",
            ),
            (
                &[("BROKER_CLIENTS", "[]")],
                "BROKER_CLIENTS",
                "must be a JSON object",
            ),
            (
                &[("BROKER_CLIENTS", r#"{"a": 1}"#)],
                "BROKER_CLIENTS[0]",
                "this caller's entry is not usable",
            ),
            (&[("CACHE_KEY", "")], "CACHE_KEY", "CACHE_KEY must be 32"),
            (
                &[("CACHE_KEY", "AAAA")],
                "CACHE_KEY",
                "CACHE_KEY must be 32",
            ),
            // The client is read first: its problem is the one named.
            (
                &[("CLIENT_ID", ""), ("CACHE_KEY", "")],
                "CLIENT_ID",
                "CLIENT_ID is missing",
            ),
        ] {
            let problem = read(pairs).err().unwrap();
            assert_eq!(problem.name(), name, "{pairs:?}");
            let health = super::super::reply::health_body("1.0.0", Some(&problem));
            assert_eq!(
                health.get("index").and_then(serde_json::Value::as_u64),
                problem.index.map(|index| index as u64),
                "{pairs:?}"
            );
            assert!(
                problem.public().starts_with(public),
                "{pairs:?}: {}",
                problem.public()
            );
        }
    }
}
