// Fault injection: the npm module against a token endpoint that fails in every way listed in
// README "Failure behaviour". Each case asserts the outcome (a token after bounded retries, or
// the typed error), the number of requests the endpoint saw, and that nothing bad was cached:
// the next call goes to the endpoint again and gets a real token.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { decodeClaims } from "../token-endpoint/access-token.mjs";

const RESOURCE = "api://cctoken-faults";
const SCOPE = `${RESOURCE}/.default`;
const MIB = 1024 * 1024;
/** Slack for timer and scheduling jitter on a loaded machine; bounds stay well below defaults. */
const SLACK_MS = 1500;
let endpoint;

before(async () => {
  endpoint = await startTokenEndpoint();
});
after(() => endpoint.close());
beforeEach(() => {
  endpoint.reset();
  endpoint.settings.tokenLifetimeSeconds = 3599;
  endpoint.settings.refreshInSeconds = undefined;
});

/** A client with a generous per-attempt timeout (no flakes) unless a case needs a short one. */
const newClient = (overrides = {}) =>
  new ConfidentialClient({
    clientId: LOCAL_APP.clientId,
    authority: endpoint.authority,
    credential: { clientSecret: LOCAL_APP.clientSecret },
    maxRetries: 2,
    attemptTimeoutMs: 5000,
    totalTimeoutMs: 10_000,
    ...overrides,
  });

const acquire = (client) => client.acquireTokenForClient({ scopes: [SCOPE] });
const failure = (client) =>
  acquire(client).then(
    (result) => assert.fail(`expected an error, got a token (fromCache ${result.fromCache})`),
    (error) => error,
  );

/** The endpoint answers normally again, and the client's next call asks it for a real token. */
async function assertNothingCached(client) {
  endpoint.recover();
  const before = endpoint.tokenRequests;
  const result = await acquire(client);
  assert.equal(result.fromCache, false, "nothing was cached by the failed call");
  assert.equal(endpoint.tokenRequests, before + 1);
  assert.equal(decodeClaims(result.accessToken).aud, RESOURCE);
}

/** The token is cached: the next call makes no request. */
async function assertCached(client, token) {
  const before = endpoint.tokenRequests;
  const again = await acquire(client);
  assert.equal(again.fromCache, true);
  assert.equal(again.accessToken, token);
  assert.equal(endpoint.tokenRequests, before);
}

const GATEWAY_HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>";
const FIVE_XX = [
  { fault: { status: 500, body: { error: "server_error", error_description: "AADSTS50000: There was an error issuing a token." } }, code: "server_error" },
  { fault: { status: 502, headers: { "content-type": "text/html" }, body: GATEWAY_HTML }, code: "server_error" },
  { fault: { status: 503, body: "" }, code: "temporarily_unavailable" },
  { fault: { status: 504, headers: { "content-type": "text/plain" }, body: "upstream timed out" }, code: "server_error" },
];

test("500, 502, 503 (no Retry-After) and 504 once: retried, then the token is served and cached", async () => {
  for (const { fault } of FIVE_XX) {
    endpoint.reset();
    endpoint.failNext(fault);
    const client = newClient();
    const result = await acquire(client);
    assert.equal(result.fromCache, false);
    assert.equal(endpoint.tokenRequests, 2, `HTTP ${fault.status}: one retry`);
    assert.deepEqual(endpoint.requests.map((r) => r.status), [fault.status, 200]);
    await assertCached(client, result.accessToken);
  }
});

test("500, 502, 503 and 504 every time: the typed error after 1 + maxRetries requests, nothing cached", async () => {
  for (const { fault, code } of FIVE_XX) {
    endpoint.reset();
    endpoint.failAll(fault);
    const client = newClient({ maxRetries: 1 });
    const error = await failure(client);
    assert.equal(error.name, "ClientCredentialError");
    assert.equal(error.code, code, `HTTP ${fault.status}`);
    assert.equal(error.status, fault.status);
    assert.match(error.correlationId, /^[0-9a-f-]{36}$/);
    assert.equal(endpoint.tokenRequests, 2, `HTTP ${fault.status}: the first attempt and one retry`);
    await assertNothingCached(client);
  }
  const gateway = await (async () => {
    endpoint.reset();
    endpoint.failAll(FIVE_XX[1].fault);
    return failure(newClient({ maxRetries: 0 }));
  })();
  assert.equal(
    gateway.message,
    `server_error: the token endpoint answered HTTP 502 without an OAuth2 error body (content-type text/html): "${GATEWAY_HTML}"`,
  );
  assert.equal(endpoint.tokenRequests, 1, "maxRetries: 0 makes one attempt");
});

