// Fault injection: the Worker broker (workerd, Miniflare) in front of a token endpoint that fails
// in every way listed in README "Failure behaviour". Each case asserts the broker's status,
// OAuth2 error body and Retry-After, the requests the endpoint saw, and that nothing bad was
// cached: no KV entry was written and the next request goes to the endpoint again.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { decodeClaims } from "../token-endpoint/access-token.mjs";
import { brokerClients, startBroker } from "./broker.mjs";

const MIB = 1024 * 1024;
const ATTEMPT_TIMEOUT_MS = 1000;
const TOTAL_TIMEOUT_MS = 5000;
const KEY = "faults-key-7d21";
/** Every case asks for scopes of its own, so one broker's memory and KV serve all of them. */
const SCOPES = Array.from({ length: 64 }, (_, i) => `api://fault-${i}/.default`);
let nextScope = 0;
let endpoint;
let broker;

before(async () => {
  endpoint = await startTokenEndpoint();
  broker = await startBroker({
    endpoint,
    app: LOCAL_APP,
    settings: {
      BROKER_CLIENTS: brokerClients({ faults: { keys: [KEY], scopes: SCOPES } }),
      // A number, as a wrangler.toml var may be (the default is 2: request counts would differ).
      MAX_RETRIES: 1,
      ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
      TOTAL_TIMEOUT_MS: String(TOTAL_TIMEOUT_MS),
    },
  });
});
after(async () => {
  await broker?.dispose();
  await endpoint?.close();
});
beforeEach(() => {
  endpoint.reset();
  endpoint.settings.tokenLifetimeSeconds = 3599;
  endpoint.settings.refreshInSeconds = undefined;
});

/** A scope no earlier case has used. */
const freshScope = () => SCOPES[nextScope++];
const token = (scope) => broker.token({ scopes: [scope] }, { authorization: `Bearer ${KEY}` });
const kvEntries = async () => (await (await broker.kv()).list()).keys.length;

/** The broker answered with an OAuth2 error: status, code, and the headers it must carry. The
 * correlation id is the failed IdP request's, or null when none was sent (throttled fail-fast). */
function assertError(response, status, code) {
  assert.equal(response.status, status, response.text);
  assert.equal(response.json.error, code, response.text);
  assert.equal(typeof response.json.error_description, "string");
  if (response.json.correlation_id !== null) assert.match(response.json.correlation_id, /^[0-9a-f-]{36}$/);
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.ok(!response.text.includes("eyJ"), "no token text in an error");
  assert.ok(!response.text.includes(LOCAL_APP.clientSecret));
}

/** Nothing was cached: KV gained no entry, and the next request is answered by the endpoint. */
async function assertNothingCached(scope, kvBefore) {
  assert.equal(await kvEntries(), kvBefore, "no KV entry for a failed acquisition");
  endpoint.recover();
  const before = endpoint.tokenRequests;
  const next = await token(scope);
  assert.equal(next.status, 200, next.text);
  assert.equal(next.json.cache, "idp");
  assert.equal(endpoint.tokenRequests, before + 1);
  assert.equal(decodeClaims(next.json.access_token).aud, scope.slice(0, -"/.default".length));
}

const FIVE_XX = [
  { fault: { status: 500, body: { error: "server_error", error_description: "AADSTS50000: There was an error issuing a token.", error_codes: [50000] } }, status: 503, code: "server_error" },
  { fault: { status: 502, headers: { "content-type": "text/html" }, body: "<html>Bad Gateway</html>" }, status: 503, code: "server_error" },
  { fault: { status: 503, body: "" }, status: 503, code: "temporarily_unavailable" },
  { fault: { status: 504, body: "" }, status: 503, code: "server_error" },
];

test("500, 502, 503 and 504 once: the broker retries and answers 200 from the IdP", async () => {
  for (const { fault } of FIVE_XX) {
    endpoint.reset();
    endpoint.failNext(fault);
    const scope = freshScope();
    const response = await token(scope);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.cache, "idp");
    assert.deepEqual(endpoint.requests.map((r) => r.status), [fault.status, 200]);
    assert.equal((await token(scope)).json.cache, "memory");
    assert.equal(endpoint.tokenRequests, 2);
  }
});

