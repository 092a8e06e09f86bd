// Fault injection: the npm module against a token endpoint that fails in every way listed in
// README "Failure behaviour". Each case asserts the outcome (a token after bounded retries, or
// the typed error), the number of requests the endpoint saw, and that nothing bad was cached:
// the next call goes to the endpoint again and gets a real token.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { useLocalEndpoint } from "./local-endpoint.mjs";
import { decodeClaims } from "../token-endpoint/access-token.mjs";

const RESOURCE = "api://cctoken-faults";
const SCOPE = `${RESOURCE}/.default`;
const MIB = 1024 * 1024;
/** Clients get a generous per-attempt timeout (no flakes) unless a case needs a short one. */
const local = useLocalEndpoint({ maxRetries: 2, attemptTimeoutMs: 5000, totalTimeoutMs: 10_000 });
const { newClient } = local;

const acquire = (client) => client.acquireTokenForClient({ scopes: [SCOPE] });
const failure = (client) =>
  acquire(client).then(
    (result) => assert.fail(`expected an error, got a token (fromCache ${result.fromCache})`),
    (error) => error,
  );

/** The endpoint answers normally again, and the client's next call asks it for a real token. */
async function assertNothingCached(client) {
  local.endpoint.recover();
  const before = local.endpoint.tokenRequests;
  const result = await acquire(client);
  assert.equal(result.fromCache, false, "nothing was cached by the failed call");
  assert.equal(local.endpoint.tokenRequests, before + 1);
  assert.equal(decodeClaims(result.accessToken).aud, RESOURCE);
}

/** The token is cached: the next call makes no request. */
async function assertCached(client, token) {
  const before = local.endpoint.tokenRequests;
  const again = await acquire(client);
  assert.equal(again.fromCache, true);
  assert.equal(again.accessToken, token);
  assert.equal(local.endpoint.tokenRequests, before);
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
    local.endpoint.reset();
    local.endpoint.failNext(fault);
    const client = newClient();
    const result = await acquire(client);
    assert.equal(result.fromCache, false);
    assert.equal(local.endpoint.tokenRequests, 2, `HTTP ${fault.status}: one retry`);
    assert.deepEqual(local.endpoint.requests.map((r) => r.status), [fault.status, 200]);
    await assertCached(client, result.accessToken);
  }
});

test("500, 502, 503 and 504 every time: the typed error after 1 + maxRetries requests, nothing cached", async () => {
  for (const { fault, code } of FIVE_XX) {
    local.endpoint.reset();
    local.endpoint.failAll(fault);
    const client = newClient({ maxRetries: 1 });
    const error = await failure(client);
    assert.equal(error.name, "ClientCredentialError");
    assert.equal(error.code, code, `HTTP ${fault.status}`);
    assert.equal(error.status, fault.status);
    assert.match(error.correlationId, /^[0-9a-f-]{36}$/);
    assert.equal(local.endpoint.tokenRequests, 2, `HTTP ${fault.status}: the first attempt and one retry`);
    await assertNothingCached(client);
  }
  const gateway = await (async () => {
    local.endpoint.reset();
    local.endpoint.failAll(FIVE_XX[1].fault);
    return failure(newClient({ maxRetries: 0 }));
  })();
  assert.equal(
    gateway.message,
    `server_error: the token endpoint answered HTTP 502 without an OAuth2 error body (content-type text/html): "${GATEWAY_HTML}"`,
  );
  assert.equal(local.endpoint.tokenRequests, 1, "maxRetries: 0 makes one attempt");
});

test("503 with Retry-After: waited for when it fits the deadline, reported when it does not", async () => {
  local.endpoint.failNext({ status: 503, headers: { "retry-after": "1" }, body: "" });
  const started = Date.now();
  const result = await acquire(newClient());
  assert.equal(result.fromCache, false);
  assert.equal(local.endpoint.tokenRequests, 2);
  assert.ok(Date.now() - started >= 1000, "the 1 s Retry-After was honoured");

  local.endpoint.reset();
  local.endpoint.failNext({ status: 503, headers: { "retry-after": "120" }, body: { error: "temporarily_unavailable", error_description: "AADSTS90033: A transient error has occurred." } });
  const client = newClient();
  const error = await failure(client);
  assert.equal(error.code, "temporarily_unavailable");
  assert.equal(error.status, 503);
  assert.equal(error.retryAfter, 120_000);
  assert.deepEqual(error.aadsts, [90033]);
  assert.equal(local.endpoint.tokenRequests, 1, "a wait past the 10 s deadline is not attempted");
  await assertNothingCached(client);
});

