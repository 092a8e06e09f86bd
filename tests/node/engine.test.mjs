// Cache, single-flight, background refresh, retries, timeouts, throttling and the authority
// and scope options, through the npm module against the local endpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { adminConsentUrl, scopeForResource } from "cctoken";
import { LOCAL_APP } from "../token-endpoint/server.mjs";
import { useLocalEndpoint } from "./local-endpoint.mjs";

const SCOPE = "api://cctoken-demo/.default";
const local = useLocalEndpoint();
const { newClient } = local;

test("100 concurrent cold calls make exactly one request and share its token", async () => {
  const client = newClient();
  const results = await Promise.all(Array.from({ length: 100 }, () => client.acquireTokenForClient({ scopes: [SCOPE] })));
  assert.equal(local.endpoint.tokenRequests, 1);
  assert.equal(new Set(results.map((r) => r.accessToken)).size, 1);
  assert.equal(results.filter((r) => !r.fromCache).length, 100, "all waited on the one request");
});

test("concurrent callers share one failure, and the next call tries again", async () => {
  // A transient failure: definitive refusals (invalid_request, invalid_client…) are
  // remembered for a while instead (faults.test.mjs).
  local.endpoint.failNext({ status: 500, body: { error: "server_error", error_codes: [50000] } });
  const client = newClient({ maxRetries: 0 });
  const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => client.acquireTokenForClient({ scopes: [SCOPE] })));
  assert.equal(local.endpoint.tokenRequests, 1);
  assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason.code === "server_error"));
  const retried = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(retried.fromCache, false);
  assert.equal(local.endpoint.tokenRequests, 2);
});

/**
 * A client whose cache holds a token already past its refreshOn: a real token from the
 * endpoint, carried over through serializeCache with its refresh point moved into the past.
 * No test waits for a refresh point to arrive.
 */
async function clientPastRefreshOn(options = {}) {
  const seed = newClient();
  const first = await seed.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(first.refreshOn, undefined, "the seed's hour-long token has no refresh point of its own");
  const blob = JSON.parse(seed.serializeCache());
  blob.tokens[0].refresh_on_ms = Date.now() - 1000;
  const client = newClient(options);
  assert.equal(client.deserializeCache(JSON.stringify(blob)), 1);
  return { client, first };
}

/** A promise the test releases, for holding the endpoint's answer. */
function gate() {
  let release;
  const promise = new Promise((resolve) => (release = resolve));
  return { promise, release };
}

/** Lets every task the client queued run (its fetch starts within them), without waiting on time. */
const settle = async () => {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setTimeout(resolve, 0));
};

/** A fetch that counts its calls: a refresh starts its fetch within the tasks `settle` runs. */
function countingFetch() {
  const counted = (url, init) => {
    counted.calls += 1;
    return fetch(url, init);
  };
  counted.calls = 0;
  return counted;
}