test("500, 502, 503 and 504 every time: 503 (worth trying again later) with the IdP's code, after 1 + MAX_RETRIES requests", async () => {
  for (const { fault, status, code } of FIVE_XX) {
    endpoint.reset();
    endpoint.failAll(fault);
    const scope = freshScope();
    const kvBefore = await kvEntries();
    const response = await token(scope);
    assertError(response, status, code);
    assert.equal(response.headers.get("retry-after"), null);
    assert.equal(endpoint.tokenRequests, 2, `HTTP ${fault.status}`);
    await assertNothingCached(scope, kvBefore);
  }
  endpoint.reset();
  endpoint.failAll(FIVE_XX[0].fault);
  const passedOn = await token(freshScope());
  assert.equal(passedOn.json.error_description, "AADSTS50000: There was an error issuing a token.");
  assert.deepEqual(passedOn.json.error_codes, [50000]);
});

test("503 with Retry-After: waited for when it fits; past the deadline 503 with Retry-After passed on", async () => {
  endpoint.failNext({ status: 503, headers: { "retry-after": "1" }, body: "" });
  const started = Date.now();
  const waited = await token(freshScope());
  assert.equal(waited.status, 200, waited.text);
  assert.equal(endpoint.tokenRequests, 2);
  assert.ok(Date.now() - started >= 1000, "the 1 s Retry-After was honoured");

  endpoint.reset();
  endpoint.failNext({ status: 503, headers: { "retry-after": "120" }, body: { error: "temporarily_unavailable", error_description: "AADSTS90033: A transient error has occurred." } });
  const scope = freshScope();
  const kvBefore = await kvEntries();
  const response = await token(scope);
  assertError(response, 503, "temporarily_unavailable");
  assert.equal(response.headers.get("retry-after"), "120");
  assert.deepEqual(response.json.error_codes, [90033]);
  assert.equal(endpoint.tokenRequests, 1);
  await assertNothingCached(scope, kvBefore);
});

test("429 with Retry-After in seconds: retried after it; past the deadline 503 throttled, then fail-fast", async () => {
  endpoint.failNext({ status: 429, headers: { "retry-after": "1" }, body: "" });
  const started = Date.now();
  const waited = await token(freshScope());
  assert.equal(waited.status, 200, waited.text);
  assert.equal(endpoint.tokenRequests, 2);
  assert.ok(Date.now() - started >= 1000, "the 1 s Retry-After was honoured");

  endpoint.reset();
  endpoint.failNext({ status: 429, headers: { "retry-after": "120" }, body: { error: "temporarily_unavailable" } });
  const scope = freshScope();
  const throttled = await token(scope);
  assertError(throttled, 503, "throttled");
  assert.match(throttled.json.correlation_id, /^[0-9a-f-]{36}$/);
  assert.equal(throttled.headers.get("retry-after"), "120");
  const fast = await token(scope);
  assertError(fast, 503, "throttled");
  assert.equal(fast.json.correlation_id, null, "no request was sent");
  assert.ok(Number(fast.headers.get("retry-after")) >= 110 && Number(fast.headers.get("retry-after")) <= 120);
  assert.equal(endpoint.tokenRequests, 1, "no IdP request while the window lasts");
});

test("429 with Retry-After as an HTTP date: a past date retries at once, a future one throttles", async () => {
  endpoint.failNext({ status: 429, headers: { "retry-after": new Date(Date.now() - 60_000).toUTCString() }, body: "" });
  const retried = await token(freshScope());
  assert.equal(retried.status, 200, retried.text);
  assert.equal(endpoint.tokenRequests, 2);

  endpoint.reset();
  endpoint.failNext({ status: 429, headers: { "retry-after": new Date(Date.now() + 120_000).toUTCString() }, body: "" });
  const throttled = await token(freshScope());
  assertError(throttled, 503, "throttled");
  const seconds = Number(throttled.headers.get("retry-after"));
  assert.ok(seconds >= 110 && seconds <= 120, String(seconds));
  assert.equal(endpoint.tokenRequests, 1);
});

test("a connection reset mid-body is retried; every time, 503 network_error", async () => {
  endpoint.failNext({ token: {}, declareLength: true, resetAfterBytes: 40 });
  const retried = await token(freshScope());
  assert.equal(retried.status, 200, retried.text);
  assert.equal(endpoint.tokenRequests, 2);

  for (const declareLength of [true, false]) {
    endpoint.reset();
    endpoint.failAll({ token: {}, declareLength, resetAfterBytes: 40 });
    const scope = freshScope();
    const kvBefore = await kvEntries();
    assertError(await token(scope), 503, "network_error");
    assert.equal(endpoint.tokenRequests, 2);
    await assertNothingCached(scope, kvBefore);
  }
});

