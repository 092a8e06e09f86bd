use super::*;
use crate::option_value::fake::{object, text, Fake};

fn read(value: Fake) -> Result<(ClientOptions, HostFunctions<Fake>), Error> {
    ClientOptions::read(&value, Entry::CONSTRUCTOR, |_| {
        AssertionSource::Fixed(Secret::new("from the callback"))
    })
}

fn refusal<T>(result: Result<T, Error>) -> (Option<&'static str>, String) {
    let error = result.err().expect("refused");
    (error.field(), error.message().to_owned())
}

#[test]
fn every_option_is_read_and_functions_are_handed_back() {
    let (options, host) = read(object([
        ("clientId", text("app")),
        ("tenantId", text("t")),
        ("authorityHost", text("https://login.microsoftonline.us")),
        ("extraQueryParameters", object([("slice", text("x"))])),
        (
            "credential",
            object([("clientAssertion", Fake::Function("assert"))]),
        ),
        ("clientAuthMethod", text("client_secret_basic")),
        ("assertionAudience", text("aud")),
        ("expiryBufferSeconds", Fake::Number(60.0)),
        ("maxCacheEntries", Fake::Number(10.0)),
        ("maxRetries", Fake::Number(1.5)),
        ("attemptTimeoutMs", Fake::Number(1000.0)),
        ("totalTimeoutMs", Fake::Absent),
        ("fetch", Fake::Function("fetch")),
        ("onRefreshError", Fake::Function("handler")),
    ]))
    .unwrap();
    assert_eq!(options.client_id.as_deref(), Some("app"));
    assert_eq!(options.tenant_id.as_deref(), Some("t"));
    assert_eq!(
        options.authority_host.as_deref(),
        Some("https://login.microsoftonline.us")
    );
    assert_eq!(
        options.extra_query_parameters,
        [("slice".to_owned(), "x".to_owned())]
    );
    let Some(AssertionSource::Fixed(assertion)) = options.credential.unwrap().client_assertion
    else {
        panic!("the callback's assertion source");
    };
    assert_eq!(assertion.expose(), "from the callback");
    assert_eq!(
        options.client_auth_method.as_deref(),
        Some("client_secret_basic")
    );
    assert_eq!(options.assertion_audience.as_deref(), Some("aud"));
    assert_eq!(options.expiry_buffer_seconds, Some(60));
    assert_eq!(options.max_cache_entries, Some(10));
    assert_eq!(
        options.max_retries,
        Some(crate::client_options::NOT_A_WHOLE_NUMBER)
    );
    assert_eq!(options.attempt_timeout_ms, Some(1000));
    assert_eq!(options.total_timeout_ms, None);
    assert_eq!(host.fetch, Some(Fake::Function("fetch")));
    assert_eq!(host.on_refresh_error, Some(Fake::Function("handler")));
}

#[test]
fn credentials_are_read_with_their_dotted_fields() {
    let credential = |credential: Fake| read(object([("credential", credential)]));
    let (options, _) = credential(object([("clientSecret", text("s3cret"))])).unwrap();
    assert_eq!(
        options.credential.unwrap().client_secret.unwrap().expose(),
        "s3cret"
    );
    assert_eq!(
        refusal(credential(object([("clientSecret", Fake::Number(1.0))]))),
        (
            Some("credential.clientSecret"),
            "credential.clientSecret must be a string: the client secret's value from the app registration".into()
        )
    );
    assert_eq!(
        refusal(credential(object([("clientAssertion", Fake::Flag(true))]))).1,
        "credential.clientAssertion must be a string: a signed JWT, or a function returning one"
    );
    assert_eq!(
        refusal(credential(object([("clientSecert", text("s"))]))),
        (
            Some("credential"),
            "unknown credential option \"clientSecert\": did you mean \"clientSecret\"?".into()
        )
    );
    assert_eq!(
        refusal(credential(text("s"))).1,
        "credential must be an object, e.g. { clientSecret: process.env.AZURE_CLIENT_SECRET }"
    );
    let certificate = object([
        ("privateKeyPem", text("key")),
        ("certificatePem", text("chain")),
        ("thumbprint", text("ab")),
        ("thumbprintSha256", text("cd")),
        ("sendX5c", Fake::Flag(true)),
        ("algorithm", text("PS256")),
        ("keyId", text("kid")),
    ]);
    let (options, _) = credential(object([("certificate", certificate)])).unwrap();
    let certificate = options.credential.unwrap().certificate.unwrap();
    assert_eq!(certificate.private_key_pem.unwrap().expose(), "key");
    assert_eq!(certificate.certificate_pem.as_deref(), Some("chain"));
    assert_eq!(certificate.thumbprint.as_deref(), Some("ab"));
    assert_eq!(certificate.thumbprint_sha256.as_deref(), Some("cd"));
    assert!(certificate.send_x5c);
    assert_eq!(certificate.algorithm.as_deref(), Some("PS256"));
    assert_eq!(certificate.key_id.as_deref(), Some("kid"));
    let bad = object([("certificate", object([("sendX5c", text("yes"))]))]);
    assert_eq!(
        refusal(credential(bad)),
        (
            Some("credential.certificate.sendX5c"),
            "credential.certificate.sendX5c must be true or false".into()
        )
    );
    let misspelt = object([("certificate", object([("certificatePEM", text("y"))]))]);
    assert_eq!(
        refusal(credential(misspelt)),
        (
            Some("credential.certificate"),
            "unknown certificate option \"certificatePEM\": did you mean \"certificatePem\"?"
                .into()
        )
    );
}