test("429 with Retry-After in seconds: retried after it; past the deadline throttled, then fail-fast", async () => {
  local.endpoint.failNext({ status: 429, headers: { "retry-after": "1" }, body: { error: "temporarily_unavailable" } });
  const started = Date.now();
  const result = await acquire(newClient());
  assert.equal(result.fromCache, false);
  assert.equal(local.endpoint.tokenRequests, 2);
  assert.ok(Date.now() - started >= 1000, "the 1 s Retry-After was honoured");

  local.endpoint.reset();
  local.endpoint.failNext({ status: 429, headers: { "retry-after": "120" }, body: "" });
  const client = newClient();
  const throttled = await failure(client);
  assert.equal(throttled.code, "throttled");
  assert.equal(throttled.retryAfter, 120_000);
  const fast = await failure(client);
  assert.equal(fast.code, "throttled");
  assert.ok(fast.retryAfter > 110_000 && fast.retryAfter <= 120_000, String(fast.retryAfter));
  assert.equal(local.endpoint.tokenRequests, 1, "no request while the window lasts");
});

test("429 with Retry-After as an HTTP date: a past date retries at once, a future one throttles", async () => {
  local.endpoint.failNext({ status: 429, headers: { "retry-after": new Date(Date.now() - 60_000).toUTCString() }, body: "" });
  const result = await acquire(newClient());
  assert.equal(result.fromCache, false);
  assert.equal(local.endpoint.tokenRequests, 2);

  local.endpoint.reset();
  local.endpoint.failNext({ status: 429, headers: { "retry-after": new Date(Date.now() + 120_000).toUTCString() }, body: "" });
  const client = newClient();
  const throttled = await failure(client);
  assert.equal(throttled.code, "throttled");
  // HTTP dates have whole seconds: the wait is up to a second short of 120 s.
  assert.ok(throttled.retryAfter > 110_000 && throttled.retryAfter <= 120_000, String(throttled.retryAfter));
  assert.equal((await failure(client)).code, "throttled");
  assert.equal(local.endpoint.tokenRequests, 1);
});

test("a connection reset mid-body (declared length or chunked) is retried; every time, network_error", async () => {
  for (const declareLength of [true, false]) {
    local.endpoint.reset();
    local.endpoint.failNext({ token: {}, declareLength, resetAfterBytes: 40 });
    const client = newClient();
    const result = await acquire(client);
    assert.equal(result.fromCache, false);
    assert.equal(local.endpoint.tokenRequests, 2, `declareLength ${declareLength}`);
    assert.equal(local.endpoint.requests[0].bytesSent, 40);
    await assertCached(client, result.accessToken);

    local.endpoint.reset();
    local.endpoint.failAll({ token: {}, declareLength, resetAfterBytes: 40 });
    const broken = newClient({ maxRetries: 1 });
    const error = await failure(broken);
    assert.equal(error.code, "network_error", error.message);
    assert.equal(local.endpoint.tokenRequests, 2);
    assert.ok(!error.message.includes("eyJ"), "no token text in the message");
    await assertNothingCached(broken);
  }
});

test("no answer: each attempt ends at attemptTimeoutMs, the whole call within totalTimeoutMs", async () => {
  local.endpoint.failNext({ hang: true });
  const recovered = await acquire(newClient({ attemptTimeoutMs: 200 }));
  assert.equal(recovered.fromCache, false, "the attempt after a hung one succeeds");
  assert.deepEqual(local.endpoint.requests.map((r) => r.status), ["hang", 200]);

  // Deadlines are told apart by what they did, not by elapsed time: with a total deadline
  // minutes away, only the per-attempt timeout can end the three attempts.
  local.endpoint.reset();
  local.endpoint.failAll({ hang: true });
  const client = newClient({ attemptTimeoutMs: 200, totalTimeoutMs: 600_000 });
  const error = await failure(client);
  assert.equal(error.code, "timeout");
  assert.match(error.message, /did not answer within 200 ms for one attempt/);
  assert.equal(local.endpoint.tokenRequests, 3, "the first attempt and two retries");
  await assertNothingCached(client);

  // With an attempt timeout minutes away, only the 400 ms total deadline can end the call.
  local.endpoint.reset();
  local.endpoint.failAll({ hang: true });
  const started = Date.now();
  const deadline = await failure(newClient({ attemptTimeoutMs: 600_000, totalTimeoutMs: 400 }));
  const elapsed = Date.now() - started;
  assert.equal(deadline.code, "timeout");
  const waited = Number(/did not answer within (\d+) ms/.exec(deadline.message)?.[1]);
  assert.ok(waited > 0 && waited <= 400, `the attempt was cut to what was left of 400 ms: ${deadline.message}`);
  assert.equal(local.endpoint.tokenRequests, 1, "no retry past the deadline");
  assert.ok(elapsed < 60_000, `a tenth of the attempt timeout, which only the total deadline meets: ${elapsed} ms`);
});