test("a stall mid-body is an attempt that timed out: retried; every time, 503 timeout", { timeout: 60_000 }, async () => {
  endpoint.failNext({ token: {}, declareLength: true, stallAfterBytes: 40 });
  const retried = await token(freshScope());
  assert.equal(retried.status, 200, retried.text);
  assert.deepEqual(endpoint.requests.map((r) => r.status), [200, 200]);
  assert.deepEqual([endpoint.requests[0].bytesSent, endpoint.requests[0].completed], [40, false], "the first answer stalled");

  for (const declareLength of [true, false]) {
    endpoint.reset();
    endpoint.failAll({ token: {}, declareLength, stallAfterBytes: 40 });
    const scope = freshScope();
    const kvBefore = await kvEntries();
    const started = Date.now();
    const response = await token(scope);
    assertError(response, 503, "timeout");
    assert.match(response.json.error_description, /did not answer within 1000 ms for one attempt/);
    assert.ok(Date.now() - started >= 2 * ATTEMPT_TIMEOUT_MS, "each attempt waited its deadline");
    assert.equal(endpoint.tokenRequests, 2);
    assert.ok(endpoint.requests.every((r) => r.bytesSent === 40 && !r.completed));
    await assertNothingCached(scope, kvBefore);
  }
});

// The endpoint never answers, so any answer at all is the broker's deadline; the test's own
// timeout catches a broker that waits forever. Only lower bounds on elapsed time: a loaded
// machine makes everything later, never earlier.
test("no answer: 503 timeout after 1 + MAX_RETRIES attempts of ATTEMPT_TIMEOUT_MS each", { timeout: 60_000 }, async () => {
  endpoint.failNext({ hang: true });
  const recovered = await token(freshScope());
  assert.equal(recovered.status, 200, recovered.text);
  assert.deepEqual(endpoint.requests.map((r) => r.status), ["hang", 200]);

  endpoint.reset();
  endpoint.failAll({ hang: true });
  const scope = freshScope();
  const kvBefore = await kvEntries();
  const started = Date.now();
  const response = await token(scope);
  const elapsed = Date.now() - started;
  assertError(response, 503, "timeout");
  assert.match(response.json.error_description, /did not answer within 1000 ms for one attempt/);
  assert.equal(endpoint.tokenRequests, 2);
  assert.ok(elapsed >= 2 * ATTEMPT_TIMEOUT_MS, `answered after ${elapsed} ms: each attempt waited its deadline`);
  await assertNothingCached(scope, kvBefore);
});

test("200 with an HTML body, truncated JSON, or no access_token: 502 invalid_response, not retried", async () => {
  for (const [fault, description] of [
    [{ status: 200, headers: { "content-type": "text/html" }, body: "<html>Sign in</html>" }, /not a JSON object \(content-type text\/html\): "<html>Sign in<\/html>"/],
    [{ status: 200, body: '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJh' }, /body withheld \(\d+ bytes\): it may hold a token/],
    [{ token: { access_token: undefined } }, /^the token response has no access_token string$/],
  ]) {
    endpoint.reset();
    endpoint.failNext(fault);
    const scope = freshScope();
    const kvBefore = await kvEntries();
    const response = await token(scope);
    assertError(response, 502, "invalid_response");
    assert.match(response.json.error_description, description);
    assert.equal(endpoint.tokenRequests, 1);
    await assertNothingCached(scope, kvBefore);
  }
});

test("expires_in as a numeric string is accepted, cached in memory and KV", async () => {
  endpoint.failNext({ token: { expires_in: "3599" } });
  const scope = freshScope();
  const kvBefore = await kvEntries();
  const response = await token(scope);
  assert.equal(response.status, 200, response.text);
  assert.ok(response.json.expires_in > 3590 && response.json.expires_in <= 3599, String(response.json.expires_in));
  assert.equal((await token(scope)).json.cache, "memory");
  assert.equal(await kvEntries(), kvBefore + 1);
  assert.equal(endpoint.tokenRequests, 1);
});

test("expires_in 0, negative or absent: 502 invalid_response, nothing in memory or KV", async () => {
  for (const expiresIn of [0, -300, "-300", undefined]) {
    endpoint.reset();
    endpoint.failNext({ token: { expires_in: expiresIn } });
    const scope = freshScope();
    const kvBefore = await kvEntries();
    const response = await token(scope);
    assertError(response, 502, "invalid_response");
    assert.equal(response.json.error_description, "the token response's expires_in is missing or not a positive number of seconds");
    assert.equal(endpoint.tokenRequests, 1);
    await assertNothingCached(scope, kvBefore);
  }
});