#[test]
fn unknown_options_point_at_where_they_belong() {
    assert_eq!(
        refusal(read(object([("clientSecret", text("s"))]))),
        (
            Some("options"),
            "unknown option \"clientSecret\": did you mean \"credential.clientSecret\"?".into()
        )
    );
    let error = ClientOptions::read(
        &object([("maxRetry", Fake::Number(0.0))]),
        Entry::OVERRIDES,
        |_| unreachable!(),
    );
    assert_eq!(
        refusal(error),
        (
            Some("overrides"),
            "unknown fromEnvironment option \"maxRetry\": did you mean \"maxRetries\"?".into()
        )
    );
    assert_eq!(
        refusal(read(Fake::Absent)).1,
        "options must be an object, e.g. { clientId, authority, credential: { clientSecret } }"
    );
}

#[test]
fn broker_options_make_a_client_of_the_broker() {
    let (options, host) = ClientOptions::read_broker(&object([
        ("url", text("https://broker.example.com/")),
        ("callerId", text("jobs")),
        ("key", text("k")),
        ("fetch", Fake::Function("fetch")),
    ]))
    .unwrap();
    assert_eq!(
        options.token_endpoint.as_deref(),
        Some("https://broker.example.com/token")
    );
    assert_eq!(options.client_id.as_deref(), Some("jobs"));
    assert_eq!(
        options.client_auth_method.as_deref(),
        Some("client_secret_basic")
    );
    assert_eq!(
        options.credential.unwrap().client_secret.unwrap().expose(),
        "k"
    );
    assert_eq!(options.expiry_buffer_seconds, Some(60));
    assert_eq!(
        options.forced_refresh_parameter,
        Some(("force_refresh".into(), "true".into()))
    );
    assert_eq!(host.fetch, Some(Fake::Function("fetch")));
    let missing_key = object([
        ("url", text("https://b.example.com")),
        ("callerId", text("jobs")),
    ]);
    assert_eq!(
        refusal(ClientOptions::read_broker(&missing_key)),
        (
            Some("key"),
            "key is required: the caller's broker key".into()
        )
    );
    let bad_url = object([
        ("url", text("not a url")),
        ("callerId", text("j")),
        ("key", text("k")),
    ]);
    assert_eq!(refusal(ClientOptions::read_broker(&bad_url)).0, Some("url"));
    for (caller_id, key, field) in [
        ("", "k", "callerId"),
        ("my jobs", "k", "callerId"),
        ("jobs", "", "key"),
    ] {
        let named = object([
            ("url", text("https://b.example.com")),
            ("callerId", text(caller_id)),
            ("key", text(key)),
        ]);
        let (refused, message) = refusal(ClientOptions::read_broker(&named));
        assert_eq!(refused, Some(field), "{caller_id:?} {key:?}");
        assert!(
            !message.contains("clientId") && !message.contains("clientSecret"),
            "{message}"
        );
    }
    let extra = object([("secret", text("k"))]);
    assert_eq!(
        refusal(ClientOptions::read_broker(&extra)).1,
        "unknown BrokerClient option \"secret\"; known: url, callerId, key, fetch"
    );
}

#[test]
fn client_capabilities_are_a_list_of_strings_validated_into_the_config() {
    use crate::option_value::fake::texts;
    let base = || {
        vec![
            ("clientId", text("app")),
            ("tenantId", text("t")),
            ("credential", object([("clientSecret", text("s"))])),
        ]
    };
    let with = |value: Fake| {
        let mut fields = base();
        fields.push(("clientCapabilities", value));
        read(fields_object(fields))
    };
    let (options, _) = with(texts(&["cp1"])).unwrap();
    assert_eq!(options.client_capabilities, Some(vec!["cp1".to_owned()]));
    let config = options.into_config(&|_, _| unreachable!()).unwrap();
    assert_eq!(config.client_capabilities(), ["cp1".to_owned()]);
    let (options, _) = read(fields_object(base())).unwrap();
    assert_eq!(options.client_capabilities, None);

    for value in [text("cp1"), Fake::List(vec![Fake::Number(1.0)])] {
        assert_eq!(
            refusal(with(value)),
            (
                Some("clientCapabilities"),
                "clientCapabilities must be an array of strings, e.g. [\"cp1\"]".into()
            )
        );
    }
    let (options, _) = with(texts(&["cp1", "cp 1"])).unwrap();
    assert_eq!(
        refusal(options.into_config(&|_, _| unreachable!())).0,
        Some("clientCapabilities")
    );
    let mut misspelt = base();
    misspelt.push(("clientCapability", texts(&["cp1"])));
    assert_eq!(
        refusal(read(fields_object(misspelt))).1,
        "unknown option \"clientCapability\": did you mean \"clientCapabilities\"?"
    );
}

fn fields_object(fields: Vec<(&str, Fake)>) -> Fake {
    Fake::Object(
        fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    )
}