test("503 with Retry-After: waited for when it fits the deadline, reported when it does not", async () => {
  endpoint.failNext({ status: 503, headers: { "retry-after": "1" }, body: "" });
  const started = Date.now();
  const result = await acquire(newClient());
  assert.equal(result.fromCache, false);
  assert.equal(endpoint.tokenRequests, 2);
  assert.ok(Date.now() - started >= 1000, "the 1 s Retry-After was honoured");

  endpoint.reset();
  endpoint.failNext({ status: 503, headers: { "retry-after": "120" }, body: { error: "temporarily_unavailable", error_description: "AADSTS90033: A transient error has occurred." } });
  const client = newClient();
  const error = await failure(client);
  assert.equal(error.code, "temporarily_unavailable");
  assert.equal(error.status, 503);
  assert.equal(error.retryAfter, 120_000);
  assert.deepEqual(error.aadsts, [90033]);
  assert.equal(endpoint.tokenRequests, 1, "a wait past the 10 s deadline is not attempted");
  await assertNothingCached(client);
});

test("429 with Retry-After in seconds: retried after it; past the deadline throttled, then fail-fast", async () => {
  endpoint.failNext({ status: 429, headers: { "retry-after": "1" }, body: { error: "temporarily_unavailable" } });
  const started = Date.now();
  const result = await acquire(newClient());
  assert.equal(result.fromCache, false);
  assert.equal(endpoint.tokenRequests, 2);
  assert.ok(Date.now() - started >= 1000, "the 1 s Retry-After was honoured");

  endpoint.reset();
  endpoint.failNext({ status: 429, headers: { "retry-after": "120" }, body: "" });
  const client = newClient();
  const throttled = await failure(client);
  assert.equal(throttled.code, "throttled");
  assert.equal(throttled.retryAfter, 120_000);
  const fast = await failure(client);
  assert.equal(fast.code, "throttled");
  assert.ok(fast.retryAfter > 110_000 && fast.retryAfter <= 120_000, String(fast.retryAfter));
  assert.equal(endpoint.tokenRequests, 1, "no request while the window lasts");
});

test("429 with Retry-After as an HTTP date: a past date retries at once, a future one throttles", async () => {
  endpoint.failNext({ status: 429, headers: { "retry-after": new Date(Date.now() - 60_000).toUTCString() }, body: "" });
  const result = await acquire(newClient());
  assert.equal(result.fromCache, false);
  assert.equal(endpoint.tokenRequests, 2);

  endpoint.reset();
  endpoint.failNext({ status: 429, headers: { "retry-after": new Date(Date.now() + 120_000).toUTCString() }, body: "" });
  const client = newClient();
  const throttled = await failure(client);
  assert.equal(throttled.code, "throttled");
  // HTTP dates have whole seconds: the wait is up to a second short of 120 s.
  assert.ok(throttled.retryAfter > 110_000 && throttled.retryAfter <= 120_000, String(throttled.retryAfter));
  assert.equal((await failure(client)).code, "throttled");
  assert.equal(endpoint.tokenRequests, 1);
});

test("a connection reset mid-body (declared length or chunked) is retried; every time, network_error", async () => {
  for (const declareLength of [true, false]) {
    endpoint.reset();
    endpoint.failNext({ token: {}, declareLength, resetAfterBytes: 40 });
    const client = newClient();
    const result = await acquire(client);
    assert.equal(result.fromCache, false);
    assert.equal(endpoint.tokenRequests, 2, `declareLength ${declareLength}`);
    assert.equal(endpoint.requests[0].bytesSent, 40);
    await assertCached(client, result.accessToken);

    endpoint.reset();
    endpoint.failAll({ token: {}, declareLength, resetAfterBytes: 40 });
    const broken = newClient({ maxRetries: 1 });
    const error = await failure(broken);
    assert.equal(error.code, "network_error", error.message);
    assert.equal(endpoint.tokenRequests, 2);
    assert.ok(!error.message.includes("eyJ"), "no token text in the message");
    await assertNothingCached(broken);
  }
});

