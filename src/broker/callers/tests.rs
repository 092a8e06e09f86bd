use super::*;

const H1: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const H2: &str = "0202020202020202020202020202020202020202020202020202020202020202";

fn callers() -> Callers {
    Callers::parse(
        &format!(r#"{{"jobs": {{"keySha256": ["{H1}", "{H2}"], "scopes": ["api://a/.default"], "ratePerMinute": 5, "forceRefreshPerMinute": 1}},
                     "web": {{"keySha256": ["{}"], "scopes": ["API://B/.default"]}}}}"#, "03".repeat(32)),
        ScopeRules::Entra,
    )
    .unwrap()
}

#[test]
fn finds_callers_by_any_of_their_keys() {
    let callers = callers();
    assert_eq!(callers.by_key(&[1; 32]).unwrap().id, "jobs");
    assert_eq!(
        callers.by_key(&[2; 32]).unwrap().id,
        "jobs",
        "rotation: old and new key"
    );
    assert_eq!(callers.by_key(&[3; 32]).unwrap().id, "web");
    assert!(callers.by_key(&[4; 32]).is_none());
    assert!(
        callers.by_id_and_key("web", &[1; 32]).is_none(),
        "another caller's key"
    );
    assert_eq!(
        callers
            .by_id_and_key("jobs", &[2; 32])
            .unwrap()
            .rate_per_minute,
        5
    );
    let web = callers.by_id_and_key("web", &[3; 32]).unwrap();
    assert_eq!(web.rate_per_minute, 600);
    assert_eq!(web.force_refresh_per_minute, 6, "the default");
    assert_eq!(
        callers
            .by_id_and_key("jobs", &[2; 32])
            .unwrap()
            .force_refresh_per_minute,
        1
    );
}

/// Both ways in run one lookup, and it compares the presented hash with every configured
/// hash, in the same order, whether the key matches, is one byte off, belongs to another
/// caller than the one named, or the named caller does not exist.
#[test]
fn every_lookup_compares_every_configured_key_alike() {
    let callers = callers();
    let configured: Vec<[u8; 32]> = callers
        .callers
        .iter()
        .flat_map(|c| c.key_hashes.iter().copied())
        .collect();
    assert_eq!(configured.len(), 3);
    let mut one_byte_off = [1u8; 32];
    one_byte_off[31] ^= 0x80;
    for (key, id, expected) in [
        ([1; 32], None, Some("jobs")),
        ([3; 32], None, Some("web")),
        (one_byte_off, None, None),
        ([4; 32], None, None),
        ([2; 32], Some("jobs"), Some("jobs")),
        ([1; 32], Some("web"), None),
        ([1; 32], Some("nobody"), None),
        (one_byte_off, Some("jobs"), None),
    ] {
        let mut compared = Vec::new();
        let found = callers.find(&key, id, |configured, presented| {
            assert_eq!(presented, &key);
            compared.push(*configured);
            hashes_equal(configured, presented)
        });
        let case = format!("key {:02x}…{:02x}, id {id:?}", key[0], key[31]);
        assert_eq!(found.map(|c| c.id.as_str()), expected, "{case}");
        assert_eq!(compared, configured, "{case}: every key, same order");
        let production = match id {
            Some(id) => callers.by_id_and_key(id, &key),
            None => callers.by_key(&key),
        };
        assert_eq!(production.map(|c| c.id.as_str()), expected, "{case}");
    }
    assert!(bool::from(hashes_equal(&[7; 32], &[7; 32])));
    let mut first_byte_off = [7u8; 32];
    first_byte_off[0] = 8;
    assert!(!bool::from(hashes_equal(&[7; 32], &first_byte_off)));
}

