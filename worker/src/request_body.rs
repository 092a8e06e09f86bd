//! Reading a request body without holding more than the broker will ever parse. A declared
//! length over the limit is refused unread; a body without one (chunked) is read chunk by
//! chunk and abandoned as soon as it passes the limit, so a caller cannot make an isolate
//! buffer megabytes before being told 413.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Request, Result};

/// The body is over the limit.
#[derive(Debug, PartialEq, Eq)]
pub struct TooLarge;

/// The body, or [`TooLarge`] once it is known to exceed `max` bytes.
pub async fn read_capped(request: &mut Request, max: usize) -> Result<Result<Vec<u8>, TooLarge>> {
    let declared = request.headers().get("content-length")?;
    if declared_too_large(declared.as_deref(), max) {
        return Ok(Err(TooLarge));
    }
    let declared_digits = declared
        .as_deref()
        .map(str::trim)
        .is_some_and(|length| !length.is_empty() && length.bytes().all(|b| b.is_ascii_digit()));
    if declared_digits {
        // Within the limit, and the runtime delivers no more than declared: one read instead
        // of a reader loop (two promise round trips per request on the hot path).
        return Ok(Ok(request.bytes().await?));
    }
    let Some(stream) = request.inner().body() else {
        return Ok(Ok(Vec::new()));
    };
    let reader = call(&stream, "getReader", &[])?;
    let mut body = Capped::new(max);
    loop {
        let next = JsFuture::from(Promise::resolve(&call(&reader, "read", &[])?)).await?;
        if Reflect::get(&next, &"done".into())?.is_truthy() {
            return Ok(Ok(body.bytes));
        }
        let chunk = Uint8Array::new(&Reflect::get(&next, &"value".into())?);
        if body.push(&chunk.to_vec()).is_err() {
            // Tells the runtime the rest is unwanted; its outcome changes nothing here.
            let _ = call(&reader, "cancel", &[]);
            return Ok(Err(TooLarge));
        }
    }
}

fn call(target: &JsValue, method: &str, args: &[JsValue]) -> std::result::Result<JsValue, JsValue> {
    let function: Function = Reflect::get(target, &method.into())?.dyn_into()?;
    let args: js_sys::Array = args.iter().collect();
    Reflect::apply(&function, target, &args)
}

fn declared_too_large(content_length: Option<&str>, max: usize) -> bool {
    let Some(length) = content_length.map(str::trim) else {
        return false;
    };
    // Digits too many for a u64 are too large all the same.
    !length.is_empty()
        && length.bytes().all(|b| b.is_ascii_digit())
        && length
            .parse::<u64>()
            .map_or(true, |length| length > max as u64)
}

/// Bytes gathered up to a limit.
struct Capped {
    bytes: Vec<u8>,
    max: usize,
}

impl Capped {
    fn new(max: usize) -> Self {
        Capped {
            bytes: Vec::new(),
            max,
        }
    }

    fn push(&mut self, chunk: &[u8]) -> std::result::Result<(), TooLarge> {
        if chunk.len() > self.max - self.bytes.len() {
            return Err(TooLarge);
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_chunks_up_to_the_limit_and_stops_past_it() {
        let mut body = Capped::new(10);
        assert_eq!(body.push(b"12345"), Ok(()));
        assert_eq!(body.push(b"67890"), Ok(()), "exactly the limit is fine");
        assert_eq!(body.push(b"x"), Err(TooLarge));
        assert_eq!(body.bytes, b"1234567890", "nothing past the limit is kept");
        let mut body = Capped::new(10);
        assert_eq!(body.push(&[0; 11]), Err(TooLarge));
        assert!(body.bytes.is_empty());
    }

    #[test]
    fn declared_lengths() {
        assert!(declared_too_large(Some("17"), 16));
        assert!(declared_too_large(Some(" 99999999999999999999 "), 16));
        assert!(!declared_too_large(Some("16"), 16));
        assert!(!declared_too_large(None, 16));
        assert!(
            !declared_too_large(Some("abc"), 16),
            "an unreadable length is left to the runtime and the chunked reader"
        );
    }
}
