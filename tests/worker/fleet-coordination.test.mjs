// One coordinator per token (issue 15, goal 1): two Worker scripts (two isolates) over one KV
// namespace and one Coordinator namespace. Concurrent misses anywhere in the fleet make one
// identity-provider request; KV answers a fresh entry; a stale one goes to the coordinator.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { issueAccessToken } from "../token-endpoint/access-token.mjs";
import { CACHE_KEY, REPORTS_SCOPE, SCOPE, kvKeyFor, openKvValue, sealKvValue, sleep, tally, withFleet } from "./fleet.mjs";

let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint();
});
after(() => endpoint?.close());
beforeEach(() => endpoint.reset());

/** Holds the endpoint's next token answer until `release()`: concurrent misses pile up. */
function holdNextToken(fault = { token: {} }) {
  let release;
  const gate = new Promise((resolve) => {
    release = resolve;
  });
  endpoint.failNext({ ...fault, until: gate });
  return release;
}

test("2 × 25 concurrent cold requests for one scope set: exactly one IdP request, one token for all", { timeout: 30_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const release = holdNextToken();
  const pending = Array.from({ length: 50 }, (_, i) => (i % 2 ? fleet.b : fleet.a).token({ scopes: [SCOPE] }));
  await sleep(500); // every request is in flight, the IdP's one answer held
  release();
  const replies = await Promise.all(pending);
  assert.deepEqual(tally(replies.map((r) => r.status)), { 200: 50 }, replies.find((r) => r.status !== 200)?.summary);
  assert.equal(endpoint.tokenRequests, 1, "one IdP request for the whole fleet");
  assert.ok(replies.every((r) => r.json.access_token === endpoint.requests[0].accessToken), "every request got the one token the IdP issued");
  // Both isolates missed memory and KV, so both got the token from the coordinator.
  assert.deepEqual(tally(replies.map((r) => `${r.script}:${r.json.cache}`)), { "a:coordinator": 25, "b:coordinator": 25 });
});

test("after one acquisition: the other script answers from KV, then memory; the IdP saw one request", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const first = await fleet.a.token({ scopes: [SCOPE] });
  assert.equal(first.status, 200, first.summary);
  assert.equal(first.json.cache, "coordinator");
  const sequence = [first];
  for (const script of [fleet.a, fleet.b, fleet.b, fleet.a]) sequence.push(await script.token({ scopes: [SCOPE] }));
  assert.deepEqual(sequence.map((r) => `${r.script}:${r.json.cache}`), ["a:coordinator", "a:memory", "b:kv", "b:memory", "a:memory"]);
  assert.ok(sequence.every((r) => r.json.access_token === first.json.access_token), "one token throughout");
  assert.equal(endpoint.tokenRequests, 1);
});

test("two scope sets missed at once across both scripts: one IdP request each, never the other's token", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const release = holdNextToken();
  const pending = Array.from({ length: 20 }, (_, i) => [fleet.a, fleet.b][i % 2].token({ scopes: [[SCOPE, REPORTS_SCOPE][Math.floor(i / 2) % 2]] }));
  await sleep(500);
  release();
  const replies = await Promise.all(pending);
  assert.deepEqual(tally(replies.map((r) => r.status)), { 200: 20 });
  assert.equal(endpoint.tokenRequests, 2);
  const scopesAsked = endpoint.requests.map((r) => new URLSearchParams(r.body).get("scope")).sort();
  assert.deepEqual(scopesAsked, [SCOPE, REPORTS_SCOPE].sort());
  const byScope = (scope) => new Set(replies.filter((_, i) => (Math.floor(i / 2) % 2 ? REPORTS_SCOPE : SCOPE) === scope).map((r) => r.json.access_token));
  assert.equal(byScope(SCOPE).size, 1);
  assert.equal(byScope(REPORTS_SCOPE).size, 1);
  assert.ok([...byScope(SCOPE)][0] !== [...byScope(REPORTS_SCOPE)][0], "each scope set its own token");
});

