//! What a caller sends the broker's `POST /token` (`cctoken::broker`): the received request
//! (content type, `Authorization`, body) and, read as `BROKER_CLIENTS`, the same bytes.
//!
//! Input format: the first line is the content type, the second the `Authorization` header
//! (empty: none), the rest the body, so seeds read as what they test.
#![no_main]

use cctoken::broker::callers::Callers;
use cctoken::broker::received_token_request::{parse, Presented, Readings};
use cctoken::{BrokerKey, ScopeRules};
use cctoken_fuzz::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, body) = split_line(data);
    let (authorization, body) = split_line(body);
    let content_type = text(head);
    let authorization = text(authorization);
    let authorization = (!authorization.is_empty()).then_some(authorization.as_ref());
    if let Ok(parsed) = parse(Some(content_type.as_ref()), authorization, body) {
        // Keys never show in Debug output (what ends up in logs): it is the same whatever
        // the keys hold.
        assert_eq!(
            format!("{:?}", parsed.presented),
            format!("{:?}", with_keys_blanked(&parsed.presented))
        );
        for key in keys(&parsed.presented) {
            assert!(!key.is_empty(), "an empty key is no credential");
        }
        if let Ok(wanted) = &parsed.wanted {
            assert!(wanted.scopes.len() <= body.len() + 1);
        }
    }
    // The same bytes as a callers setting: a typed refusal, never a panic.
    let _ = Callers::parse(&text(body), ScopeRules::Entra);
});

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

fn keys(presented: &Presented) -> Vec<&BrokerKey> {
    match presented {
        Presented::Key(key) | Presented::IdAndKey(_, key) => vec![key],
        Presented::Basic(readings) => [&readings.form_decoded, &readings.raw]
            .into_iter()
            .flatten()
            .map(|(_, key)| key)
            .collect(),
        Presented::Nothing => Vec::new(),
    }
}

/// The same credentials with every key replaced by one of no text.
fn with_keys_blanked(presented: &Presented) -> Presented {
    let blank = || BrokerKey::new("");
    let pair = |reading: &Option<(String, BrokerKey)>| {
        reading.as_ref().map(|(id, _)| (id.clone(), blank()))
    };
    match presented {
        Presented::Key(_) => Presented::Key(blank()),
        Presented::IdAndKey(id, _) => Presented::IdAndKey(id.clone(), blank()),
        Presented::Basic(readings) => Presented::Basic(Readings {
            form_decoded: pair(&readings.form_decoded),
            raw: pair(&readings.raw),
        }),
        Presented::Nothing => Presented::Nothing,
    }
}
