use super::fake::{object, text, Fake};
use super::*;

const KNOWN: &[&str] = &["name", "count", "on", "map"];

fn fields(value: Fake) -> Result<Fields<Fake>, Error> {
    Fields::read(
        &value,
        "options",
        "{ name }",
        "option",
        KNOWN,
        &["inner.secret"],
    )
}

/// The error's field and message.
fn refusal<T>(result: Result<T, Error>) -> (Option<&'static str>, String) {
    let error = result.err().expect("refused");
    (error.field(), error.message().to_owned())
}

#[test]
fn only_objects_with_known_names_are_read() {
    for not_an_object in [
        Fake::Absent,
        text("x"),
        Fake::List(Vec::new()),
        Fake::Function("f"),
    ] {
        assert_eq!(
            refusal(fields(not_an_object)),
            (
                Some("options"),
                "options must be an object, e.g. { name }".into()
            )
        );
    }
    assert_eq!(
        refusal(fields(object([("name", text("a")), ("nam", text("b"))]))),
        (
            Some("options"),
            "unknown option \"nam\": did you mean \"name\"?".into()
        )
    );
    assert_eq!(
        refusal(fields(object([("secret", text("s"))]))).1,
        "unknown option \"secret\": did you mean \"inner.secret\"?"
    );
    // A signal is an object without fields.
    assert!(fields(Fake::Signal("s")).is_ok());
}

#[test]
fn absent_fields_are_not_given() {
    let read = fields(object([("name", Fake::Absent), ("on", Fake::Flag(true))])).unwrap();
    assert!(read.get("name").is_none());
    assert_eq!(read.string("name").unwrap(), None);
    assert!(read.flag("on").unwrap());
    assert!(!read.flag("count").unwrap(), "a flag defaults to false");
    assert_eq!(read.count("count"), None);
    assert_eq!(read.string_map("map").unwrap(), Vec::new());
    assert_eq!(
        refusal(read.required_string("name", "the name")),
        (Some("name"), "name is required: the name".into())
    );
}

#[test]
fn values_of_the_wrong_kind_are_refused_naming_the_field() {
    let read = fields(object([
        ("name", Fake::Number(1.0)),
        ("on", text("yes")),
        ("map", object([("a", text("1")), ("b", Fake::Flag(true))])),
    ]))
    .unwrap();
    assert_eq!(
        refusal(read.string("name")),
        (Some("name"), "name must be a string".into())
    );
    assert_eq!(
        refusal(read.required_string("name", "the name")).1,
        "name must be a string: the name"
    );
    assert_eq!(refusal(read.flag("on")).1, "on must be true or false");
    assert_eq!(
        refusal(read.string_map("map")).1,
        "map values must be strings"
    );
    let not_a_map = fields(object([("map", Fake::List(Vec::new()))])).unwrap();
    assert_eq!(
        refusal(not_a_map.string_map("map")).1,
        "map must be an object, e.g. { name: \"value\" }"
    );
}

#[test]
fn dotted_fields_are_looked_up_by_their_last_part() {
    let read = fields(object([("name", text("a"))])).unwrap();
    assert_eq!(read.string("inner.name").unwrap().as_deref(), Some("a"));
    let wrong = fields(object([("name", Fake::Flag(true))])).unwrap();
    assert_eq!(refusal(wrong.string("inner.name")).0, Some("inner.name"));
}

#[test]
fn counts_that_are_no_whole_number_read_as_out_of_every_range() {
    use crate::client_options::NOT_A_WHOLE_NUMBER;
    let count = |value: Fake| fields(object([("count", value)])).unwrap().count("count");
    assert_eq!(count(Fake::Number(5.0)), Some(5));
    for bad in [
        Fake::Number(-1.0),
        Fake::Number(1.5),
        Fake::Number(f64::NAN),
        text("5"),
    ] {
        assert_eq!(count(bad), Some(NOT_A_WHOLE_NUMBER));
    }
}

#[test]
fn standalone_strings_are_required() {
    assert_eq!(required_text(&text("x"), "url", "a URL").unwrap(), "x");
    assert_eq!(
        refusal(required_text(&Fake::Absent, "url", "a URL")),
        (Some("url"), "url is required: a URL".into())
    );
    assert_eq!(
        refusal(required_text(&Fake::Number(1.0), "url", "a URL")).1,
        "url must be a string: a URL"
    );
}
