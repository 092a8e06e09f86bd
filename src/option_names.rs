//! The names of the options users write (the npm module's option names, which errors' `field`
//! also uses), listed once, and the refusal of an unknown name with the closest known one.

use crate::error::Error;

/// The options of `new ConfidentialClient(…)` (and of `fromEnvironment`'s overrides).
pub const CLIENT_OPTIONS: &[&str] = &[
    "clientId",
    "authority",
    "tenantId",
    "authorityHost",
    "tokenEndpoint",
    "extraQueryParameters",
    "credential",
    "clientAuthMethod",
    "assertionAudience",
    "expiryBufferSeconds",
    "maxCacheEntries",
    "maxRetries",
    "attemptTimeoutMs",
    "totalTimeoutMs",
    "clientCapabilities",
    "allowedAuthorityHosts",
    "onRefreshError",
    "fetch",
];
/// The options of `credential`: one kind of credential each.
pub const CREDENTIAL_OPTIONS: &[&str] = &["clientSecret", "certificate", "clientAssertion"];
/// The same, as suggested when one is given at the top level by mistake.
pub const CREDENTIAL_OPTIONS_DOTTED: &[&str] = &[
    "credential.clientSecret",
    "credential.certificate",
    "credential.clientAssertion",
];
/// The options of `credential.certificate`.
pub const CERTIFICATE_OPTIONS: &[&str] = &[
    "privateKeyPem",
    "certificatePem",
    "thumbprint",
    "thumbprintSha256",
    "sendX5c",
    "algorithm",
    "keyId",
];
/// The fields of `callApi`'s `init`: a token request's (the first nine), then what is sent
/// to the API as given. `signal` is the web platform's name for `abortSignal`, accepted as the
/// same field.
pub const CALL_API_FIELDS: &[&str] = &[
    "scopes",
    "forceRefresh",
    "claims",
    "correlationId",
    "extraBodyParameters",
    "tenantId",
    "authority",
    "abortSignal",
    "signal",
    "method",
    "headers",
    "body",
];
/// The fields of `acquireTokenForClient` and `getAuthorizationHeader` requests.
pub const REQUEST_FIELDS: &[&str] = CALL_API_FIELDS.split_at(9).0;
/// The options of `new BrokerClient(…)`.
pub const BROKER_CLIENT_OPTIONS: &[&str] = &["url", "callerId", "key", "fetch"];
/// The fields of `BrokerClient`'s `acquireToken` requests: what the broker's token route
/// takes, under the names of its JSON body (`tenant`, not `acquireTokenForClient`'s
/// `tenantId`), and the abort signal.
pub const BROKER_REQUEST_FIELDS: &[&str] =
    &["scopes", "forceRefresh", "tenant", "abortSignal", "signal"];
/// The options of `adminConsentUrl(…)`.
pub const ADMIN_CONSENT_OPTIONS: &[&str] = &["tenant", "clientId", "authorityHost"];

/// The refusal of `name`, which is not in `known`. `what` says what the names are (e.g.
/// "request field"), `field` is reported as the error's field. The error names the unknown
/// name and the closest of `known` and `elsewhere` (names that belong in another object, e.g.
/// `credential.clientSecret` for `clientSecret`).
pub fn unknown_name(
    field: &'static str,
    what: &str,
    name: &str,
    known: &[&str],
    elsewhere: &[&str],
) -> Error {
    let shown = if is_printable_name(name) {
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
    let suggestion = is_printable_name(name)
        .then(|| closest(name, &candidates))
        .flatten();
    match suggestion {
        Some(suggestion) => message.push_str(&format!(": did you mean \"{suggestion}\"?")),
        None => message.push_str(&format!("; known: {}", known.join(", "))),
    }
    Error::invalid_config(field, message)
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

    /// The rules' edges: the edit budget grows with the name (a third of it, 1 to 3), a
    /// shared start counts from 5 characters and two thirds of the name, the shortest
    /// container wins, and of equals the first listed.
    #[test]
    fn the_rules_edges() {
        assert_eq!(closest("siganl", REQUEST), Some("signal"), "2 edits of 6");
        assert_eq!(closest("xignxx", REQUEST), None, "3 edits of 6");
        let timeouts = ["attemptTimeoutMs", "totalTimeoutMs"];
        assert_eq!(
            closest("attemptTimeoutSeconds", &timeouts),
            Some("attemptTimeoutMs"),
            "14 shared of 21"
        );
        assert_eq!(
            closest("clientAuthenticationMethodName", &["clientId"]),
            None,
            "6 shared of 30"
        );
        assert_eq!(
            closest("secret", &["credential.clientSecret", "clientSecret"]),
            Some("clientSecret")
        );
        assert_eq!(closest("scope", &["scopes", "scoped"]), Some("scopes"));
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance(b"", b"abc"), 3);
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance(b"signal", b"signal"), 0);
        assert_eq!(edit_distance(b"ab", b"b"), 1);
        assert_eq!(edit_distance(b"abc", b"ac"), 1);
        assert_eq!(edit_distance(b"flaw", b"lawn"), 2);
    }

    #[test]
    fn only_identifier_like_names_are_quoted() {
        assert!(is_printable_name("abortSignal"));
        assert!(!is_printable_name(""));
        assert!(!is_printable_name("a b"));
        assert!(!is_printable_name(&"a".repeat(65)));
    }
}
