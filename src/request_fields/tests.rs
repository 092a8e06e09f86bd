use super::*;
use crate::option_names::{BROKER_REQUEST_FIELDS, CALL_API_FIELDS, REQUEST_FIELDS};
use crate::option_value::fake::{object, text, texts, Fake};

const GRAPH: &str = "https://graph.microsoft.com/.default";

fn read(value: Fake, known: &[&str]) -> Result<HostRequest<Fake>, Error> {
    HostRequest::read(&value, "acquireTokenForClient", known, ScopeRules::Entra)
}

fn refusal<T>(result: Result<T, Error>) -> (String, Option<&'static str>, String) {
    let error = result.err().expect("refused");
    (
        error.code().to_owned(),
        error.field(),
        error.message().to_owned(),
    )
}

#[test]
fn every_request_field_is_read() {
    let request = read(
        object([
            ("scopes", texts(&[GRAPH])),
            ("forceRefresh", Fake::Flag(true)),
            ("claims", text("{}")),
            ("correlationId", text("id")),
            ("extraBodyParameters", object([("a", text("1"))])),
            ("signal", Fake::Signal("s")),
        ]),
        REQUEST_FIELDS,
    )
    .unwrap();
    let token = &request.token;
    assert_eq!(token.scopes.iter().collect::<Vec<_>>(), [GRAPH]);
    assert!(token.force_refresh);
    assert_eq!(token.claims.as_deref(), Some("{}"));
    assert_eq!(token.correlation_id.as_deref(), Some("id"));
    assert_eq!(token.extra_body, [("a".to_owned(), "1".to_owned())]);
    assert_eq!(request.signal, Some(Fake::Signal("s")));
}

#[test]
fn a_request_needs_scopes_as_a_list_of_strings() {
    let needs = "acquireTokenForClient needs { scopes: [...] }, e.g. { scopes: [\"https://graph.microsoft.com/.default\"] }";
    assert_eq!(
        refusal(read(text("x"), REQUEST_FIELDS)),
        ("invalid_scope".into(), Some("scopes"), needs.into())
    );
    let array =
        "scopes must be an array of strings, e.g. [\"https://graph.microsoft.com/.default\"]";
    assert_eq!(refusal(read(object([]), REQUEST_FIELDS)).2, array);
    assert_eq!(
        refusal(read(object([("scopes", text(GRAPH))]), REQUEST_FIELDS)).2,
        array
    );
    let mixed = Fake::List(vec![text(GRAPH), Fake::Number(1.0)]);
    assert_eq!(
        refusal(read(object([("scopes", mixed)]), REQUEST_FIELDS)),
        (
            "invalid_scope".into(),
            Some("scopes"),
            "scopes[1] must be a string".into()
        )
    );
}

#[test]
fn unknown_fields_are_refused_with_the_closest_known_one() {
    let scopes = || ("scopes", texts(&[GRAPH]));
    assert_eq!(
        refusal(read(
            object([scopes(), ("scope", texts(&[GRAPH]))]),
            REQUEST_FIELDS
        )),
        (
            "invalid_config".into(),
            Some("request"),
            "unknown acquireTokenForClient field \"scope\": did you mean \"scopes\"?".into()
        )
    );
    assert_eq!(
        refusal(read(object([scopes(), ("timeout", Fake::Number(1.0))]), REQUEST_FIELDS)).2,
        "unknown acquireTokenForClient field \"timeout\"; known: scopes, forceRefresh, claims, correlationId, extraBodyParameters, tenantId, authority, abortSignal, signal"
    );
    assert!(read(
        object([scopes(), ("claims", text("{}"))]),
        BROKER_REQUEST_FIELDS
    )
    .is_err());
    let call_api = object([
        scopes(),
        ("method", text("GET")),
        ("body", Fake::Function("stream")),
    ]);
    let request = read(call_api, CALL_API_FIELDS).unwrap();
    assert_eq!(request.fields.get("method"), Some(&text("GET")));
    assert_eq!(request.fields.get("body"), Some(&Fake::Function("stream")));
}

