// Always-warm tokens (issue 15, goal 2): the scope set's coordinator refreshes its token from an
// alarm before the token's refresh point, so after the first acquisition no caller waits on the
// identity provider. The endpoint issues tokens for 360 s with `refresh_in` 20 s; the alarm's
// IdP request is held for 4 s, and every request answered meanwhile shows nobody waited for it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { CACHE_KEY, SCOPE, kvKeyFor, sealKvValue, sleep, tally, withFleet } from "./fleet.mjs";

const REFRESH_IN_S = 20;
const RUN_MS = 50_000;
const HOLD_MS = 4000;
let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint({ tokenLifetimeSeconds: 360, refreshInSeconds: REFRESH_IN_S });
});
after(() => endpoint?.close());

test("the coordinator's alarm refreshes before refresh_in; over the next 30 s and more, no caller waits on the IdP", { timeout: 60_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const first = await fleet.a.token({ scopes: [SCOPE] });
  assert.equal(first.status, 200, first.summary);
  const t0 = endpoint.requests[0].at;
  const firstToken = first.json.access_token;

  // The alarm's IdP request is held HOLD_MS: a caller waiting on it would be answered only after.
  let release;
  endpoint.failNext({ token: { expires_in: 360, ext_expires_in: 360, refresh_in: REFRESH_IN_S }, until: new Promise((resolve) => (release = resolve)) });
  let heldAt;
  let releasedAt;

  const replies = [];
  while (Date.now() - t0 < RUN_MS) {
    if (heldAt === undefined && endpoint.tokenRequests >= 2) {
      heldAt = Date.now();
      setTimeout(() => {
        releasedAt = Date.now();
        release();
      }, HOLD_MS);
    }
    const sentAt = Date.now();
    const both = await Promise.all([fleet.a.token({ scopes: [SCOPE] }), fleet.b.token({ scopes: [SCOPE] })]);
    for (const reply of both) replies.push({ ...reply, sentAt, doneAt: Date.now() });
    await sleep(500);
  }
  const ats = endpoint.requests.map((r) => r.at - t0);
  t.diagnostic(`IdP requests at ${ats.map((ms) => (ms / 1000).toFixed(1)).join(", ")} s; held ${heldAt - t0}..${releasedAt - t0} ms; tiers ${JSON.stringify(tally(replies.map((r) => `${r.script}:${r.json?.cache}`)))}`);

  assert.deepEqual(tally(replies.map((r) => r.status)), { 200: replies.length });
  assert.ok(!replies.some((r) => r.json.cache === "idp"), "no caller's answer came from the IdP");
  // The refresh came from the alarm, before the first token's refresh point, not much earlier.
  assert.ok(heldAt !== undefined, "the coordinator refreshed the token at all");
  assert.ok(ats[1] >= 10_000 && ats[1] < REFRESH_IN_S * 1000, `the first refresh at ${ats[1]} ms, refresh_in ${REFRESH_IN_S} s`);
  // Requests sent while the refresh was held were answered before it was released.
  const duringHold = replies.filter((r) => r.sentAt >= heldAt && r.sentAt < releasedAt - 1000);
  assert.ok(duringHold.length >= 4, `${duringHold.length} requests sent while the IdP was held`);
  for (const r of duringHold) {
    assert.ok(r.doneAt < releasedAt, `a request to ${r.script} sent ${r.sentAt - t0} ms in waited for the held IdP request (answered ${r.doneAt - t0} ms in)`);
    assert.ok(r.json.access_token === firstToken, "the current token was served meanwhile");
  }
  // The next refresh comes the same way, REFRESH_IN_S after the refreshed token arrived.
  assert.ok(ats.length >= 3, `IdP requests at ${ats.join(", ")} ms: the refreshed token was refreshed again`);
  assert.ok(ats[2] - (releasedAt - t0) >= 10_000 && ats[2] - (releasedAt - t0) < REFRESH_IN_S * 1000, `the second refresh ${ats[2] - (releasedAt - t0)} ms after the first one's token arrived`);
  assert.ok(ats.length <= 4, `IdP requests at ${ats.join(", ")} ms: about one per ${REFRESH_IN_S} s`);
  // Both isolates moved on to the refreshed token.
  const renewed = replies.filter((r) => r.sentAt > releasedAt + 10_000);
  assert.ok(renewed.length > 0 && renewed.every((r) => r.json.access_token !== firstToken), "10 s after the refresh, nobody serves the first token");
});

