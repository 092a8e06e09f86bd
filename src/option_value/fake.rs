//! A host value for native tests: what a JS caller could pass, functions and signals
//! included (each named, so tests can tell which one a reader handed back).

use super::OptionValue;

/// A value as a JS caller might pass it.
#[derive(Clone, Debug, PartialEq)]
pub enum Fake {
    Absent,
    Flag(bool),
    Number(f64),
    Text(String),
    List(Vec<Fake>),
    Object(Vec<(String, Fake)>),
    Function(&'static str),
    Signal(&'static str),
}

/// A string.
pub fn text(value: &str) -> Fake {
    Fake::Text(value.into())
}

/// An object of `fields`.
pub fn object<const N: usize>(fields: [(&str, Fake); N]) -> Fake {
    Fake::Object(
        fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    )
}

/// A list of strings.
pub fn texts(items: &[&str]) -> Fake {
    Fake::List(items.iter().map(|item| text(item)).collect())
}

impl OptionValue for Fake {
    fn is_absent(&self) -> bool {
        *self == Fake::Absent
    }
    fn as_text(&self) -> Option<String> {
        match self {
            Fake::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
    fn as_flag(&self) -> Option<bool> {
        match self {
            Fake::Flag(flag) => Some(*flag),
            _ => None,
        }
    }
    fn as_number(&self) -> Option<f64> {
        match self {
            Fake::Number(number) => Some(*number),
            _ => None,
        }
    }
    fn as_list(&self) -> Option<Vec<Self>> {
        match self {
            Fake::List(items) => Some(items.clone()),
            _ => None,
        }
    }
    fn as_fields(&self) -> Option<Vec<(String, Self)>> {
        match self {
            // A signal is an object with no own fields.
            Fake::Object(fields) => Some(fields.clone()),
            Fake::Signal(_) => Some(Vec::new()),
            _ => None,
        }
    }
    fn is_callable(&self) -> bool {
        matches!(self, Fake::Function(_))
    }
    fn is_abort_signal(&self) -> bool {
        matches!(self, Fake::Signal(_))
    }
    fn is_same(&self, other: &Self) -> bool {
        self == other
    }
}
