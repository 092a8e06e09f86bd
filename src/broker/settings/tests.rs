use super::*;
use crate::retry::RetryPolicy;

#[test]
fn a_description_quoting_a_secret_is_withheld() {
    let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n";
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
fn client_capabilities_are_a_comma_separated_list() {
    assert!(client(&[]).unwrap().client_capabilities().is_empty());
    let set = client(&[("CLIENT_CAPABILITIES", " cp1, cp2 ")]).unwrap();
    assert_eq!(
        set.client_capabilities(),
        ["cp1".to_owned(), "cp2".to_owned()]
    );
    for value in ["cp1,,cp2", "cp 1", "cp1,\"x\""] {
        let problem = client(&[("CLIENT_CAPABILITIES", value)]).unwrap_err();
        assert_eq!(problem.setting, "CLIENT_CAPABILITIES");
        assert!(
            problem.detail.starts_with("CLIENT_CAPABILITIES["),
            "{}",
            problem.detail
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
    let key = include_str!("../../../tests/fixtures/rsa-pkcs8.key.pem");
    let cert = include_str!("../../../tests/fixtures/rsa.cert.pem");
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
    assert_eq!(settings.previous_cache_key, None);
    let previous = STANDARD.encode([9u8; 32]);
    let settings = read(&[("CACHE_KEY_PREVIOUS", &format!(" {previous}\n"))]).unwrap();
    assert_eq!(settings.previous_cache_key, Some([9; 32]));
    assert_eq!(settings.cache_key, [7; 32], "writes keep CACHE_KEY");
    assert_eq!(
        read(&[("CACHE_KEY_PREVIOUS", " ")])
            .unwrap()
            .previous_cache_key,
        None,
        "blank is unset"
    );
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
        (
            &[("CACHE_KEY_PREVIOUS", "AAAA")],
            "CACHE_KEY_PREVIOUS",
            "CACHE_KEY_PREVIOUS must be 32",
        ),
        (
            &[("CACHE_KEY_PREVIOUS", "not base64 at all!")],
            "CACHE_KEY_PREVIOUS",
            "CACHE_KEY_PREVIOUS must be 32",
        ),
        // CACHE_KEY is read first.
        (
            &[("CACHE_KEY", "AAAA"), ("CACHE_KEY_PREVIOUS", "AAAA")],
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
        if problem.setting.starts_with("CACHE_KEY") {
            // Never the value: the detail is the same fixed text.
            assert_eq!(problem.detail, problem.public(), "{pairs:?}");
        }
    }
    // 31 and 33 bytes are refused alike, and the value is never quoted.
    for bytes in [31, 33] {
        let key = STANDARD.encode(vec![5u8; bytes]);
        let problem = read(&[("CACHE_KEY_PREVIOUS", key.as_str())]).err().unwrap();
        assert_eq!(problem.setting, "CACHE_KEY_PREVIOUS");
        assert!(!problem.log_line().contains(&key));
        assert_eq!(
            problem.public(),
            "CACHE_KEY_PREVIOUS must be 32 random bytes in base64: the CACHE_KEY being replaced, `wrangler secret put CACHE_KEY_PREVIOUS`"
        );
    }
}