#[test]
fn abort_signal_and_signal_are_one_field() {
    let with = |fields: Vec<(&'static str, Fake)>| {
        let mut all = vec![("scopes".to_owned(), texts(&[GRAPH]))];
        all.extend(
            fields
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value)),
        );
        read(Fake::Object(all), REQUEST_FIELDS)
    };
    let a = Fake::Signal("a");
    assert_eq!(
        with(vec![("abortSignal", a.clone())]).unwrap().signal,
        Some(a.clone())
    );
    let both = with(vec![("abortSignal", a.clone()), ("signal", a.clone())]).unwrap();
    assert_eq!(both.signal, Some(a.clone()));
    let (code, field, message) = refusal(with(vec![
        ("abortSignal", a),
        ("signal", Fake::Signal("b")),
    ]));
    assert_eq!((code.as_str(), field), ("invalid_config", Some("signal")));
    assert!(message.starts_with("abortSignal and signal are one option under two names"));
    for not_a_signal in [Fake::Number(5000.0), object([])] {
        assert_eq!(
            refusal(with(vec![("signal", not_a_signal)])).1,
            Some("signal")
        );
    }
    assert_eq!(
        refusal(with(vec![("abortSignal", object([]))])),
        (
            "invalid_config".into(),
            Some("abortSignal"),
            "abortSignal must be an AbortSignal, e.g. AbortSignal.timeout(5000) or controller.signal".into()
        )
    );
    assert_eq!(with(vec![("signal", Fake::Absent)]).unwrap().signal, None);
}

#[test]
fn admin_consent_url_options() {
    let url = admin_consent_url(&object([
        ("tenant", text("contoso.com")),
        ("clientId", text("app")),
    ]));
    assert_eq!(
        url.unwrap(),
        "https://login.microsoftonline.com/contoso.com/adminconsent?client_id=app"
    );
    assert_eq!(
        refusal(admin_consent_url(&object([("tenant", text("t"))]))),
        (
            "invalid_config".into(),
            Some("clientId"),
            "clientId is required: the Application (client) ID".into()
        )
    );
    let misplaced = object([
        ("tenant", text("t")),
        ("clientId", text("c")),
        ("authority", text("x")),
    ]);
    assert_eq!(
        refusal(admin_consent_url(&misplaced)).2,
        "unknown adminConsentUrl option \"authority\": did you mean \"authorityHost\"?"
    );
    assert_eq!(
        refusal(admin_consent_url(&text("t"))).2,
        "options must be an object, e.g. { tenant, clientId }"
    );
}

#[test]
fn a_request_names_another_tenant_by_tenant_id_or_authority_not_both() {
    let with = |fields: Vec<(&'static str, Fake)>| {
        let mut all = vec![("scopes".to_owned(), texts(&[GRAPH]))];
        all.extend(
            fields
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value)),
        );
        read(Fake::Object(all), REQUEST_FIELDS)
    };
    assert_eq!(
        with(vec![("tenantId", text("contoso"))])
            .unwrap()
            .token
            .authority,
        Some(RequestAuthority::Tenant("contoso".into()))
    );
    assert_eq!(
        with(vec![("authority", text("https://h/t"))])
            .unwrap()
            .token
            .authority,
        Some(RequestAuthority::Authority("https://h/t".into()))
    );
    assert_eq!(with(vec![]).unwrap().token.authority, None);
    let both = with(vec![
        ("tenantId", text("contoso")),
        ("authority", text("https://h/t")),
    ]);
    let (code, field, message) = refusal(both);
    assert_eq!((code.as_str(), field), ("invalid_config", Some("tenantId")));
    assert!(
        message.starts_with("pass tenantId or authority per request, not both"),
        "{message}"
    );
    assert_eq!(
        refusal(with(vec![("authority", Fake::Number(1.0))])).1,
        Some("authority")
    );
}

/// `BrokerClient.acquireToken` names the tenant `tenant`, as the broker's body does;
/// `acquireTokenForClient` names it `tenantId`. Each is refused by the other, pointing at its
/// own name.
#[test]
fn a_broker_request_names_its_tenant_as_the_broker_does() {
    let scopes = || ("scopes", texts(&[GRAPH]));
    let broker = read(
        object([scopes(), ("tenant", text("contoso.onmicrosoft.com"))]),
        BROKER_REQUEST_FIELDS,
    )
    .unwrap();
    assert_eq!(
        broker.token.authority,
        Some(RequestAuthority::Tenant("contoso.onmicrosoft.com".into()))
    );
    assert_eq!(
        refusal(read(
            object([scopes(), ("tenantId", text("contoso.onmicrosoft.com"))]),
            BROKER_REQUEST_FIELDS,
        )),
        (
            "invalid_config".into(),
            Some("request"),
            "unknown acquireTokenForClient field \"tenantId\": did you mean \"tenant\"?".into()
        )
    );
    assert_eq!(
        refusal(read(
            object([scopes(), ("tenant", text("contoso.onmicrosoft.com"))]),
            REQUEST_FIELDS,
        ))
        .2,
        "unknown acquireTokenForClient field \"tenant\": did you mean \"tenantId\"?"
    );
}