test("past refreshOn the cached token is served at once and refreshed in the background", async () => {
  const fetches = countingFetch();
  const { client, first } = await clientPastRefreshOn({ fetch: fetches });
  const held = gate();
  local.endpoint.failNext({ until: held.promise, token: {} });
  const during = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(during.fromCache, true, "served while the refresh is held at the endpoint");
  assert.equal(during.accessToken, first.accessToken);
  assert.ok(during.refreshOn instanceof Date && during.refreshOn.getTime() < Date.now(), "past its refresh point");
  await waitFor(() => local.endpoint.tokenRequests === 2);
  const again = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(again.accessToken, first.accessToken, "still the old token while the refresh is under way");
  await settle();
  assert.equal(fetches.calls, 1, "one refresh, however many calls");
  held.release();
  let after;
  // Bounded polling for the refresh to land: it ends as soon as it has, or fails after 15 s.
  for (let i = 0; i < 1500; i += 1) {
    after = await client.acquireTokenForClient({ scopes: [SCOPE] });
    if (after.accessToken !== first.accessToken) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(after.fromCache, true);
  assert.equal(after.accessToken, local.endpoint.requests[1].accessToken, "the refreshed token replaced the old one");
  assert.equal(local.endpoint.tokenRequests, 2);
});

test("a failing background refresh keeps serving the cached token and reports to onRefreshError", async () => {
  const reported = [];
  const fetches = countingFetch();
  const { client, first } = await clientPastRefreshOn({ onRefreshError: (error) => reported.push(error), fetch: fetches });
  local.endpoint.failNext({ status: 401, body: { error: "invalid_client", error_description: "AADSTS7000222: The provided client secret keys are expired.", error_codes: [7000222] } });
  const during = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(during.accessToken, first.accessToken);
  await waitFor(() => reported.length === 1);
  assert.equal(reported[0].code, "invalid_client");
  assert.deepEqual(reported[0].aadsts, [7000222]);
  assert.match(reported[0].hint, /expired/);
  assert.equal(fetches.calls, 1);
  // The refresh has failed and been reported: these calls come after it, inside the pause.
  for (let i = 0; i < 3; i += 1) {
    const still = await client.acquireTokenForClient({ scopes: [SCOPE] });
    assert.equal(still.accessToken, first.accessToken, "stale-if-error: still served");
  }
  await settle();
  assert.equal(fetches.calls, 1, "no second refresh before the retry pause");
  assert.equal(local.endpoint.tokenRequests, 2, "the seed's request and the one refresh");
  assert.equal(reported.length, 1);
});

test("forceRefresh skips the cache; claims are sent and bypass it", async () => {
  const client = newClient();
  const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
  const forced = await client.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
  assert.notEqual(forced.accessToken, first.accessToken);
  assert.equal((await client.acquireTokenForClient({ scopes: [SCOPE] })).accessToken, forced.accessToken);
  const claims = JSON.stringify({ access_token: { xms_cc: { values: ["cp1"] } } });
  const challenged = await client.acquireTokenForClient({ scopes: [SCOPE], claims, correlationId: "4a5e0c1e-0000-4000-8000-000000000001", extraBodyParameters: { slice: "testslice" } });
  assert.equal(challenged.fromCache, false);
  assert.equal(challenged.correlationId, "4a5e0c1e-0000-4000-8000-000000000001");
  const sent = local.endpoint.requests.at(-1);
  assert.ok(sent.body.endsWith(`&grant_type=client_credentials&claims=${encodeURIComponent(claims).replace(/%20/g, "+")}&slice=testslice`), sent.body);
  assert.equal(sent.headers["client-request-id"], "4a5e0c1e-0000-4000-8000-000000000001");
  assert.equal((await client.acquireTokenForClient({ scopes: [SCOPE] })).accessToken, forced.accessToken, "claims token not cached");
});

test("a correlationId that cannot be a header value is refused before any request", async () => {
  const client = newClient();
  for (const correlationId of ["", "c-1\nx-injected\n1", "c-1\r\nx-injected: 1", "naïve", "c".repeat(257)]) {
    const error = await client.acquireTokenForClient({ scopes: [SCOPE], correlationId }).catch((e) => e);
    assert.equal(error.code, "invalid_config", JSON.stringify(correlationId));
    assert.equal(error.field, "correlationId");
    assert.match(error.message, /printable ASCII/);
  }
  assert.equal(local.endpoint.tokenRequests, 0);
  const longest = "c".repeat(256);
  assert.equal((await client.acquireTokenForClient({ scopes: [SCOPE], correlationId: longest })).correlationId, longest);
  assert.equal(local.endpoint.requests.at(-1).headers["client-request-id"], longest);
});

test("transient failures are retried: reset, 500, 503 with Retry-After", async () => {
  local.endpoint.failNext({ reset: true }, { status: 500, body: "" }, { status: 503, headers: { "retry-after": "1" }, body: "" });
  const started = Date.now();
  const client = newClient({ maxRetries: 3 });
  const result = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(result.fromCache, false);
  assert.equal(local.endpoint.tokenRequests, 4);
  assert.ok(Date.now() - started >= 1000, "Retry-After was honoured");
});

test("client errors are not retried; HTML replies become invalid_response with a quote", async () => {
  local.endpoint.failNext({ status: 200, headers: { "content-type": "text/html" }, body: "<html><body>Proxy login</body></html>" });
  const error = await newClient().acquireTokenForClient({ scopes: [SCOPE] }).catch((e) => e);
  assert.equal(error.code, "invalid_response");
  assert.match(error.message, /content-type text\/html\): "<html><body>Proxy login<\/body><\/html>"/);
  assert.equal(local.endpoint.tokenRequests, 1);
});

