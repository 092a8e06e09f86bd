//! URLs as the runtime's own WHATWG `URL` parser splits them (the parser `fetch` uses), so
//! that what is checked and shown is what would be requested. Only the shown parts leave:
//! scheme, host and path, never a user, password, query or fragment.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::object::get;
use crate::doctor::UrlView;

/// `url` (resolved against `base`, if given) as the runtime parses it, with its full `href`
/// to request; `None` when it does not parse.
pub(crate) fn parse_url(url: &str, base: Option<&str>) -> Option<(UrlView, String)> {
    parse(url, base).map(|(view, href, _)| (view, href))
}

/// [`parse_url`], and the parts never shown: query (`?…`), fragment (`#…`), `user:password@`.
fn parse(url: &str, base: Option<&str>) -> Option<(UrlView, String, [String; 3])> {
    let constructor: Function = get(&js_sys::global(), "URL").dyn_into().ok()?;
    let args: Array = std::iter::once(JsValue::from(url))
        .chain(base.map(JsValue::from))
        .collect();
    let parsed = Reflect::construct(&constructor, &args).ok()?;
    let text = |key: &str| get(&parsed, key).as_string().unwrap_or_default();
    let view = UrlView {
        scheme: text("protocol").trim_end_matches(':').to_ascii_lowercase(),
        has_credentials: !text("username").is_empty() || !text("password").is_empty(),
        host: text("host"),
        path: text("pathname"),
    };
    let (user, password) = (text("username"), text("password"));
    let userinfo = match (user.is_empty(), password.is_empty()) {
        (true, true) => String::new(),
        (_, true) => format!("{user}@"),
        _ => format!("{user}:{password}@"),
    };
    let hidden = [text("search"), text("hash"), userinfo];
    Some((view, text("href"), hidden))
}

/// `url` as it may appear in an error: `scheme://host[:port]/path`, or "the URL" when the
/// runtime cannot parse it (then nothing of it is quoted).
pub(crate) fn shown_url(url: &str) -> String {
    parse_url(url, None).map_or_else(|| "the URL".to_owned(), |(view, _)| view.shown())
}

/// `text` (a runtime's error message, which may quote the URL requested in any of its
/// forms: Deno's do, without the fragment) with the URL's user, password, query and
/// fragment cut out wherever they appear.
pub(crate) fn without_url(text: &str, url: &str) -> String {
    let Some((view, href, hidden)) = parse(url, None) else {
        return text.replace(url, "the URL");
    };
    let mut out = text
        .replace(url, &view.shown())
        .replace(&href, &view.shown());
    for part in hidden.iter().filter(|part| part.len() > 1) {
        out = out.replace(part.as_str(), "");
    }
    out
}