fn entry(hashes: &str, scopes: &str) -> String {
    format!(r#"{{"keySha256": [{hashes}], "scopes": [{scopes}]}}"#)
}

#[test]
fn refuses_a_key_shared_by_two_callers() {
    let error = Callers::parse(
        &format!(
            r#"{{"a": {}, "b": {}}}"#,
            entry(&format!("\"{H1}\""), "\"api://a/.default\""),
            entry(&format!("\"{H2}\", \"{H1}\""), "\"api://b/.default\"")
        ),
        ScopeRules::Entra,
    )
    .unwrap_err();
    assert_eq!(error.index, Some(1));
    assert_eq!(
        error.detail,
        "callers \"a\" and \"b\" list the same key hash: give each caller its own key"
    );
    let repeated =
        format!(r#"{{"a": {{"keySha256": ["{H1}", "{H1}"], "scopes": ["api://a/.default"]}}}}"#);
    assert!(
        Callers::parse(&repeated, ScopeRules::Entra).is_ok(),
        "one caller listing a hash twice is harmless"
    );
}

/// A JSON object may repeat a member; a map would silently keep the last, so the caller
/// configured first would lose its keys and grants without a word.
#[test]
fn refuses_a_repeated_caller_id_naming_its_index() {
    let json = format!(
        r#"{{"web": {}, "jobs": {}, "jobs": {}}}"#,
        entry(&format!("\"{}\"", "03".repeat(32)), "\"api://w/.default\""),
        entry(&format!("\"{H1}\""), "\"api://a/.default\""),
        entry(&format!("\"{H2}\""), "\"api://b/.default\"")
    );
    let error = Callers::parse(&json, ScopeRules::Entra).unwrap_err();
    assert_eq!(error.index, Some(2));
    assert_eq!(
        error.detail,
        "caller id \"jobs\" appears again (first at index 1): each caller id may appear once"
    );
}

/// `from_str_radix` takes a leading sign, so "+f" passed as a byte: 64 characters with
/// signs in them are not a SHA-256 in hex.
#[test]
fn key_hashes_are_exactly_64_hex_digits() {
    assert_eq!(parse_sha256_hex(H1), Some([1; 32]));
    assert_eq!(
        parse_sha256_hex(&"AbCdEf".repeat(11)[..64]).map(|h| h[0]),
        Some(0xab),
        "either case"
    );
    for bad in [
        "+f".repeat(32),
        format!("+1{}", &H1[2..]),
        format!("-1{}", &H1[2..]),
        format!(" {}", &H1[1..]),
        format!("{H1} "),
        format!("0x{}", &H1[2..]),
        H1[..63].to_owned(),
        format!("{H1}0"),
        format!("{}é", &H1[..62]),
    ] {
        assert_eq!(parse_sha256_hex(&bad), None, "{bad:?}");
        let json = format!(
            r#"{{"x": {}}}"#,
            entry(&format!("{bad:?}"), "\"api://a/.default\"")
        );
        let error = Callers::parse(&json, ScopeRules::Entra).unwrap_err();
        assert_eq!(error.index, Some(0), "{bad:?}");
        assert!(
            error.detail.contains("keySha256[0] is not 64 hex digits"),
            "{}",
            error.detail
        );
    }
}

/// Anyone can present the empty key, so its hash must never open a caller.
#[test]
fn refuses_the_hash_of_the_empty_key() {
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    for hex in [empty.to_owned(), empty.to_uppercase()] {
        let json = format!(
            r#"{{"ok": {}, "x": {}}}"#,
            entry(&format!("\"{H1}\""), "\"api://a/.default\""),
            entry(&format!("\"{H2}\", \"{hex}\""), "\"api://a/.default\"")
        );
        let error = Callers::parse(&json, ScopeRules::Entra).unwrap_err();
        assert_eq!(error.index, Some(1));
        assert!(
            error
                .detail
                .starts_with("caller \"x\": keySha256[1] is the SHA-256 of the empty string"),
            "{}",
            error.detail
        );
    }
}

#[test]
fn grants_only_configured_scopes() {
    let callers = callers();
    let jobs = callers.by_key(&[1; 32]).unwrap();
    let a = ScopeSet::parse(["api://a/.default"], ScopeRules::Entra).unwrap();
    let b = ScopeSet::parse(["api://b/.default"], ScopeRules::Entra).unwrap();
    assert!(jobs.may_request(&a));
    assert!(!jobs.may_request(&b));
    assert!(
        callers.by_key(&[3; 32]).unwrap().may_request(&b),
        "host case ignored"
    );
}

#[test]
fn rejects_bad_configuration_without_quoting_it() {
    let hash = "0101010101010101010101010101010101010101010101010101010101010101";
    let ok = format!(r#"{{"keySha256": ["{hash}"], "scopes": ["api://a/.default"]}}"#);
    for (json, index, detail) in [
        (
            "not json".to_owned(),
            None,
            "not a JSON object of callers (syntax error at line 1, column 2)",
        ),
        (
            format!(r#"["{hash}"]"#),
            None,
            "not a JSON object of callers (type error",
        ),
        (format!(r#"{{"x": {ok}"#), None, "(end-of-input error"),
        ("{}".to_owned(), None, "names no caller"),
        (
            format!(r#"{{"ok": {ok}, "x": "{hash}"}}"#),
            Some(1),
            "caller \"x\" is not an object",
        ),
        (
            r#"{"x": {"keySha256": ["abc"], "scopes": ["api://a/.default"]}}"#.to_owned(),
            Some(0),
            "caller \"x\": keySha256[0] is not 64 hex digits",
        ),
        (
            r#"{"x": {"keySha256": [], "scopes": ["api://a/.default"]}}"#.to_owned(),
            Some(0),
            "caller \"x\": keySha256 must be",
        ),
        (
            format!(r#"{{"x": {{"keySha256": "{hash}", "scopes": ["api://a/.default"]}}}}"#),
            Some(0),
            "caller \"x\": keySha256 must be",
        ),
        (
            format!(r#"{{"x": {{"keySha256": ["{hash}"], "scopes": []}}}}"#),
            Some(0),
            "caller \"x\": scopes must be",
        ),
        (
            format!(r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["User.Read"]}}}}"#),
            Some(0),
            "caller \"x\": scopes[0]: ",
        ),
        (
            format!(
                r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "extra": 1}}}}"#
            ),
            Some(0),
            "caller \"x\" has an unknown member \"extra\"",
        ),
        (
            format!(
                r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "{hash}": 1}}}}"#
            ),
            Some(0),
            "caller \"x\" has an unknown member: ",
        ),
        (
            format!(
                r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "ratePerMinute": 0}}}}"#
            ),
            Some(0),
            "caller \"x\": ratePerMinute must be a whole number from 1",
        ),
        (
            format!(
                r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "ratePerMinute": "{hash}"}}}}"#
            ),
            Some(0),
            "caller \"x\": ratePerMinute must be",
        ),
        (
            format!(
                r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "forceRefreshPerMinute": -1}}}}"#
            ),
            Some(0),
            "caller \"x\": forceRefreshPerMinute must be a whole number from 0",
        ),
    ] {
        let error = Callers::parse(&json, ScopeRules::Entra).unwrap_err();
        assert_eq!(error.index, index, "{json}");
        assert!(error.detail.contains(detail), "{json}: {}", error.detail);
        assert!(!error.detail.contains("0101010101"), "{}", error.detail);
    }
    // A typo is named when it looks like an identifier (underscores included), and only then.
    for (member, named) in [
        ("rate_per_minute", true),
        ("rate-per-minute", false),
        ("key sha256", false),
        (&"x".repeat(33), false),
        (&"x".repeat(32), true),
    ] {
        let json = format!(
            r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "{member}": 1}}}}"#
        );
        let detail = Callers::parse(&json, ScopeRules::Entra).unwrap_err().detail;
        let expected = if named {
            format!("caller \"x\" has an unknown member \"{member}\": the members are ")
        } else {
            "caller \"x\" has an unknown member: the members are ".to_owned()
        };
        assert!(detail.starts_with(&expected), "{member}: {detail}");
    }
    let zero_forced = format!(
        r#"{{"x": {{"keySha256": ["{hash}"], "scopes": ["api://a/.default"], "forceRefreshPerMinute": 0}}}}"#
    );
    let callers = Callers::parse(&zero_forced, ScopeRules::Entra).unwrap();
    assert_eq!(
        callers.by_key(&[1; 32]).unwrap().force_refresh_per_minute,
        0
    );
}