test("an IdP refusal reached through the coordinator is every waiting request's answer, with no second IdP request", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  // Entra's answer to a secret that expired: not worth retrying, the same for every caller.
  const release = holdNextToken({
    status: 401,
    body: { error: "invalid_client", error_description: "AADSTS7000222: The provided client secret keys are expired.", error_codes: [7000222] },
  });
  const pending = Array.from({ length: 10 }, (_, i) => (i % 2 ? fleet.b : fleet.a).token({ scopes: [SCOPE] }));
  await sleep(500);
  release();
  const replies = await Promise.all(pending);
  assert.equal(endpoint.tokenRequests, 1, "the refusal was relayed, not asked for again by an isolate");
  const outcomes = new Set(replies.map((r) => `${r.status} ${r.json?.error}`));
  assert.equal(outcomes.size, 1, [...outcomes].join(", "));
  assert.notEqual(replies[0].status, 200);
});

/** Plants, under the fleet's KV key for SCOPE, a token sealed with CACHE_KEY `ageMs` ago. */
async function plantKvEntry(fleet, ageMs) {
  const now = Date.now();
  const accessToken = issueAccessToken({ tenant: LOCAL_APP.tenantId, clientId: LOCAL_APP.clientId, resource: "api://cctoken-demo", lifetimeSeconds: 3000, now });
  const kvKey = kvKeyFor(endpoint, LOCAL_APP.clientId, SCOPE);
  const entry = {
    access_token: accessToken,
    token_type: "Bearer",
    expires_on_ms: now + 3000_000,
    ext_expires_on_ms: now + 3000_000,
    refresh_on_ms: null,
    sealed_at_ms: now - ageMs,
  };
  await (await fleet.kv()).put(kvKey, await sealKvValue(entry, kvKey, CACHE_KEY));
  return accessToken;
}

test("in fleet mode KV answers for 30 s after sealing: a fresh entry is served as kv, an older one goes to the coordinator", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const fresh = await plantKvEntry(fleet, 1_000);
  const served = await fleet.a.token({ scopes: [SCOPE] });
  assert.equal(served.status, 200, served.summary);
  assert.deepEqual([served.json.cache, served.json.access_token === fresh], ["kv", true]);
  assert.equal(endpoint.tokenRequests, 0);

  const old = await plantKvEntry(fleet, 40_000);
  const fromB = await fleet.b.token({ scopes: [SCOPE] });
  assert.equal(fromB.status, 200, fromB.summary);
  assert.equal(fromB.json.cache, "coordinator", `an entry sealed 40 s ago is not trusted from KV (got ${fromB.json.cache})`);
  // Whatever the coordinator answered, the old entry was not taken as is by the isolate.
  assert.ok(fromB.json.access_token === old || endpoint.tokenRequests === 1, "the coordinator's token: the entry it vouches for, or the IdP's");
});

test("without the coordinator binding KV serves as before: an entry sealed 40 s ago is a kv hit", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint, coordinator: false });
  const old = await plantKvEntry(fleet, 40_000);
  for (const script of [fleet.a, fleet.b]) {
    const served = await script.token({ scopes: [SCOPE] });
    assert.equal(served.status, 200, served.summary);
    assert.deepEqual([served.json.cache, served.json.access_token === old], ["kv", true]);
  }
  assert.equal(endpoint.tokenRequests, 0);
});

test("one acquisition writes KV once (the coordinator, not the isolates); memory hits read no KV", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint, kvCounting: true });
  const first = await fleet.a.token({ scopes: [SCOPE] });
  assert.equal(first.json.cache, "coordinator", first.summary);
  const fromB = await fleet.b.token({ scopes: [SCOPE] });
  assert.equal(fromB.json.cache, "kv", fromB.summary);
  const warmed = fleet.kvCalls();
  t.diagnostic(`KV calls to warm both isolates: ${JSON.stringify(warmed)}`);
  assert.equal(warmed.put, 1, "the coordinator wrote the token once; the isolate that got it from the coordinator did not");
  const hits = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? fleet.b : fleet.a).token({ scopes: [SCOPE] })));
  assert.deepEqual(tally(hits.map((r) => r.json.cache)), { memory: 40 });
  assert.deepEqual(fleet.kvCalls(), warmed, "memory hits touch no KV");
  assert.equal(endpoint.tokenRequests, 1);
  // What KV holds opens to the served token.
  const kvKey = kvKeyFor(endpoint, LOCAL_APP.clientId, SCOPE);
  assert.ok(JSON.parse(await openKvValue(await (await fleet.kv()).get(kvKey), kvKey)).access_token === first.json.access_token, "KV holds the served token");
});
