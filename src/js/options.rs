//! Reading options objects passed from JavaScript, with errors that name the field.
//!
//! Options and request fields are read as own properties only ([`own`]): a value inherited
//! from a polluted `Object.prototype` (say `Object.prototype.fetch`, set by a vulnerable
//! object merge elsewhere in the app) must never become a client's fetch, secret or endpoint.
//! Unknown names are refused ([`refuse_unknown`]) so a misspelt or foreign field (`signal`
//! for `abortSignal`, `scope` for `scopes`) is an error instead of being silently ignored.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::Error;

#[wasm_bindgen]
extern "C" {
    /// `Object.hasOwn`: true only for the object's own properties, never inherited ones.
    #[wasm_bindgen(js_namespace = Object, js_name = hasOwn)]
    fn has_own(target: &JsValue, key: &str) -> bool;
}

/// The own property `key` of `object`; `undefined` when it has none (inherited values are
/// ignored) or `object` is not an object.
pub fn own(object: &JsValue, key: &str) -> JsValue {
    if !is_own(object, key) {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// True when `object` is an object with an own property `key` (even one set to `undefined`).
pub fn is_own(object: &JsValue, key: &str) -> bool {
    object.is_object() && has_own(object, key)
}

/// A member of a host object (`Response`, `Headers`, `AbortSignal`): these keep their
/// properties on the prototype, so unlike [`own`] this follows it. Never for options.
pub fn member(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Refuses the first own enumerable property of `object` whose name is not in `known`.
/// `what` says what the names are (e.g. "request field"), `field` is reported as the error's
/// field. The error names the unknown property and the closest of `known` and `elsewhere`
/// (names that belong in another object, e.g. `credential.clientSecret` for `clientSecret`).
pub fn refuse_unknown(
    object: &JsValue,
    field: &'static str,
    what: &str,
    known: &[&str],
    elsewhere: &[&str],
) -> Result<(), Error> {
    if !object.is_object() {
        return Ok(());
    }
    let Some(name) = Object::keys(object.unchecked_ref::<Object>())
        .iter()
        .filter_map(|key| key.as_string())
        .find(|key| !known.contains(&key.as_str()))
    else {
        return Ok(());
    };
    let shown = if is_printable_name(&name) {
        format!("\"{name}\"")
    } else {
        // Names are not secrets, but an odd one is shown by its length only: an error message
        // quotes nothing that might have been pasted from somewhere else.
        format!("(a name of {} characters)", name.chars().count())
    };
    let mut message = format!("unknown {what} {shown}");
    let candidates: Vec<&str> = known.iter().chain(elsewhere).copied().collect();
    // Only names short enough to be a typo get a suggestion: the search costs time in
    // proportion to the name's length, and a request object may come from untrusted JSON.
    let suggestion = is_printable_name(&name)
        .then(|| closest(&name, &candidates))
        .flatten();
    match suggestion {
        Some(suggestion) => message.push_str(&format!(": did you mean \"{suggestion}\"?")),
        None => message.push_str(&format!("; known: {}", known.join(", "))),
    }
    Err(Error::invalid_config(field, message))
}

/// Short identifier-like names, the only ones quoted back.
fn is_printable_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-' | '.'))
}

/// The candidate `name` was most likely meant to be: equal ignoring case or within a small
/// edit distance (`signl` → `signal`), sharing most of its start (`maxRetry` →
/// `maxRetries`), or containing it (`secret` → `clientSecret`). A dotted candidate
/// (`credential.clientSecret`) is compared by its last part. One plain loop over bytes
/// (names are ASCII): iterator adaptors and `str` searching cost kilobytes of wasm here.
fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let name = name.to_ascii_lowercase().into_bytes();
    let budget = (name.len() / 3).clamp(1, 3);
    let mut best = None;
    let mut best_score = usize::MAX;
    for candidate in candidates {
        let part = candidate.rsplit('.').next().unwrap_or(candidate);
        let part = part.to_ascii_lowercase().into_bytes();
        let distance = edit_distance(&name, &part);
        let shared = name.iter().zip(&part).take_while(|(a, b)| a == b).count();
        // Lower is better: any near miss, then a shared start, then the shortest container.
        let score = if distance <= budget {
            distance
        } else if shared >= 5 && shared * 3 >= name.len() * 2 {
            100
        } else if name.len() >= 4 && (holds(&part, &name) || holds(&name, &part)) {
            200 + candidate.len()
        } else {
            continue;
        };
        if score < best_score {
            best = Some(*candidate);
            best_score = score;
        }
    }
    best
}

/// True when `needle` occurs in `haystack`.
fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// Levenshtein distance (names are a few dozen bytes at most).
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// True for `undefined` and `null`.
pub fn is_absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// `value` as an object, or an error saying `field` must be one.
pub fn require_object(
    value: JsValue,
    field: &'static str,
    example: &str,
) -> Result<JsValue, Error> {
    if value.is_object() && !Array::is_array(&value) && !value.is_function() {
        Ok(value)
    } else {
        Err(Error::invalid_config(
            field,
            format!("{field} must be an object, e.g. {example}"),
        ))
    }
}

/// A required string, or an error naming `field` and saying what to put there.
pub fn require_string(value: &JsValue, field: &'static str, hint: &str) -> Result<String, Error> {
    if is_absent(value) {
        return Err(Error::invalid_config(
            field,
            format!("{field} is required: {hint}"),
        ));
    }
    value
        .as_string()
        .ok_or_else(|| Error::invalid_config(field, format!("{field} must be a string: {hint}")))
}

/// An optional string.
pub fn optional_string(value: &JsValue, field: &'static str) -> Result<Option<String>, Error> {
    if is_absent(value) {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| Error::invalid_config(field, format!("{field} must be a string")))
}

/// An optional boolean (default false).
pub fn optional_bool(value: &JsValue, field: &'static str) -> Result<bool, Error> {
    if is_absent(value) {
        return Ok(false);
    }
    value
        .as_bool()
        .ok_or_else(|| Error::invalid_config(field, format!("{field} must be true or false")))
}

/// An optional non-negative whole number, at most `max`.
pub fn optional_count(
    value: &JsValue,
    field: &'static str,
    max: u64,
) -> Result<Option<u64>, Error> {
    if is_absent(value) {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= max as f64 => {
            Ok(Some(n as u64))
        }
        _ => Err(Error::invalid_config(
            field,
            format!("{field} must be a whole number from 0 to {max}"),
        )),
    }
}

/// A plain object of string values, as name/value pairs in property order.
pub fn optional_string_map(
    value: &JsValue,
    field: &'static str,
) -> Result<Vec<(String, String)>, Error> {
    if is_absent(value) {
        return Ok(Vec::new());
    }
    let object = require_object(value.clone(), field, "{ name: \"value\" }")?;
    // Own enumerable properties only, so nothing inherited joins the form or the URL.
    Object::entries(&Object::from(object))
        .iter()
        .map(|entry| {
            let pair = Array::from(&entry);
            match (pair.get(0).as_string(), pair.get(1).as_string()) {
                (Some(name), Some(value)) => Ok((name, value)),
                _ => Err(Error::invalid_config(
                    field,
                    format!("{field} values must be strings"),
                )),
            }
        })
        .collect()
}

/// An array of strings (e.g. scopes); `field` names it in errors.
pub fn require_string_array(value: &JsValue, field: &'static str) -> Result<Vec<String>, Error> {
    if !Array::is_array(value) {
        return Err(Error::invalid_scope(format!(
            "{field} must be an array of strings, e.g. [\"https://graph.microsoft.com/.default\"]"
        )));
    }
    Array::from(value)
        .iter()
        .enumerate()
        .map(|(index, item)| {
            item.as_string()
                .ok_or_else(|| Error::invalid_scope(format!("{field}[{index}] must be a string")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[&str] = &["scopes", "forceRefresh", "abortSignal", "signal"];

    #[test]
    fn suggests_the_closest_name() {
        assert_eq!(closest("scope", REQUEST), Some("scopes"));
        assert_eq!(closest("forcerefresh", REQUEST), Some("forceRefresh"));
        assert_eq!(closest("signl", REQUEST), Some("signal"));
        assert_eq!(closest("timeout", REQUEST), None);
        let options = ["clientId", "credential.clientSecret", "totalTimeoutMs"];
        assert_eq!(
            closest("clientSecret", &options),
            Some("credential.clientSecret")
        );
        assert_eq!(closest("secret", &options), Some("credential.clientSecret"));
        assert_eq!(closest("clientID", &options), Some("clientId"));
        assert_eq!(closest("x", &options), None);
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance(b"", b"abc"), 3);
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance(b"signal", b"signal"), 0);
    }

    #[test]
    fn only_identifier_like_names_are_quoted() {
        assert!(is_printable_name("abortSignal"));
        assert!(!is_printable_name(""));
        assert!(!is_printable_name("a b"));
        assert!(!is_printable_name(&"a".repeat(65)));
    }
}