test("a body that stalls after the headers times out like no answer", async () => {
  local.endpoint.failAll({ token: {}, stallAfterBytes: 20 });
  const client = newClient({ attemptTimeoutMs: 200, maxRetries: 1 });
  const error = await failure(client);
  assert.equal(error.code, "timeout");
  assert.equal(local.endpoint.tokenRequests, 2);
  await assertNothingCached(client);
});

test("200 with an HTML body: invalid_response quoting it, not retried, nothing cached", async () => {
  local.endpoint.failNext({ status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: "<html><body>Sign in to continue</body></html>" });
  const client = newClient();
  const error = await failure(client);
  assert.equal(error.code, "invalid_response");
  assert.equal(
    error.message,
    'invalid_response: the token endpoint answered HTTP 200 with a body that is not a JSON object (content-type text/html): "<html><body>Sign in to continue</body></html>"' +
      " (hint: check that the authority or token endpoint URL points at an OAuth2 token endpoint, and that no proxy answers instead of it)",
  );
  assert.match(error.hint, /no proxy answers instead of it/);
  assert.equal(local.endpoint.tokenRequests, 1);
  await assertNothingCached(client);
});

test("a reply that is not valid UTF-8 is read lossily: the error quotes it with U+FFFD", async () => {
  // A transient error, so that the next call asks again (definitive refusals are remembered).
  const body = Buffer.concat([Buffer.from('{"error":"server_error","error_description":"AADSTS50000: bad '), Buffer.from([0xff, 0xfe]), Buffer.from(' bytes"}')]);
  local.endpoint.failNext({ status: 500, body });
  const client = newClient({ maxRetries: 0 });
  const error = await failure(client);
  assert.equal(error.code, "server_error");
  assert.ok(error.message.includes("AADSTS50000: bad \uFFFD\uFFFD bytes"), error.message);
  assert.equal(local.endpoint.tokenRequests, 1);
  await assertNothingCached(client);
});