test("no answer: each attempt ends at attemptTimeoutMs, the whole call within totalTimeoutMs", async () => {
  endpoint.failNext({ hang: true });
  const recovered = await acquire(newClient({ attemptTimeoutMs: 200 }));
  assert.equal(recovered.fromCache, false, "the attempt after a hung one succeeds");
  assert.deepEqual(endpoint.requests.map((r) => r.status), ["hang", 200]);

  endpoint.reset();
  endpoint.failAll({ hang: true });
  const client = newClient({ attemptTimeoutMs: 200, totalTimeoutMs: 3000 });
  let started = Date.now();
  const error = await failure(client);
  let elapsed = Date.now() - started;
  assert.equal(error.code, "timeout");
  assert.match(error.message, /did not answer within 200 ms for one attempt/);
  assert.equal(endpoint.tokenRequests, 3, "the first attempt and two retries");
  assert.ok(elapsed < 3000 + SLACK_MS, `gave up after ${elapsed} ms`);
  await assertNothingCached(client);

  endpoint.reset();
  endpoint.failAll({ hang: true });
  started = Date.now();
  const deadline = await failure(newClient({ attemptTimeoutMs: 60_000, totalTimeoutMs: 400 }));
  elapsed = Date.now() - started;
  assert.equal(deadline.code, "timeout");
  assert.ok(elapsed < 400 + SLACK_MS, `the total deadline ended the attempt after ${elapsed} ms`);
});

test("a body that stalls after the headers times out like no answer", async () => {
  endpoint.failAll({ token: {}, stallAfterBytes: 20 });
  const client = newClient({ attemptTimeoutMs: 200, maxRetries: 1 });
  const error = await failure(client);
  assert.equal(error.code, "timeout");
  assert.equal(endpoint.tokenRequests, 2);
  await assertNothingCached(client);
});

test("200 with an HTML body: invalid_response quoting it, not retried, nothing cached", async () => {
  endpoint.failNext({ status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: "<html><body>Sign in to continue</body></html>" });
  const client = newClient();
  const error = await failure(client);
  assert.equal(error.code, "invalid_response");
  assert.equal(
    error.message,
    'invalid_response: the token endpoint answered HTTP 200 with a body that is not a JSON object (content-type text/html): "<html><body>Sign in to continue</body></html>"' +
      " (hint: check that the authority or token endpoint URL points at an OAuth2 token endpoint, and that no proxy answers instead of it)",
  );
  assert.match(error.hint, /no proxy answers instead of it/);
  assert.equal(endpoint.tokenRequests, 1);
  await assertNothingCached(client);
});