test("expires_in fractional or not a number: 502 invalid_response, nothing in memory or KV", async () => {
  for (const expiresIn of [3599.5, "3599.5", 0.5, "soon", "3599s", "", true, null, [3599], { seconds: 3599 }]) {
    endpoint.reset();
    endpoint.failNext({ token: { expires_in: expiresIn } });
    const scope = freshScope();
    const kvBefore = await kvEntries();
    const response = await token(scope);
    assertError(response, 502, "invalid_response");
    assert.equal(response.json.error_description, "the token response's expires_in is missing or not a positive number of seconds", JSON.stringify(expiresIn));
    assert.equal(endpoint.tokenRequests, 1, "not retried");
    await assertNothingCached(scope, kvBefore);
  }
});

test("a 20 MB body (chunked, declared, gzip-inflated): 502 invalid_response at 1 MiB, not read to the end", async () => {
  for (const fault of [
    { bodyBytes: 20 * MIB },
    { bodyBytes: 20 * MIB, declareLength: true },
    { bodyBytes: 20 * MIB, gzip: true, declareLength: true },
  ]) {
    endpoint.reset();
    endpoint.failNext(fault);
    const scope = freshScope();
    const kvBefore = await kvEntries();
    const response = await token(scope);
    assertError(response, 502, "invalid_response");
    assert.equal(response.json.error_description, "the token endpoint's reply is larger than 1048576 bytes; a token response is a few kilobytes");
    assert.equal(endpoint.tokenRequests, 1);
    if (!fault.gzip) {
      await waitFor(() => endpoint.requests[0].completed === false && endpoint.requests[0].bytesSent > 0);
      assert.ok(endpoint.requests[0].bytesSent < 20 * MIB, `${endpoint.requests[0].bytesSent} bytes sent`);
    }
    await assertNothingCached(scope, kvBefore);
  }
});

test("content type: a JSON token under text/plain is served; a form-encoded one is 502", async () => {
  endpoint.failNext({ token: {}, headers: { "content-type": "text/plain" } });
  const served = await token(freshScope());
  assert.equal(served.status, 200, served.text);

  endpoint.reset();
  endpoint.failNext({ status: 200, headers: { "content-type": "application/x-www-form-urlencoded" }, body: "access_token=eyJ0eXAiOiJKV1QifQ.e30.c2ln&expires_in=3599" });
  const scope = freshScope();
  const kvBefore = await kvEntries();
  const refused = await token(scope);
  assertError(refused, 502, "invalid_response");
  assert.match(refused.json.error_description, /content-type application\/x-www-form-urlencoded\): body withheld/);
  await assertNothingCached(scope, kvBefore);
});

test("IdP down during the background-refresh window: the cached token is served until its expiry buffer", async () => {
  // Tokens living 300 s + SERVED_S with the 300 s buffer are served for SERVED_S; refresh_in
  // starts refreshing after 1 s. The test waits for events (the refresh's requests), and only
  // past points in time (never "before" one), except that the window holds its few requests
  // with seconds to spare.
  const SERVED_S = 8;
  endpoint.settings.tokenLifetimeSeconds = 300 + SERVED_S;
  endpoint.settings.refreshInSeconds = 1;
  const scope = freshScope();
  const sentAfter = Date.now();
  const first = await token(scope);
  const answeredBy = Date.now();
  assert.equal(first.json.cache, "idp");
  // Down from now on; memory hits before the refresh point do not reach it.
  endpoint.failAll({ status: 503, body: "" });
  // The broker sent its request before `answeredBy`: its refresh point is past after this.
  await sleep(answeredBy + 1000 + 20 - Date.now());

  // The token is served until SERVED_S after the broker sent its request, somewhere in
  // [sentAfter, answeredBy]: every answer that arrives before sentAfter + SERVED_S is in it.
  const during = async () => {
    const response = await token(scope);
    assert.ok(Date.now() < sentAfter + SERVED_S * 1000, "the machine took the whole window; nothing to judge");
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.cache, "memory");
    assert.equal(response.json.access_token, first.json.access_token);
  };
  await during(); // past the refresh point: starts the background refresh
  await waitFor(() => endpoint.tokenRequests === 3, SERVED_S * 1000);
  assert.deepEqual(endpoint.requests.map((r) => r.status), [200, 503, 503], "one background refresh: two attempts");
  for (let i = 0; i < 3; i += 1) await during();
  assert.equal(endpoint.tokenRequests, 3, "a failed refresh is not retried at once");

  await sleep(answeredBy + SERVED_S * 1000 + 20 - Date.now());
  const expired = await token(scope);
  assertError(expired, 503, "temporarily_unavailable");
  assert.equal(endpoint.tokenRequests, 5, "one background refresh (two attempts), then this request's two");
  endpoint.recover();
  const back = await token(scope);
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json.cache, "idp");
  assert.notEqual(back.json.access_token, first.json.access_token);
});

async function waitFor(condition, ms = 3000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) assert.fail("condition not met in time");
    await sleep(10);
  }
}
