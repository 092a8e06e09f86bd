//! Header lists as one string, `name\nvalue\nname\nvalue`: how the JS adapters (through
//! `host_bridge.mjs`) move a request's or a reply's headers across the wasm boundary in one
//! crossing, without a JSON encoder on either side. Fetch forbids CR and LF in header names
//! and values, so a newline can only ever separate fields; the encoder refuses any that
//! would smuggle one in.

use crate::error::Error;

/// `headers` as `name\nvalue\n…`, or an error naming the header whose name or value holds a
/// line break (which would otherwise start a header of the caller's choosing).
pub fn encode(headers: &[(String, String)]) -> Result<String, Error> {
    let mut lines = String::with_capacity(headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum());
    for (name, value) in headers {
        if has_line_break(name) || has_line_break(value) {
            return Err(Error::invalid_config(
                "headers",
                format!("the {name:?} header contains a line break; header names and values must be single lines"),
            ));
        }
        if !lines.is_empty() {
            lines.push('\n');
        }
        lines.push_str(name);
        lines.push('\n');
        lines.push_str(value);
    }
    Ok(lines)
}

/// The pairs of a string written by [`encode`] (or by the JS side's equivalent). A trailing
/// name without a value is dropped; an empty string is no headers.
pub fn decode(lines: &str) -> Vec<(String, String)> {
    if lines.is_empty() {
        return Vec::new();
    }
    let mut fields = lines.split('\n');
    let mut headers = Vec::new();
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        headers.push((name.to_owned(), value.to_owned()));
    }
    headers
}

/// Scans bytes, not chars: CR and LF are ASCII, so they never occur inside a multi-byte
/// UTF-8 sequence, and a char-pattern search cost a fifth of building a request in wasm.
fn has_line_break(text: &str) -> bool {
    text.bytes().any(|byte| byte == b'\n' || byte == b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn round_trips_names_values_and_empty_values() {
        let headers = pairs(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-empty", ""),
            ("client-request-id", "c0ffee00-0000-4000-8000-000000000001"),
        ]);
        let lines = encode(&headers).unwrap();
        assert_eq!(
            lines,
            "content-type\napplication/x-www-form-urlencoded\nx-empty\n\nclient-request-id\nc0ffee00-0000-4000-8000-000000000001"
        );
        assert_eq!(decode(&lines), headers);
    }

    #[test]
    fn no_headers_is_the_empty_string() {
        assert_eq!(encode(&[]).unwrap(), "");
        assert!(decode("").is_empty());
    }

    #[test]
    fn a_line_break_in_a_value_or_name_is_refused_not_split_into_a_header() {
        for (name, value) in [
            ("client-request-id", "abc\nx-injected\n1"),
            ("client-request-id", "abc\r\nx-injected: 1"),
            ("x-bad\nname", "v"),
        ] {
            let error = encode(&pairs(&[(name, value)])).unwrap_err();
            assert_eq!(error.field(), Some("headers"));
            assert!(
                error.message().contains("line break"),
                "{}",
                error.message()
            );
        }
    }

    #[test]
    fn a_lone_carriage_return_is_refused_and_non_ascii_text_is_not() {
        let error = encode(&pairs(&[("x-a", "1\r2")])).unwrap_err();
        assert_eq!(error.field(), Some("headers"));
        // U+2028 (LINE SEPARATOR) and U+0A0A contain no CR or LF byte in UTF-8.
        let headers = pairs(&[("x-a", "é\u{2028}\u{0a0a}ñ")]);
        assert_eq!(decode(&encode(&headers).unwrap()), headers);
    }

    #[test]
    fn a_dangling_name_is_dropped() {
        assert_eq!(decode("a\n1\nb"), pairs(&[("a", "1")]));
    }
}