test("200 with truncated JSON: invalid_response without quoting the token, nothing cached", async () => {
  endpoint.failNext({ status: 200, body: '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOi' });
  const client = newClient();
  const error = await failure(client);
  assert.equal(error.code, "invalid_response");
  assert.match(error.message, /not a JSON object \(content-type application\/json\): body withheld \(104 bytes\): it may hold a token \(hint: /);
  assert.ok(!error.message.includes("eyJ"));
  assert.equal(endpoint.tokenRequests, 1);
  await assertNothingCached(client);
});

test("200 without access_token (absent, empty, not a string): invalid_response, nothing cached", async () => {
  for (const accessToken of [undefined, "", 42]) {
    endpoint.reset();
    endpoint.failNext({ token: { access_token: accessToken } });
    const client = newClient();
    const error = await failure(client);
    assert.equal(error.code, "invalid_response");
    assert.equal(error.message, "invalid_response: the token response has no access_token string");
    assert.equal(endpoint.tokenRequests, 1);
    await assertNothingCached(client);
  }
});

test("expires_in as a numeric string (Entra v1, ADFS) is accepted and cached", async () => {
  endpoint.failNext({ token: { expires_in: "3599", ext_expires_in: "7199" } });
  const client = newClient();
  const sent = Date.now();
  const result = await acquire(client);
  assert.equal(result.fromCache, false);
  const lifetime = result.expiresOn.getTime() - sent;
  assert.ok(lifetime > 3_598_000 && lifetime <= 3_600_000, String(lifetime));
  assert.ok(result.extExpiresOn.getTime() - result.expiresOn.getTime() >= 3_599_000);
  await assertCached(client, result.accessToken);
  assert.equal(endpoint.tokenRequests, 1);
});

test("expires_in 0, negative, absent, fractional or not a number: invalid_response, nothing cached", async () => {
  for (const expiresIn of [0, "0", -300, "-300", undefined, null, 3599.5, "soon", true]) {
    endpoint.reset();
    endpoint.failNext({ token: { expires_in: expiresIn } });
    const client = newClient();
    const error = await failure(client);
    assert.equal(error.code, "invalid_response", `expires_in ${JSON.stringify(expiresIn)}`);
    assert.equal(error.message, "invalid_response: the token response's expires_in is missing or not a positive number of seconds");
    assert.equal(endpoint.tokenRequests, 1);
    await assertNothingCached(client);
  }
});

test("a 20 MB body (chunked, declared, gzip-inflated) is refused at 1 MiB without reading it all", async () => {
  for (const fault of [
    { bodyBytes: 20 * MIB },
    { bodyBytes: 20 * MIB, declareLength: true },
    { bodyBytes: 20 * MIB, gzip: true, declareLength: true },
  ]) {
    endpoint.reset();
    endpoint.failNext(fault);
    const client = newClient();
    const error = await failure(client);
    const what = JSON.stringify(fault);
    assert.equal(error.code, "invalid_response", `${what}: ${error.message}`);
    assert.equal(error.message, "invalid_response: the token endpoint's reply is larger than 1048576 bytes; a token response is a few kilobytes");
    assert.equal(endpoint.tokenRequests, 1, `${what}: not retried`);
    if (!fault.gzip) {
      // The client stopped reading: the endpoint could not hand it the whole body.
      await waitFor(() => endpoint.requests[0].completed === false && endpoint.requests[0].bytesSent > 0);
      assert.ok(endpoint.requests[0].bytesSent < 20 * MIB, `${what}: ${endpoint.requests[0].bytesSent} bytes sent`);
    }
    await assertNothingCached(client);
  }
});

test("content type: a token in JSON under text/plain is used; a form-encoded token is not", async () => {
  endpoint.failNext({ token: {}, headers: { "content-type": "text/plain" } });
  const client = newClient();
  const result = await acquire(client);
  assert.equal(decodeClaims(result.accessToken).aud, RESOURCE);
  await assertCached(client, result.accessToken);

  endpoint.reset();
  endpoint.failNext({
    status: 200,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "access_token=eyJ0eXAiOiJKV1QifQ.e30.c2ln&token_type=Bearer&expires_in=3599",
  });
  const other = newClient();
  const error = await failure(other);
  assert.equal(error.code, "invalid_response");
  assert.match(error.message, /\(content-type application\/x-www-form-urlencoded\): body withheld/);
  assert.ok(!error.message.includes("eyJ"));
  assert.equal(endpoint.tokenRequests, 1);
  await assertNothingCached(other);
});

test("IdP down during the background-refresh window: the cached token is served until its expiry buffer", async () => {
  // 302 s tokens with the default 300 s buffer are served for 2 s; refresh_in makes the
  // client start refreshing after 1 s.
  endpoint.settings.tokenLifetimeSeconds = 302;
  endpoint.settings.refreshInSeconds = 1;
  const reported = [];
  const client = newClient({ maxRetries: 1, onRefreshError: (error) => reported.push(error) });
  const first = await acquire(client);
  const servedUntil = first.expiresOn.getTime() - 300_000;
  await sleep(first.refreshOn.getTime() - Date.now() + 20);
  endpoint.failAll({ status: 503, body: "" });

  let served = 0;
  while (Date.now() < servedUntil - 150) {
    const during = await acquire(client);
    assert.equal(during.accessToken, first.accessToken);
    assert.equal(during.fromCache, true);
    served += 1;
    await sleep(50);
  }
  assert.ok(served >= 3, `${served} calls in the window`);
  await waitFor(() => reported.length === 1);
  assert.equal(reported[0].code, "temporarily_unavailable");
  assert.equal(endpoint.tokenRequests, 3, "one refresh of two attempts, then a pause");

  await sleep(servedUntil - Date.now() + 50);
  const expired = await failure(client);
  assert.equal(expired.code, "temporarily_unavailable", "past the buffer the old token is not served");
  assert.equal(endpoint.tokenRequests, 5);
  endpoint.recover();
  const back = await acquire(client);
  assert.equal(back.fromCache, false);
  assert.notEqual(back.accessToken, first.accessToken);
});

async function waitFor(condition, ms = 3000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) assert.fail("condition not met in time");
    await sleep(10);
  }
}
