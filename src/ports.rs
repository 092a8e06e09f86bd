//! The ports the client needs from its host: send one HTTP request, tell the time, wait,
//! run a task in the background and wake the tasks waiting for it, and sign.
//!
//! The core never performs I/O itself; adapters implement these traits over JS `fetch`,
//! `setTimeout` and WebCrypto (npm module, Worker) or over anything else (tests use scripted
//! fakes that move time forward without waiting).

use std::cell::RefCell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::error::Error;

/// One HTTP request, fully built. `Debug` redacts the body and credential headers because
/// they carry the client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// HTTP method, e.g. `POST`.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Header names (lower-case) and values, in sending order.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: String,
    /// Adapters that can abort a request (JS `AbortSignal.timeout`) stop waiting after this
    /// long; the client enforces the same limit itself in any case.
    pub timeout_ms: u64,
    /// Adapters stop reading a response body longer than this and fail with
    /// [`crate::ErrorKind::InvalidResponse`].
    pub max_response_bytes: usize,
}

impl HttpRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if name.eq_ignore_ascii_case("authorization") {
                    "<redacted>"
                } else {
                    value.as_str()
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field(
                "body",
                &format_args!("<{} bytes redacted>", self.body.len()),
            )
            .finish()
    }
}

/// One HTTP response. `Debug` redacts the body because it carries the access token.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Header names (lower-case) and values.
    pub headers: Vec<(String, String)>,
    /// The response body as text.
    pub body: String,
}

impl HttpResponse {
    /// A response with no headers.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A response whose body arrived as bytes: invalid UTF-8 becomes U+FFFD, so an odd reply
    /// is still quoted in its error. Valid UTF-8 (any token reply) is kept without a copy; the
    /// lossy decoder would walk it char by char.
    pub fn from_bytes(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        HttpResponse {
            status,
            headers,
            body: String::from_utf8(body)
                .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned()),
        }
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field(
                "body",
                &format_args!("<{} bytes redacted>", self.body.len()),
            )
            .finish()
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Sends one HTTP request and returns the response, whatever its status. Only transport
/// failures (connection refused, reset, unreadable body) are errors.
pub trait Fetch {
    /// Sends `request`.
    fn fetch(&self, request: HttpRequest) -> impl Future<Output = Result<HttpResponse, Error>>;
}

/// Wall-clock time.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// Waiting without blocking.
pub trait Sleep {
    /// Completes after `ms` milliseconds.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;
}

/// A task the client starts and does not wait for (background refresh).
pub type BackgroundTask = Pin<Box<dyn Future<Output = ()>>>;

/// The host's tasks: runs tasks in the background (`spawn_local` in JS, `ctx.waitUntil` in a
/// Worker), and wakes a task waiting for another's result. The client fetches tokens in such
/// tasks, so a host whose `spawn` drops them never gets one.
pub trait Spawn {
    /// Starts `task`; it must be driven to completion even though nobody awaits it.
    fn spawn(&self, task: BackgroundTask);

    /// A new one-shot [`Signal`], made by the task that starts the work. The default wakes
    /// waiters with plain `Waker`s, from whichever task notifies: right for any host whose
    /// tasks share one context. The JS host answers with a promise instead (see [`Signal`]).
    fn signal(&self) -> Signal {
        Signal::waker()
    }
}

/// A one-shot wake-up from the task that produces a result to every task waiting for it: the
/// producer calls `notify`, each waiter awaits a future from `notified`. The host decides
/// where the waiters resume. With plain `Waker`s they are polled from the notifying task; in
/// workerd that is another request's, and a waiter would build its response there ("Cannot
/// perform I/O on behalf of a different request"). The JS host makes a promise instead, and
/// waiters resume through its reactions. It is made by the task that starts the work: a
/// promise belongs to the request whose code made it, whose `waitUntil` here keeps it alive
/// until the work is done (a promise of a request that has ended is never delivered).
pub struct Signal {
    /// Completes every `notified` future, made before or after; calling it again does
    /// nothing.
    pub notify: Box<dyn Fn()>,
    /// A future that completes once `notify` has been called.
    pub notified: Box<dyn Fn() -> LocalBoxFuture<'static, ()>>,
}

impl Signal {
    /// A signal over plain `Waker`s: waiters are woken from the notifying task.
    pub fn waker() -> Self {
        #[derive(Default)]
        struct Notified {
            done: bool,
            wakers: Vec<Waker>,
        }
        let state = Rc::new(RefCell::new(Notified::default()));
        let notifier = Rc::clone(&state);
        Signal {
            notify: Box::new(move || {
                let wakers = {
                    let mut state = notifier.borrow_mut();
                    state.done = true;
                    std::mem::take(&mut state.wakers)
                };
                for waker in wakers {
                    waker.wake();
                }
            }),
            notified: Box::new(move || {
                let state = Rc::clone(&state);
                Box::pin(poll_fn(move |cx| {
                    let mut state = state.borrow_mut();
                    if state.done {
                        return Poll::Ready(());
                    }
                    if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                        state.wakers.push(cx.waker().clone());
                    }
                    Poll::Pending
                }))
            }),
        }
    }
}

/// Everything the client needs from its host, in one bound.
pub trait Host: Fetch + Clock + Sleep + Spawn + 'static {}

impl<T: Fetch + Clock + Sleep + Spawn + 'static> Host for T {}

/// A boxed future, for ports that must be usable as trait objects.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Signs JWS signing inputs with one private key (WebCrypto in JS). The key is prepared once
/// per signer, not once per signature.
pub trait Signer {
    /// The JWS algorithm this signer produces: `PS256`, `RS256` or `ES256`.
    fn algorithm(&self) -> crate::assertion::JwsAlgorithm;

    /// The signature over `signing_input` in JWS form (for ES256, raw `r || s`).
    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>>;

    /// SHA-1 (`sha256 == false`) or SHA-256 digest of `data`, for certificate thumbprints.
    fn digest<'a>(
        &'a self,
        sha256: bool,
        data: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_in_bytes_is_kept_when_valid_and_marked_where_not() {
        let valid = HttpResponse::from_bytes(200, Vec::new(), "{\"a\":\"é\"}".as_bytes().to_vec());
        assert_eq!(valid.body, "{\"a\":\"é\"}");
        let invalid = HttpResponse::from_bytes(401, Vec::new(), b"bad \xff\xfe end".to_vec());
        assert_eq!(invalid.body, "bad \u{fffd}\u{fffd} end");
        assert_eq!(invalid.status, 401);
    }

    #[test]
    fn debug_redacts_bodies_and_authorization() {
        let request = HttpRequest {
            method: "POST",
            url: "https://login.example/token".into(),
            headers: vec![
                ("authorization".into(), "Basic c2VjcmV0".into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: "client_secret=hunter2".into(),
            timeout_ms: 10_000,
            max_response_bytes: 1 << 20,
        };
        let printed = format!("{request:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("c2VjcmV0"), "{printed}");
        assert!(printed.contains("application/json"), "{printed}");

        let response = HttpResponse::new(200, r#"{"access_token":"eyJ.secret"}"#);
        let printed = format!("{response:?}");
        assert!(!printed.contains("eyJ.secret"), "{printed}");
    }

    #[test]
    fn header_lookup_ignores_case() {
        let mut response = HttpResponse::new(200, "");
        response
            .headers
            .push(("Content-Type".into(), "text/html".into()));
        assert_eq!(response.header("content-type"), Some("text/html"));
        assert_eq!(response.header("retry-after"), None);
    }
}
