//! Options and request fields as a host hands them over (a JS object, say), read by the core
//! with one set of rules and messages. The host only answers what a value is
//! ([`OptionValue`]); [`Fields`] and the readers built on it (`ClientOptions::read`,
//! [`crate::request_fields`]) decide what each field must be and word every refusal.
//!
//! The host's view is lazy on purpose: a field the core passes through untouched (`callApi`'s
//! `body`, a megabyte `Buffer` perhaps) or a host object (an `AbortSignal`, a function) is
//! never walked, and a cyclic object cannot loop.

use crate::error::Error;
use crate::option_names::unknown_name;

/// A value as a host gives it. An object's fields are its own enumerable named properties
/// only: an inherited one (from a polluted `Object.prototype`) must never become a client's
/// fetch, secret or endpoint.
pub trait OptionValue: Clone {
    /// Not given (`undefined` or `null`).
    fn is_absent(&self) -> bool;
    /// The text of a string.
    fn as_text(&self) -> Option<String>;
    /// A boolean.
    fn as_flag(&self) -> Option<bool>;
    /// A number.
    fn as_number(&self) -> Option<f64>;
    /// The items of a list (a JS array).
    fn as_list(&self) -> Option<Vec<Self>>;
    /// The named fields, in order, of an object that is neither a list nor a function.
    fn as_fields(&self) -> Option<Vec<(String, Self)>>;
    /// A function (a callback the host calls).
    fn is_callable(&self) -> bool;
    /// An abort signal (a JS `AbortSignal`: something to listen to for `abort`).
    fn is_abort_signal(&self) -> bool;
    /// The same value as `other` (JS `Object.is`).
    fn is_same(&self, other: &Self) -> bool;
}

/// The fields of an options object, every name checked against the known ones.
pub struct Fields<V> {
    given: Vec<(String, V)>,
}

impl<V: OptionValue> Fields<V> {
    /// `value`'s fields; an error when it is no object (`{field} must be an object, e.g.
    /// {example}`) or has a field not in `known` ([`unknown_name`] with `what` and the closest
    /// of `known` and `elsewhere`), checked first so a misspelt field is named rather than
    /// its absence.
    pub fn read(
        value: &V,
        field: &'static str,
        example: &str,
        what: &str,
        known: &[&str],
        elsewhere: &[&str],
    ) -> Result<Self, Error> {
        Self::of(value)
            .ok_or_else(|| {
                Error::invalid_config(field, format!("{field} must be an object, e.g. {example}"))
            })?
            .only(field, what, known, elsewhere)
    }

    /// `value`'s fields, unchecked; `None` when it is no object.
    pub fn of(value: &V) -> Option<Self> {
        value.as_fields().map(|given| Fields { given })
    }

    /// These fields, when every name is in `known`: see [`Fields::read`].
    pub fn only(
        self,
        field: &'static str,
        what: &str,
        known: &[&str],
        elsewhere: &[&str],
    ) -> Result<Self, Error> {
        match self
            .given
            .iter()
            .find(|(name, _)| !known.contains(&name.as_str()))
        {
            Some((name, _)) => Err(unknown_name(field, what, name, known, elsewhere)),
            None => Ok(self),
        }
    }

    /// The field `name`, when given (not absent).
    pub fn get(&self, name: &str) -> Option<&V> {
        self.given
            .iter()
            .find(|(given, value)| given == name && !value.is_absent())
            .map(|(_, value)| value)
    }

    /// The optional string `field` (looked up by its last dotted part: `privateKeyPem` for
    /// `credential.certificate.privateKeyPem`).
    pub fn string(&self, field: &'static str) -> Result<Option<String>, Error> {
        self.get(last_part(field))
            .map(|value| {
                value.as_text().ok_or_else(|| {
                    Error::invalid_config(field, format!("{field} must be a string"))
                })
            })
            .transpose()
    }

    /// The required string `field`; `hint` says what to put there.
    pub fn required_string(&self, field: &'static str, hint: &str) -> Result<String, Error> {
        match self.get(last_part(field)) {
            Some(value) => required_text(value, field, hint),
            None => Err(missing(field, hint)),
        }
    }

    /// The optional boolean `field` (default false).
    pub fn flag(&self, field: &'static str) -> Result<bool, Error> {
        self.get(last_part(field)).map_or(Ok(false), |value| {
            value.as_flag().ok_or_else(|| {
                Error::invalid_config(field, format!("{field} must be true or false"))
            })
        })
    }

    /// The count `field` as a number, or [`crate::client_options::NOT_A_WHOLE_NUMBER`] for
    /// anything else, which the count's range check refuses.
    pub fn count(&self, field: &'static str) -> Option<u64> {
        use crate::client_options::{whole_number, NOT_A_WHOLE_NUMBER};
        self.get(last_part(field))
            .map(|value| value.as_number().map_or(NOT_A_WHOLE_NUMBER, whole_number))
    }

    /// The optional array of strings `field`, e.g. `["cp1"]`.
    pub fn string_list(&self, field: &'static str) -> Result<Option<Vec<String>>, Error> {
        let Some(value) = self.get(last_part(field)) else {
            return Ok(None);
        };
        let refused = || {
            Error::invalid_config(
                field,
                format!("{field} must be an array of strings, e.g. [\"cp1\"]"),
            )
        };
        value
            .as_list()
            .ok_or_else(refused)?
            .iter()
            .map(|item| item.as_text().ok_or_else(refused))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The optional object of strings `field`, as name/value pairs in order.
    pub fn string_map(&self, field: &'static str) -> Result<Vec<(String, String)>, Error> {
        let Some(value) = self.get(last_part(field)) else {
            return Ok(Vec::new());
        };
        let map = value.as_fields().ok_or_else(|| {
            Error::invalid_config(
                field,
                format!("{field} must be an object, e.g. {{ name: \"value\" }}"),
            )
        })?;
        map.into_iter()
            .map(|(name, value)| {
                let text = value.as_text().ok_or_else(|| {
                    Error::invalid_config(field, format!("{field} values must be strings"))
                })?;
                Ok((name, text))
            })
            .collect()
    }
}

/// A required string that stands alone (an argument rather than a field).
pub fn required_text<V: OptionValue>(
    value: &V,
    field: &'static str,
    hint: &str,
) -> Result<String, Error> {
    if value.is_absent() {
        return Err(missing(field, hint));
    }
    value
        .as_text()
        .ok_or_else(|| Error::invalid_config(field, format!("{field} must be a string: {hint}")))
}

fn missing(field: &'static str, hint: &str) -> Error {
    Error::invalid_config(field, format!("{field} is required: {hint}"))
}

fn last_part(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

#[cfg(test)]
pub(crate) mod fake;

#[cfg(test)]
mod tests;