test("a reply over 1 MiB is refused without reading it all", async () => {
  local.endpoint.failNext({ status: 200, body: JSON.stringify({ access_token: "x".repeat(2 * 1024 * 1024), expires_in: 3599 }) });
  const error = await newClient().acquireTokenForClient({ scopes: [SCOPE] }).catch((e) => e);
  assert.equal(error.code, "invalid_response");
  assert.match(error.message, /larger than 1048576 bytes/);
  assert.ok(!error.message.includes("xxxx"));
});

test("expiryBufferSeconds decides how long before expiry a token stops being served", async () => {
  const cautious = newClient({ expiryBufferSeconds: 3600 });
  await cautious.acquireTokenForClient({ scopes: [SCOPE] });
  const second = await cautious.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(second.fromCache, false, "a 3599 s token is inside a 3600 s buffer at once");
  assert.equal(local.endpoint.tokenRequests, 2);
  assert.throws(() => newClient({ expiryBufferSeconds: -1 }), { code: "invalid_config", field: "expiryBufferSeconds" });
});

test("a hung endpoint times out per attempt, retried, then gives up", async () => {
  local.endpoint.failNext({ hang: true }, { hang: true }, { hang: true });
  // A total deadline far away: only the per-attempt timeout can end these attempts, and the
  // message says which deadline ended the call.
  const error = await newClient({ attemptTimeoutMs: 150, totalTimeoutMs: 120_000 })
    .acquireTokenForClient({ scopes: [SCOPE] })
    .catch((e) => e);
  assert.equal(error.code, "timeout");
  assert.equal(error.message, "timeout: the token endpoint did not answer within 150 ms for one attempt (hint: check network access to the token endpoint; raise the timeout options if it is slow)");
  assert.equal(local.endpoint.tokenRequests, 3, "the first attempt and two retries");
  assert.deepEqual(local.endpoint.requests.map((r) => r.status), ["hang", "hang", "hang"]);
});

test("the total deadline cuts an attempt short", async () => {
  local.endpoint.failNext({ hang: true }, { hang: true }, { hang: true });
  const started = Date.now();
  const error = await newClient({ attemptTimeoutMs: 120_000, totalTimeoutMs: 300 })
    .acquireTokenForClient({ scopes: [SCOPE] })
    .catch((e) => e);
  const elapsed = Date.now() - started;
  assert.equal(error.code, "timeout");
  // The attempt is cut to what is left of the 300 ms, not given its 120 s.
  const waited = Number(/did not answer within (\d+) ms/.exec(error.message)?.[1]);
  assert.ok(waited > 0 && waited <= 300, error.message);
  assert.equal(local.endpoint.tokenRequests, 1, "no retry past the deadline");
  // A quarter of the attempt timeout: a bound no loaded machine reaches, which only the total deadline meets.
  assert.ok(elapsed < 30_000, `gave up after ${elapsed} ms`);
});

