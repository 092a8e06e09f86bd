//! Environment variables and files from whichever runtime hosts the wasm: Deno's APIs when
//! present, else Node's (`process.env`, `process.getBuiltinModule("node:fs")`, also in Bun).

use super::fetch::describe_js_error;
use super::object::{call, get};
use super::options::own;
use crate::error::Error;

/// The value of environment variable `name`, if set (and readable: Deno without
/// `--allow-env` reads as unset).
pub fn environment_variable(name: &str) -> Option<String> {
    let global = js_sys::global();
    let deno = get(&global, "Deno");
    if deno.is_object() {
        return call(&get(&deno, "env"), "get", &[name.into()])
            .ok()
            .and_then(|v| v.as_string());
    }
    // Own properties only: `process.env` inherits from `Object.prototype`, so a polluted
    // `Object.prototype.AZURE_AUTHORITY_HOST` would otherwise read as set.
    own(&get(&get(&global, "process"), "env"), name).as_string()
}

/// A file's contents as UTF-8 text; `field` names the setting that gave the path.
pub fn read_text_file(field: &'static str, path: &str) -> Result<String, Error> {
    let global = js_sys::global();
    let deno = get(&global, "Deno");
    let result = if deno.is_object() {
        call(&deno, "readTextFileSync", &[path.into()])
    } else {
        call(
            &get(&global, "process"),
            "getBuiltinModule",
            &["node:fs".into()],
        )
        .and_then(|fs| call(&fs, "readFileSync", &[path.into(), "utf8".into()]))
    };
    let why = match result {
        Ok(text) => match text.as_string() {
            Some(text) => return Ok(text),
            None => "the runtime returned no text".to_owned(),
        },
        Err(error) => describe_js_error(&error),
    };
    Err(Error::invalid_config(
        field,
        format!("{field}: cannot read {path}: {why}"),
    ))
}
