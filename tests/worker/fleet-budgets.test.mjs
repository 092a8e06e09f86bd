// Fleet-wide budgets (issue 15, goal 4): a caller's ratePerMinute and forceRefreshPerMinute
// hold across both Worker scripts (isolates), not per isolate. The design's slack: never more
// than the bucket allows fleet-wide (capacity per minute, refilled at rate / 60 s); so the 200s
// counted here are at most the capacity plus whole tokens refilled while the test ran.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FLEET_CALLERS, SCOPE, bearer, tally, withFleet } from "./fleet.mjs";

let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint();
});
after(() => endpoint?.close());
beforeEach(() => endpoint.reset());

const RATE = FLEET_CALLERS["fleet-metered"].ratePerMinute;
const metered = bearer("fleet-metered");
/** Whole tokens a bucket of `perMinute` refills in `ms`. */
const refilled = (perMinute, ms) => Math.floor((ms * perMinute) / 60_000);

function assertSlowDown(response, what) {
  assert.equal(response.status, 429, `${what}: ${response.summary}`);
  assert.equal(response.json?.error, "slow_down", what);
  assert.match(response.headers.get("retry-after") ?? "", /^[1-9]\d*$/, `${what}: Retry-After in whole seconds`);
  assert.ok(Number(response.headers.get("retry-after")) <= 60, `${what}: Retry-After within the minute`);
}

test(`ratePerMinute ${RATE} spread across both scripts: ${RATE} (+ refill) answers of 200, the rest 429 with Retry-After`, { timeout: 30_000 }, async (t) => {
  assert.equal(RATE, 10);
  const fleet = await withFleet(t, { endpoint });
  const started = Date.now();
  const replies = [];
  for (let i = 0; i < 40; i += 1) replies.push(await (i % 2 ? fleet.b : fleet.a).token({ scopes: [SCOPE] }, metered));
  const elapsed = Date.now() - started;
  const ok = replies.filter((r) => r.status === 200);
  t.diagnostic(`${elapsed} ms; ${JSON.stringify(tally(replies.map((r) => `${r.script}:${r.status}`)))}`);
  assert.ok(ok.length <= RATE + refilled(RATE, elapsed), `${ok.length} answers of 200 in ${elapsed} ms: more than the fleet's bucket`);
  assert.ok(ok.length >= RATE, `${ok.length} answers of 200: both isolates kept asking, so every granted slice was used`);
  for (const refused of replies.filter((r) => r.status !== 200)) assertSlowDown(refused, `request to ${refused.script}`);
  assert.equal(endpoint.tokenRequests, 1);
  // Another caller's budget is its own.
  for (const script of [fleet.a, fleet.b]) assert.equal((await script.token({ scopes: [SCOPE] })).status, 200);
});

test("a budget spent through one script leaves none for a fresh isolate", { timeout: 30_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const started = Date.now();
  let okA = 0;
  for (let i = 0; i < RATE + 10; i += 1) {
    const reply = await fleet.a.token({ scopes: [SCOPE] }, metered);
    if (reply.status !== 200) {
      assertSlowDown(reply, `a, request ${i + 1}`);
      break;
    }
    okA += 1;
  }
  // b has not answered this caller yet: a new isolate (as after a recycle) gets no fresh bucket.
  const fromB = [];
  for (let i = 0; i < 5; i += 1) fromB.push(await fleet.b.token({ scopes: [SCOPE] }, metered));
  const elapsed = Date.now() - started;
  const okB = fromB.filter((r) => r.status === 200).length;
  assert.ok(okA >= RATE && okA + okB <= RATE + refilled(RATE, elapsed), `a answered ${okA}, then b ${okB} in ${elapsed} ms`);
  for (const refused of fromB.filter((r) => r.status !== 200)) assertSlowDown(refused, "b");
});

test("forceRefreshPerMinute 2 across both scripts: two forced refreshes, then 429; plain requests still served", { timeout: 30_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const forcer = bearer("fleet-forcer");
  const warm = await fleet.a.token({ scopes: [SCOPE] }, forcer);
  assert.equal(warm.status, 200, warm.summary);
  const forced = [];
  for (const script of [fleet.a, fleet.b, fleet.a, fleet.b, fleet.b]) forced.push(await script.token({ scopes: [SCOPE], forceRefresh: true }, forcer));
  assert.deepEqual(forced.map((r) => r.status), [200, 200, 429, 429, 429], forced.map((r) => r.summary).join("\n"));
  for (const refused of forced.slice(2)) assertSlowDown(refused, `forced refresh through ${refused.script}`);
  assert.equal(endpoint.tokenRequests, 3, "the first token and two forced refreshes");
  const tokens = [warm, ...forced.slice(0, 2)].map((r) => r.json.access_token);
  assert.equal(new Set(tokens).size, 3, "each forced refresh got a new token");
  // Not forced: served, and the newest token.
  for (const script of [fleet.a, fleet.b]) {
    const plain = await script.token({ scopes: [SCOPE] }, forcer);
    assert.equal(plain.status, 200, plain.summary);
  }
});