test("an AbortSignal cancels the wait", async () => {
  local.endpoint.failNext({ hang: true });
  const controller = new AbortController();
  const pending = newClient().acquireTokenForClient({ scopes: [SCOPE], abortSignal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  const error = await pending.catch((e) => e);
  assert.equal(error.code, "aborted");
  const already = await newClient().acquireTokenForClient({ scopes: [SCOPE], abortSignal: AbortSignal.abort() }).catch((e) => e);
  assert.equal(already.code, "aborted");
  const warm = newClient();
  await warm.acquireTokenForClient({ scopes: [SCOPE] });
  const cachedButAborted = await warm.acquireTokenForClient({ scopes: [SCOPE], abortSignal: AbortSignal.abort() }).catch((e) => e);
  assert.equal(cachedButAborted.code, "aborted", "the JS cache-hit shortcut honours an aborted signal too");
});

test("429 with a Retry-After past the deadline fails fast as throttled until it ends", async () => {
  local.endpoint.failNext({ status: 429, headers: { "retry-after": "120" }, body: { error: "temporarily_unavailable" } });
  const client = newClient();
  const first = await client.acquireTokenForClient({ scopes: [SCOPE] }).catch((e) => e);
  assert.equal(first.code, "throttled");
  assert.equal(first.retryAfter, 120_000);
  const second = await client.acquireTokenForClient({ scopes: [SCOPE] }).catch((e) => e);
  assert.equal(second.code, "throttled");
  assert.ok(second.retryAfter > 60_000 && second.retryAfter <= 120_000, `the window counts down from 120 s: ${second.retryAfter}`);
  assert.equal(local.endpoint.tokenRequests, 1);
});

test("serializeCache / deserializeCache carry tokens to a new client", async () => {
  const client = newClient();
  const token = await client.acquireTokenForClient({ scopes: [SCOPE] });
  const json = client.serializeCache();
  assert.equal(JSON.parse(json).version, 1);
  const restored = newClient();
  assert.equal(restored.deserializeCache(json), 1);
  const again = await restored.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(again.fromCache, true);
  assert.equal(again.accessToken, token.accessToken);
  assert.equal(local.endpoint.tokenRequests, 1);
  assert.throws(() => restored.deserializeCache("{}"), { code: "invalid_config", field: "cache" });
});

test("tenantId with authorityHost, extraQueryParameters, and a generic tokenEndpoint", async () => {
  const byTenant = newClient({ authority: undefined, tenantId: LOCAL_APP.tenantDomain, authorityHost: local.endpoint.url, extraQueryParameters: { dc: "ESTS-PUB-WUS2-AZ1-FD000-TEST1" } });
  const result = await byTenant.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(result.tenantId, LOCAL_APP.tenantDomain);
  assert.equal(local.endpoint.requests[0].path, `/${LOCAL_APP.tenantDomain}/oauth2/v2.0/token?dc=ESTS-PUB-WUS2-AZ1-FD000-TEST1`);

  const generic = newClient({ authority: undefined, tokenEndpoint: local.endpoint.genericTokenEndpoint, clientAuthMethod: "client_secret_basic" });
  const token = await generic.acquireTokenForClient({ scopes: ["read:reports", "write:reports"] });
  assert.equal(token.tenantId, undefined);
  assert.deepEqual(token.scopes, ["read:reports", "write:reports"]);
  assert.equal(local.endpoint.requests[1].body, "scope=read%3Areports+write%3Areports&grant_type=client_credentials");
});

test("Entra scope rules explain themselves; generic endpoints do not apply them", async () => {
  const client = newClient();
  for (const [scopes, pattern, hint] of [
    [["https://graph.microsoft.com"], /is a resource, not a scope/, /"https:\/\/graph\.microsoft\.com\/\.default"/],
    [["https://database.windows.net/"], /is a resource/, /"https:\/\/database\.windows\.net\/\/\.default"/],
    [["User.Read"], /delegated permission/, /\/\.default/],
    [["api://a/.default", "api://b/.default"], /one resource at a time/, undefined],
  ]) {
    const error = await client.acquireTokenForClient({ scopes }).catch((e) => e);
    assert.equal(error.code, "invalid_scope");
    assert.match(error.message, pattern);
    if (hint) assert.match(error.hint, hint);
  }
  assert.equal(local.endpoint.requests.length, 0);
  assert.equal(scopeForResource("https://database.windows.net/"), "https://database.windows.net//.default");
  assert.equal(scopeForResource("https://graph.microsoft.com"), "https://graph.microsoft.com/.default");
  assert.throws(() => scopeForResource(""), { code: "invalid_scope" });
});

test("adminConsentUrl and the multi-tenant authority rule", () => {
  assert.equal(
    adminConsentUrl({ tenant: "contoso.onmicrosoft.com", clientId: LOCAL_APP.clientId }),
    `https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=${LOCAL_APP.clientId}`,
  );
  assert.equal(
    adminConsentUrl({ tenant: "t1", clientId: "c1", authorityHost: "https://login.microsoftonline.us" }),
    "https://login.microsoftonline.us/t1/adminconsent?client_id=c1",
  );
  for (const tenant of ["common", "organizations", "consumers"]) {
    assert.throws(() => newClient({ authority: `https://login.microsoftonline.com/${tenant}` }), (e) => {
      assert.equal(e.code, "invalid_authority");
      assert.match(e.message, /tenant id .* or a verified domain/);
      return true;
    });
  }
});

async function waitFor(condition, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}
