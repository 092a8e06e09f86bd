// Degrades, never fails closed on coordination (issue 15, goal 8): without the COORDINATOR
// binding (an older deployment), or with one whose every call throws, the broker answers as
// before (per-isolate single-flight, KV, local budgets) and /healthz says fleet coordination
// is off. A coordinator failure is logged, never shown to callers while the IdP answers.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FLEET_CALLERS, SCOPE, WRONG_KEY, bearer, sleep, tally, withFleet } from "./fleet.mjs";

let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint();
});
after(() => endpoint?.close());
beforeEach(() => endpoint.reset());

async function assertCoordination(fleet, expected) {
  for (const script of [fleet.a, fleet.b]) {
    const health = await script.healthz();
    assert.equal(health.status, 200, health.summary);
    assert.equal(health.json.configured, true);
    if (expected === "on") assert.equal(health.json.coordination, "on", `${script.name}: ${health.summary}`);
    else assert.match(String(health.json.coordination), /^off/, `${script.name}: ${health.summary}`);
  }
}

test("with the coordinator bound, /healthz says coordination is on, before and after requests", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  await assertCoordination(fleet, "on");
  for (const script of [fleet.a, fleet.b]) assert.equal((await script.token({ scopes: [SCOPE] })).status, 200);
  await assertCoordination(fleet, "on");
});

test("no COORDINATOR binding: tokens from the IdP, KV and memory as before; /healthz coordination off", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint, coordinator: false });
  await assertCoordination(fleet, "off");
  // The IdP's answer held until all ten wait for it: they share the isolate's one flight.
  let release;
  endpoint.failNext({ token: {}, until: new Promise((resolve) => (release = resolve)) });
  const pending = Array.from({ length: 10 }, () => fleet.a.token({ scopes: [SCOPE] }));
  await sleep(500);
  release();
  const burst = await Promise.all(pending);
  assert.deepEqual(tally(burst.map((r) => `${r.status}:${r.json?.cache}`)), { "200:idp": 10 }, "one isolate's single flight, each waiting on the IdP");
  assert.equal(endpoint.tokenRequests, 1);
  const fromB = [await fleet.b.token({ scopes: [SCOPE] }), await fleet.b.token({ scopes: [SCOPE] })];
  assert.deepEqual(fromB.map((r) => r.json.cache), ["kv", "memory"]);
  assert.equal(new Set([...burst, ...fromB].map((r) => r.json.access_token)).size, 1);
  assert.equal(endpoint.tokenRequests, 1);
  const forced = await fleet.b.token({ scopes: [SCOPE], forceRefresh: true });
  assert.deepEqual([forced.status, forced.json.cache], [200, "idp"]);
  assert.ok(!/panicked|RuntimeError|unreachable/.test(fleet.logs()), "no crash logged");
});

test("a COORDINATOR whose calls throw: requests succeed through the IdP, budgets and throttling hold per isolate, /healthz says off", { timeout: 30_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint, coordinator: "broken" });
  const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? fleet.b : fleet.a).token({ scopes: [SCOPE] })));
  assert.deepEqual(tally(burst.map((r) => r.status)), { 200: 10 }, burst.find((r) => r.status !== 200)?.summary);
  for (const reply of burst) assert.ok(["idp", "kv", "memory"].includes(reply.json.cache), `through ${reply.script}: ${reply.json.cache}`);
  assert.ok(endpoint.tokenRequests >= 1 && endpoint.tokenRequests <= 2, `${endpoint.tokenRequests} IdP requests: at most one per isolate`);
  assert.ok(!burst.some((r) => /coordinat/i.test(r.text)), "the coordinator's failure is not shown to callers");
  await fleet.logMatching(/coordinat|durable object/i);
  await assertCoordination(fleet, "off");

  // Budgets fall back to each isolate's own ledger: still answered, still bounded.
  const metered = [];
  for (let i = 0; i < 15; i += 1) metered.push(await fleet.a.token({ scopes: [SCOPE] }, bearer("fleet-metered")));
  const ok = metered.filter((r) => r.status === 200).length;
  assert.ok(ok >= 1 && ok <= FLEET_CALLERS["fleet-metered"].ratePerMinute + 1, `${ok} of 15 answered at 10/min`);
  for (const refused of metered.filter((r) => r.status !== 200)) {
    assert.equal(refused.status, 429, refused.summary);
    assert.match(refused.headers.get("retry-after") ?? "", /^\d+$/);
  }
  // Wrong keys: still 401, and from the 10th failure 429 (this isolate's own count).
  const guesses = [];
  for (let i = 0; i < 12; i += 1) guesses.push((await fleet.b.token({ scopes: [SCOPE] }, { authorization: `Bearer ${WRONG_KEY}` })).status);
  assert.deepEqual(guesses, [...Array(9).fill(401), 429, 429, 429]);
  // A forced refresh still reaches the IdP.
  const before = endpoint.tokenRequests;
  const forced = await fleet.a.token({ scopes: [SCOPE], forceRefresh: true });
  assert.deepEqual([forced.status, forced.json.cache], [200, "idp"], forced.summary);
  assert.equal(endpoint.tokenRequests, before + 1);
  await sleep(100);
  assert.ok(!/panicked|RuntimeError|unreachable/.test(fleet.logs()), "no crash logged");
});

test("a COORDINATOR that never answers: the first request waits out the deadlines, then the IdP answers; later ones do not wait", { timeout: 40_000 }, async (t) => {
  // Every object hangs: the caller's budget object (5 s), then the token object, which with
  // ATTEMPT_TIMEOUT_MS 1000 gets one attempt's timeout + 5 s = 6 s.
  const fleet = await withFleet(t, { endpoint, coordinator: "hanging", settings: { ATTEMPT_TIMEOUT_MS: "1000" } });
  let started = Date.now();
  const first = await fleet.a.token({ scopes: [SCOPE] });
  const firstMs = Date.now() - started;
  assert.deepEqual([first.status, first.json.cache], [200, "idp"], first.summary);
  assert.ok(firstMs >= 10_500 && firstMs < 20_000, `answered after ${firstMs} ms: the two deadlines, then the IdP`);
  // The isolate now decides on its own for 30 s: a forced refresh goes straight to the IdP.
  started = Date.now();
  const forced = await fleet.a.token({ scopes: [SCOPE], forceRefresh: true });
  const forcedMs = Date.now() - started;
  assert.deepEqual([forced.status, forced.json.cache], [200, "idp"], forced.summary);
  assert.ok(forcedMs < 3_000, `the forced refresh took ${forcedMs} ms: the hung object was not asked again`);
  assert.equal(endpoint.tokenRequests, 2);
  await fleet.logMatching(/no answer within 6000 ms/);
  const health = await fleet.a.healthz();
  assert.match(health.json.coordination, /^off: a call to a token and a caller object failed/);
});
