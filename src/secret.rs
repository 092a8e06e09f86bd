//! Strings that must never be printed: client secrets, access tokens, broker keys, each its
//! own type so one cannot be passed where another is meant.

use std::fmt;
use std::marker::PhantomData;

use subtle::ConstantTimeEq;

/// What a [`Secret`] holds; only names it in `Debug` output.
pub trait Kind {
    /// The type's name, as `Debug` prints it.
    const NAME: &'static str;
}

/// The kinds of secret, as type markers.
pub mod kind {
    macro_rules! kinds {
        ($($(#[$doc:meta])* $name:ident;)*) => {$(
            $(#[$doc])*
            #[derive(Clone, Copy)]
            pub enum $name {}
            impl super::Kind for $name {
                const NAME: &'static str = stringify!($name);
            }
        )*};
    }
    kinds! {
        /// A secret not otherwise named: a client assertion, a key's PEM text.
        Secret;
        /// An app registration's client secret.
        ClientSecret;
        /// An access token issued by the identity provider.
        AccessToken;
        /// A caller's key for the broker.
        BrokerKey;
    }
}

/// A secret string of kind `K`. `Debug` and `Display` print `<redacted>`; only
/// [`Redacted::expose`] reveals the value, so every place that sends a secret on the wire is
/// easy to find. Equality takes the same time wherever two values differ.
pub struct Redacted<K: Kind>(String, PhantomData<K>);

/// A secret not otherwise named: a client assertion, a key's PEM text.
pub type Secret = Redacted<kind::Secret>;
/// An app registration's client secret.
pub type ClientSecret = Redacted<kind::ClientSecret>;
/// An access token.
pub type AccessToken = Redacted<kind::AccessToken>;
/// A caller's key for the broker.
pub type BrokerKey = Redacted<kind::BrokerKey>;

impl<K: Kind> Redacted<K> {
    /// Wraps a value that must not appear in logs or error messages.
    pub fn new(value: impl Into<String>) -> Self {
        Redacted(value.into(), PhantomData)
    }

    /// The secret value itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `text` holds the value, or any [`LEAK_WINDOW`] consecutive characters of
    /// it, raw or form-encoded: such text must not be shown (a reply that echoes the request,
    /// an error built from secret input).
    pub fn appears_in(&self, text: &str) -> bool {
        leaks(text, &self.0)
    }
}

/// The credentials of `Authorization: Basic …` as RFC 6749 §2.3.1 sends them: id and secret
/// each form-urlencoded, joined by `:`, base64. The token request sends it, and a reply that
/// echoes request headers must not be quoted when it holds it.
pub fn basic_credentials(client_id: &str, secret: &str) -> String {
    use base64::Engine;
    let encode =
        |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        encode(client_id),
        encode(secret)
    ))
}

/// How many consecutive characters of a secret make a leak. Long enough that words of
/// ordinary messages do not collide with it, short enough that no useful part of a key or
/// secret can be shown: 16 base64 characters are 96 bits.
pub const LEAK_WINDOW: usize = 16;

/// True when `text` holds `secret` or [`LEAK_WINDOW`] consecutive characters of it, as is or
/// form-encoded (`+`, `/` and `=` of base64 secrets turn into `%2B`, `%2F`, `%3D` in a form
/// body that a proxy may echo back).
pub fn leaks(text: &str, secret: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    has_window_of(text, secret) || has_window_of(text, &encoded)
}

fn has_window_of(text: &str, secret: &str) -> bool {
    let boundaries: Vec<usize> = secret
        .char_indices()
        .map(|(at, _)| at)
        .chain([secret.len()])
        .collect();
    if boundaries.len() <= LEAK_WINDOW {
        return text.contains(secret);
    }
    boundaries
        .windows(LEAK_WINDOW + 1)
        .any(|window| text.contains(&secret[window[0]..window[LEAK_WINDOW]]))
}

impl<K: Kind> Clone for Redacted<K> {
    fn clone(&self) -> Self {
        Redacted::new(self.0.clone())
    }
}

/// Constant time over the bytes (`subtle`): comparing a presented secret with a configured
/// one must not tell how much of it matched.
impl<K: Kind> PartialEq for Redacted<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl<K: Kind> Eq for Redacted<K> {}

impl<K: Kind> fmt::Debug for Redacted<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(<redacted>)", K::NAME)
    }
}

impl<K: Kind> fmt::Display for Redacted<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(secret.expose(), "hunter2-very-secret");
        assert_eq!(
            format!("{:?}", AccessToken::new("eyJhbGciOi.x.y")),
            "AccessToken(<redacted>)"
        );
        assert_eq!(
            format!("{:?}", ClientSecret::new("s")),
            "ClientSecret(<redacted>)"
        );
        assert_eq!(format!("{}", BrokerKey::new("k")), "<redacted>");
        assert_eq!(
            format!("{:?}", BrokerKey::new("k")),
            "BrokerKey(<redacted>)"
        );
    }

    #[test]
    fn equal_only_when_every_byte_is() {
        let key = BrokerKey::new("k3y-value");
        assert_eq!(key, key.clone());
        assert_eq!(key, BrokerKey::new("k3y-value"));
        for other in ["k3y-valuf", "j3y-value", "k3y-valu", "k3y-value ", ""] {
            assert_ne!(key, BrokerKey::new(other), "{other:?}");
        }
    }

    #[test]
    fn finds_any_sixteen_characters_of_a_secret_raw_or_form_encoded() {
        let secret = Secret::new("Ab+/Cd=Ef~gH.iJ-kL_mN0pQ1rS2tU3");
        assert!(secret.appears_in("x Ab+/Cd=Ef~gH.iJ-k y"));
        assert!(
            secret.appears_in("..-kL_mN0pQ1rS2tU3"),
            "the last 16 characters"
        );
        assert!(
            !secret.appears_in("..kL_mN0pQ1rS2tU3"),
            "15 characters are not a leak"
        );
        assert!(
            !secret.appears_in("Ab+/Cd=Ef~gH.iJ"),
            "15 characters are not a leak"
        );
        assert!(secret.appears_in("client_secret=Ab%2B%2FCd%3DEf%7EgH.iJ-kL_mN0pQ1rS2tU3&x"));
        assert!(secret.appears_in("=Ab%2B%2FCd%3DEf%7EgH"));
        assert!(!secret.appears_in("=Ab%2B%2FCd%3DE"));
        // Shorter secrets count only whole.
        let short = Secret::new("s3cret");
        assert!(short.appears_in("the s3cret was"));
        assert!(!short.appears_in("the s3cre was"));
        assert!(!Secret::new("").appears_in("anything"));
    }
}
