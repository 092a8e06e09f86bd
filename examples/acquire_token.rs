//! Acquires an app token natively, from a plain Rust program: the four host ports the client
//! needs ([`Fetch`], [`Clock`], [`Sleep`], [`Spawn`]) implemented over a blocking HTTP client
//! (`ureq`), the system clock and `std::thread::sleep`, driven by a single-threaded executor
//! (`futures`' `LocalPool`). No async runtime.
//!
//! Settings come from the environment, read as the npm module's `fromEnvironment` reads them
//! (the names `@azure/identity` and the demo use): `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
//! `AZURE_CLIENT_SECRET` (or `AZURE_FEDERATED_TOKEN_FILE`), `CCTOKEN_SCOPE` and, for another
//! cloud or the local token endpoint, `AZURE_AUTHORITY_HOST` (e.g. `http://127.0.0.1:PORT`).
//! It asks twice and prints one JSON line per call, never the token itself:
//! `{"runtime":"Rust (native, ureq)","source":"idp","ms":…,"expiresOn":…,"tokenType":"Bearer","tokenChars":…}`.
//!
//! Against the bundled local token endpoint (no tenant needed), as the test suite runs it:
//! `node --test tests/examples/acquire-token.test.mjs` starts the endpoint, runs this example
//! and prints its output. Against a real tenant over https, turn on ureq's TLS: this crate
//! depends on it with `default-features = false` so that the test builds carry no TLS stack;
//! in your own program `ureq = "3"` (default features: rustls with the webpki roots) is the
//! whole change.
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cctoken::environment::settings_from_environment;
use cctoken::ports::{BackgroundTask, Clock, Fetch, HttpRequest, HttpResponse, Sleep, Spawn};
use cctoken::settings::ReadFile;
use cctoken::{ConfidentialClient, Error, TokenRequest};
use futures::executor::{LocalPool, LocalSpawner};
use futures::task::LocalSpawnExt;

/// A blocking host: every port finishes its work on the thread that polls it.
///
/// That is sound because the client polls a fetch before the timer it races against (its
/// attempt timeout): a blocking fetch completes on that first poll, so the timer is never
/// polled and `Sleep` only ever runs on its own, for a retry's back-off, where blocking the
/// thread is what waiting means here. The attempt timeout is therefore enforced by the HTTP
/// client (`timeout_global`), as [`HttpRequest::timeout_ms`] asks.
struct BlockingHost {
    agent: ureq::Agent,
    spawner: LocalSpawner,
}

impl BlockingHost {
    fn new(spawner: LocalSpawner) -> Self {
        let agent = ureq::Agent::config_builder()
            // The client reads every status itself: 400 carries Entra's error, 429 and 5xx
            // their Retry-After.
            .http_status_as_error(false)
            // The credential is in the body: never follow a redirect with it.
            .max_redirects(0)
            .build()
            .new_agent();
        BlockingHost { agent, spawner }
    }

    fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let url = request.url.clone();
        let unreachable = |cause: ureq::Error| {
            Error::network(format!("could not reach the token endpoint {url}: {cause}"))
        };
        let mut builder = ureq::http::Request::builder()
            .method(request.method)
            .uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(request.body)
            .map_err(|cause| unreachable(cause.into()))?;
        let http_request = self
            .agent
            .configure_request(http_request)
            .timeout_global(Some(Duration::from_millis(request.timeout_ms)))
            .build();
        let mut response = match self.agent.run(http_request) {
            Ok(response) => response,
            // Not a network failure to retry: this build cannot speak https at all.
            Err(ureq::Error::TlsRequired) => {
                return Err(Error::invalid_config(
                    "fetch",
                    "this example is built without TLS (ureq with default-features = false): enable ureq's `rustls` feature to reach an https token endpoint",
                ))
            }
            Err(cause) => return Err(unreachable(cause)),
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let limit = u64::try_from(request.max_response_bytes).unwrap_or(u64::MAX);
        let body = match response.body_mut().with_config().limit(limit).read_to_vec() {
            Ok(body) => body,
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                return Err(Error::invalid_response(format!(
                    "the token endpoint's reply is larger than {} bytes; a token response is a few kilobytes",
                    request.max_response_bytes
                )))
            }
            Err(cause) => return Err(unreachable(cause)),
        };
        Ok(HttpResponse::from_bytes(status, headers, body))
    }
}

impl Fetch for BlockingHost {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        self.send(request)
    }
}

impl Clock for BlockingHost {
    fn now_ms(&self) -> u64 {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
    }
}

impl Sleep for BlockingHost {
    async fn sleep(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

impl Spawn for BlockingHost {
    fn spawn(&self, task: BackgroundTask) {
        // The client fetches inside such a task; the pool runs it while `run_until` waits on
        // the caller's future. Spawning fails only once the pool is gone, and then no call
        // of this client can be waiting for the task any more.
        if self.spawner.spawn_local(task).is_err() {
            eprintln!("the executor is shut down: a background refresh was dropped");
        }
    }
}

fn setting(name: &'static str, what: &str) -> Result<String, Error> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| {
            Error::invalid_config(name, format!("{name} is not set: it must hold {what}"))
        })
}

fn run() -> Result<(), Error> {
    let scope = setting(
        "CCTOKEN_SCOPE",
        "the scope to ask for, e.g. https://graph.microsoft.com/.default",
    )?;
    // The road every entry of the library takes: @azure/identity's variables (a secret, a
    // certificate file or a federated token file), then the core's one validation of the
    // options they make.
    let settings = settings_from_environment(|name| std::env::var(name).ok())?;
    let read_file: ReadFile = Rc::new(|field, path| {
        std::fs::read_to_string(path).map_err(|error| {
            Error::invalid_config(field, format!("{field}: cannot read {path}: {error}"))
        })
    });
    let config = settings.into_client_options(read_file)?.into_config(&|_, _| {
        Err(Error::invalid_config(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            "this example signs no client assertions: use AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE, or give your host a Signer (cctoken::ports::Signer)",
        ))
    })?;
    let mut pool = LocalPool::new();
    let client = ConfidentialClient::new(config, BlockingHost::new(pool.spawner()));
    let scopes = client.scopes([scope])?;

    for _ in 0..2 {
        let started = Instant::now();
        let token =
            pool.run_until(client.acquire_token_for_client(TokenRequest::new(scopes.clone())))?;
        let line = serde_json::json!({
            "runtime": "Rust (native, ureq)",
            "source": if token.from_cache() { "cache" } else { "idp" },
            "ms": started.elapsed().as_secs_f64() * 1000.0,
            "expiresOn": token.expires_on_ms,
            "tokenType": token.token_type,
            "tokenChars": token.access_token.expose().len(),
        });
        println!("{line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Display names the code, the message and a hint; never a secret.
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