/// A stand-in for SHA-256 over the keys the tests present: "k1" hashes to `[1; 32]` (a key
/// of "jobs"), "k3" to `[3; 32]` ("web"), "fail" to nothing (the host could not hash), any
/// other key to a hash no caller holds. Records every key hashed.
fn fake_sha256<'k>(
    hashed: &'k std::cell::RefCell<Vec<String>>,
) -> impl for<'a> Fn(&'a [u8]) -> LocalBoxFuture<'a, Option<[u8; 32]>> + 'k {
    move |key| {
        let key = String::from_utf8(key.to_vec()).unwrap();
        hashed.borrow_mut().push(key.clone());
        Box::pin(async move {
            match key.as_str() {
                "k1" => Some([1; 32]),
                "k3" => Some([3; 32]),
                "fail" => None,
                _ => Some([9; 32]),
            }
        })
    }
}

/// Every way a key arrives finds its caller, or none: a bearer key alone, an id with a key,
/// either reading of an HTTP Basic header; a hash that cannot be made opens nothing.
#[test]
fn authenticates_each_way_a_key_is_presented() {
    use crate::broker::received_token_request::Readings;
    use crate::secret::BrokerKey;
    let callers = callers();
    let pair = |id: &str, key: &str| Some((id.to_owned(), BrokerKey::new(key)));
    let basic = |form_decoded, raw| Presented::Basic(Readings { form_decoded, raw });
    for (presented, expected, hashed) in [
        (
            Presented::Key(BrokerKey::new("k1")),
            Some("jobs"),
            &["k1"][..],
        ),
        (Presented::Key(BrokerKey::new("k3")), Some("web"), &["k3"]),
        (Presented::Key(BrokerKey::new("k2")), None, &["k2"]),
        (Presented::Key(BrokerKey::new("fail")), None, &["fail"]),
        (
            Presented::IdAndKey("jobs".into(), BrokerKey::new("k1")),
            Some("jobs"),
            &["k1"],
        ),
        (
            Presented::IdAndKey("web".into(), BrokerKey::new("k1")),
            None,
            &["k1"],
        ),
        (Presented::Nothing, None, &[]),
        // Both readings are hashed, whichever matches.
        (
            basic(pair("jobs", "k1"), pair("jobs", "k1+")),
            Some("jobs"),
            &["k1", "k1+"],
        ),
        (
            basic(pair("web", "k3 "), pair("web", "k3")),
            Some("web"),
            &["k3 ", "k3"],
        ),
        (basic(None, pair("web", "k3")), Some("web"), &["k3"]),
        // A key with nothing to decode reads the same both ways: one caller, taken.
        (
            basic(pair("jobs", "k1"), pair("jobs", "k1")),
            Some("jobs"),
            &["k1", "k1"],
        ),
        (
            basic(pair("jobs", "k3"), pair("web", "k1")),
            None,
            &["k3", "k1"],
        ),
        // Each reading opens another caller: neither is meant.
        (
            basic(pair("jobs", "k1"), pair("web", "k3")),
            None,
            &["k1", "k3"],
        ),
        (
            basic(pair("jobs", "fail"), pair("jobs", "k1")),
            None,
            &["fail"],
        ),
    ] {
        let keys = std::cell::RefCell::new(Vec::new());
        let found = pollster::block_on(callers.authenticate(&presented, fake_sha256(&keys)));
        assert_eq!(found.map(|c| c.id.as_str()), expected, "{presented:?}");
        assert_eq!(keys.into_inner(), hashed, "{presented:?}");
    }
}