test("a failed alarm refresh is retried by the alarm (5 s later) with nobody asking: the token stays warm", { timeout: 50_000 }, async (t) => {
  endpoint.reset();
  const fleet = await withFleet(t, { endpoint, scripts: ["a", "b", "c"] });
  const first = await fleet.a.token({ scopes: [SCOPE] });
  assert.equal(first.status, 200, first.summary);
  const t0 = endpoint.requests[0].at;
  // The IdP is down until the alarm's refresh (≈18 s, with the client's retries) has failed.
  endpoint.failAll({ status: 503, body: "" });
  // Callers ask before the refresh point, then nobody does: only the alarm can ask the IdP.
  for (let i = 0; i < 5; i += 1) {
    await sleep(2000);
    for (const reply of await Promise.all([fleet.a.token({ scopes: [SCOPE] }), fleet.b.token({ scopes: [SCOPE] })])) {
      assert.deepEqual([reply.status, reply.json.access_token === first.json.access_token], [200, true]);
    }
  }
  while (!endpoint.requests.some((r) => r.status === 503) && Date.now() - t0 < 20_000) await sleep(100);
  assert.ok(endpoint.requests.some((r) => r.status === 503), "the alarm asked the IdP before the refresh point");
  // Let the failed refresh finish (the client's own retries), then the IdP is back.
  await sleep(2500);
  endpoint.recover();
  const recoveredAt = Date.now();
  while (!endpoint.requests.some((r) => r.at >= recoveredAt) && Date.now() - recoveredAt < 15_000) await sleep(200);
  const idp = endpoint.requests.map((r) => `${((r.at - t0) / 1000).toFixed(1)}s:${r.status}`);
  t.diagnostic(`IdP requests ${idp.join(" ")}; recovered ${((recoveredAt - t0) / 1000).toFixed(1)} s`);
  const retried = endpoint.requests.find((r) => r.at >= recoveredAt);
  assert.ok(retried !== undefined, `no retry within 15 s of the IdP's recovery (design: 5 s after a failure, then 10 s, …): ${idp.join(" ")}`);
  assert.equal(retried.status, 200);
  // Nobody waits on the IdP: b still holds the old token (served until it revalidates its copy,
  // 30 s after the coordinator vouched for it); c, an isolate that never asked, gets the
  // refreshed token from KV.
  await sleep(500);
  const b = await fleet.b.token({ scopes: [SCOPE] });
  assert.equal(b.status, 200, b.summary);
  assert.notEqual(b.json.cache, "idp");
  const c = await fleet.c.token({ scopes: [SCOPE] });
  assert.equal(c.status, 200, c.summary);
  assert.deepEqual([c.json.cache, c.json.access_token === retried.accessToken], ["kv", true], "a fresh isolate gets the refreshed token from KV");
});

test("a token the coordinator first found in KV (an entry from before the fleet) is kept warm too", { timeout: 40_000 }, async (t) => {
  endpoint.reset();
  const fleet = await withFleet(t, { endpoint });
  const plantedAt = Date.now();
  // Sealed as the broker sealed entries before the fleet: without sealed_at_ms, so isolates
  // leave it to the coordinator, whose own client takes it from KV.
  const entry = { access_token: "planted-before-the-fleet", token_type: "Bearer", expires_on_ms: plantedAt + 360_000, ext_expires_on_ms: plantedAt + 360_000, refresh_on_ms: plantedAt + REFRESH_IN_S * 1000 };
  const kvKey = kvKeyFor(endpoint, LOCAL_APP.clientId, SCOPE);
  await (await fleet.kv()).put(kvKey, await sealKvValue(entry, kvKey, CACHE_KEY));

  const first = await fleet.a.token({ scopes: [SCOPE] });
  assert.equal(first.status, 200, first.summary);
  assert.deepEqual([first.json.cache, first.json.access_token === entry.access_token], ["coordinator", true]);
  assert.equal(endpoint.tokenRequests, 0, "nobody asked the IdP");

  // The coordinator adopted the token: its alarm refreshes it before the refresh point.
  while (endpoint.tokenRequests === 0 && Date.now() - plantedAt < REFRESH_IN_S * 1000 + 5000) await sleep(200);
  const at = endpoint.requests[0]?.at - plantedAt;
  t.diagnostic(`the first IdP request ${at} ms after the entry was planted`);
  assert.ok(endpoint.tokenRequests >= 1, "the alarm refreshed the token");
  assert.ok(at >= 10_000 && at < REFRESH_IN_S * 1000, `refreshed at ${at} ms, before the refresh point (${REFRESH_IN_S} s)`);
});