test("200 with truncated JSON: invalid_response without quoting the token, nothing cached", async () => {
  local.endpoint.failNext({ status: 200, body: '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOi' });
  const client = newClient();
  const error = await failure(client);
  assert.equal(error.code, "invalid_response");
  assert.match(error.message, /not a JSON object \(content-type application\/json\): body withheld \(104 bytes\): it may hold a token \(hint: /);
  assert.ok(!error.message.includes("eyJ"));
  assert.equal(local.endpoint.tokenRequests, 1);
  await assertNothingCached(client);
});

test("200 without access_token (absent, empty, not a string): invalid_response, nothing cached", async () => {
  for (const accessToken of [undefined, "", 42]) {
    local.endpoint.reset();
    local.endpoint.failNext({ token: { access_token: accessToken } });
    const client = newClient();
    const error = await failure(client);
    assert.equal(error.code, "invalid_response");
    assert.equal(error.message, "invalid_response: the token response has no access_token string");
    assert.equal(local.endpoint.tokenRequests, 1);
    await assertNothingCached(client);
  }
});

test("expires_in as a numeric string (Entra v1, ADFS) is accepted and cached", async () => {
  local.endpoint.failNext({ token: { expires_in: "3599", ext_expires_in: "7199" } });
  const client = newClient();
  const sent = Date.now();
  const result = await acquire(client);
  assert.equal(result.fromCache, false);
  const lifetime = result.expiresOn.getTime() - sent;
  assert.ok(lifetime > 3_598_000 && lifetime <= 3_600_000, String(lifetime));
  assert.ok(result.extExpiresOn.getTime() - result.expiresOn.getTime() >= 3_599_000);
  await assertCached(client, result.accessToken);
  assert.equal(local.endpoint.tokenRequests, 1);
});

test("expires_in 0, negative, absent, fractional or not a number: invalid_response, nothing cached", async () => {
  for (const expiresIn of [0, "0", -300, "-300", undefined, null, 3599.5, "soon", true]) {
    local.endpoint.reset();
    local.endpoint.failNext({ token: { expires_in: expiresIn } });
    const client = newClient();
    const error = await failure(client);
    assert.equal(error.code, "invalid_response", `expires_in ${JSON.stringify(expiresIn)}`);
    assert.equal(error.message, "invalid_response: the token response's expires_in is missing or not a positive number of seconds");
    assert.equal(local.endpoint.tokenRequests, 1);
    await assertNothingCached(client);
  }
});

test("a 20 MB body (chunked, declared, gzip-inflated) is refused at 1 MiB without reading it all", async () => {
  for (const fault of [
    { bodyBytes: 20 * MIB },
    { bodyBytes: 20 * MIB, declareLength: true },
    { bodyBytes: 20 * MIB, gzip: true, declareLength: true },
  ]) {
    local.endpoint.reset();
    local.endpoint.failNext(fault);
    const client = newClient();
    const error = await failure(client);
    const what = JSON.stringify(fault);
    assert.equal(error.code, "invalid_response", `${what}: ${error.message}`);
    assert.equal(error.message, "invalid_response: the token endpoint's reply is larger than 1048576 bytes; a token response is a few kilobytes");
    assert.equal(local.endpoint.tokenRequests, 1, `${what}: not retried`);
    if (!fault.gzip) {
      // The client stopped reading: the endpoint could not hand it the whole body.
      await waitFor(() => local.endpoint.requests[0].completed === false && local.endpoint.requests[0].bytesSent > 0);
      assert.ok(local.endpoint.requests[0].bytesSent < 20 * MIB, `${what}: ${local.endpoint.requests[0].bytesSent} bytes sent`);
    }
    await assertNothingCached(client);
  }
});

test("content type: a token in JSON under text/plain is used; a form-encoded token is not", async () => {
  local.endpoint.failNext({ token: {}, headers: { "content-type": "text/plain" } });
  const client = newClient();
  const result = await acquire(client);
  assert.equal(decodeClaims(result.accessToken).aud, RESOURCE);
  await assertCached(client, result.accessToken);

  local.endpoint.reset();
  local.endpoint.failNext({
    status: 200,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "access_token=eyJ0eXAiOiJKV1QifQ.e30.c2ln&token_type=Bearer&expires_in=3599",
  });
  const other = newClient();
  const error = await failure(other);
  assert.equal(error.code, "invalid_response");
  assert.match(error.message, /\(content-type application\/x-www-form-urlencoded\): body withheld/);
  assert.ok(!error.message.includes("eyJ"));
  assert.equal(local.endpoint.tokenRequests, 1);
  await assertNothingCached(other);
});

test("IdP down during the background-refresh window: the cached token is served until its expiry buffer", async () => {
  // Tokens past refreshOn come from a real acquire, carried over through serializeCache with
  // the refresh point moved into the past (and, for the last client, the expiry into the
  // buffer): no test waits for a refresh window to open or races one to its end.
  const seed = newClient();
  const first = await acquire(seed);
  const blob = (expiresInMs) => {
    const parsed = JSON.parse(seed.serializeCache());
    parsed.tokens[0].refresh_on_ms = Date.now() - 1000;
    if (expiresInMs !== undefined) parsed.tokens[0].expires_on_ms = parsed.tokens[0].ext_expires_on_ms = Date.now() + expiresInMs;
    return JSON.stringify(parsed);
  };
  const reported = [];
  const client = newClient({ maxRetries: 1, onRefreshError: (error) => reported.push(error) });
  assert.equal(client.deserializeCache(blob()), 1);
  local.endpoint.failAll({ status: 503, body: "" });

  for (let i = 0; i < 5; i += 1) {
    const during = await acquire(client);
    assert.equal(during.accessToken, first.accessToken);
    assert.equal(during.fromCache, true);
  }
  await waitFor(() => reported.length === 1);
  assert.equal(reported[0].code, "temporarily_unavailable");
  assert.equal(reported[0].status, 503);
  const served = await acquire(client);
  assert.equal(served.accessToken, first.accessToken, "after the failed refresh, still served");
  assert.equal(local.endpoint.tokenRequests, 3, "the seed's request, then one refresh of two attempts, then a pause");

  // The same token with four minutes left: inside the 300 s buffer, so not served.
  const late = newClient({ maxRetries: 1 });
  late.deserializeCache(blob(240_000));
  const expired = await failure(late);
  assert.equal(expired.code, "temporarily_unavailable", "past the buffer the old token is not served");
  assert.equal(local.endpoint.tokenRequests, 5);
  local.endpoint.recover();
  const back = await acquire(late);
  assert.equal(back.fromCache, false);
  assert.equal(back.accessToken, local.endpoint.requests[5].accessToken);
});

async function waitFor(condition, ms = 15_000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) assert.fail("condition not met in time");
    await sleep(10);
  }
}