/// `tenants`: the tenants besides the app's own a caller may name, compared ignoring case;
/// a caller without the member has none.
#[test]
fn tenants_are_granted_per_caller() {
    let callers = Callers::parse(
        &format!(
            r#"{{"saas": {{"keySha256": ["{H1}"], "scopes": ["api://a/.default"], "tenants": ["Contoso.onmicrosoft.com", "11111111-2222-3333-4444-555555555555"]}},
                 "jobs": {{"keySha256": ["{H2}"], "scopes": ["api://a/.default"]}}}}"#
        ),
        ScopeRules::Entra,
    )
    .unwrap();
    let saas = callers.by_key(&[1; 32]).unwrap();
    assert!(saas.may_use_tenant("contoso.onmicrosoft.com"));
    assert!(saas.may_use_tenant("CONTOSO.onmicrosoft.com"));
    assert!(saas.may_use_tenant("11111111-2222-3333-4444-555555555555"));
    assert!(!saas.may_use_tenant("fabrikam.onmicrosoft.com"));
    assert!(!saas.may_use_tenant("contoso"));
    let jobs = callers.by_key(&[2; 32]).unwrap();
    assert!(!jobs.may_use_tenant("contoso.onmicrosoft.com"));
}

#[test]
fn unusable_tenants_are_refused_by_index_without_their_text() {
    for (tenants, detail) in [
        (r#"[]"#, "tenants must be a non-empty list"),
        (r#""contoso""#, "tenants must be a non-empty list"),
        (r#"[7]"#, "tenants must be a non-empty list"),
        (r#"["ok", "common"]"#, "tenants[1] is not a tenant"),
        (r#"["organizations"]"#, "tenants[0] is not a tenant"),
        (r#"["a/b"]"#, "tenants[0] is not a tenant"),
        (r#"[""]"#, "tenants[0] is not a tenant"),
        (r#"["pasted/Zq9-value"]"#, "tenants[0] is not a tenant"),
        (r#"["ok", ".."]"#, "tenants[1] is not a tenant"),
        (r#"["."]"#, "tenants[0] is not a tenant"),
        (r#"["Zq9..contoso.com"]"#, "tenants[0] is not a tenant"),
        (r#"["-Zq9.contoso.com"]"#, "tenants[0] is not a tenant"),
        (
            &format!(r#"["Zq9{}"]"#, "a".repeat(5000)),
            "tenants[0] is not a tenant",
        ),
    ] {
        let json = format!(
            r#"{{"saas": {{"keySha256": ["{H1}"], "scopes": ["api://a/.default"], "tenants": {tenants}}}}}"#
        );
        let error = Callers::parse(&json, ScopeRules::Entra).unwrap_err();
        assert_eq!(error.index, Some(0), "{tenants}");
        assert!(error.detail.contains(detail), "{tenants}: {}", error.detail);
        assert!(
            !error.detail.contains("Zq9"),
            "never quoted: {}",
            error.detail
        );
    }
}
