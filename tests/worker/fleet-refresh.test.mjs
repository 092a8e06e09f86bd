// A forced refresh reaches the fleet (issue 15, goal 3): after `forceRefresh` through script a
// completes, script b, which holds the replaced token in its memory, serves the new one within
// 60 s (the design: b revalidates its copy with the coordinator 30 s after it was vouched for,
// and never serves it past 55 s).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTokenEndpoint } from "../token-endpoint/server.mjs";
import { SCOPE, sleep, withFleet } from "./fleet.mjs";

const BOUND_MS = 60_000;
let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint();
});
after(() => endpoint?.close());

test("a forced refresh through a: b serves the new token within 60 s, and never the old one after", { timeout: 65_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const first = await fleet.a.token({ scopes: [SCOPE] });
  assert.equal(first.status, 200, first.summary);
  const replaced = first.json.access_token;
  // b holds the token in memory.
  assert.ok((await fleet.b.token({ scopes: [SCOPE] })).json.access_token === replaced, "b got the same token");
  const inMemory = await fleet.b.token({ scopes: [SCOPE] });
  assert.deepEqual([inMemory.json.cache, inMemory.json.access_token === replaced], ["memory", true]);

  const forced = await fleet.a.token({ scopes: [SCOPE], forceRefresh: true });
  const forcedAt = Date.now();
  assert.equal(forced.status, 200, forced.summary);
  const renewed = forced.json.access_token;
  assert.ok(renewed !== replaced, "a new token");
  assert.equal(endpoint.tokenRequests, 2);
  assert.ok((await fleet.a.token({ scopes: [SCOPE] })).json.access_token === renewed, "a serves the new token at once");

  let reachedAfter;
  const seen = [];
  while (Date.now() - forcedAt < BOUND_MS) {
    const reply = await fleet.b.token({ scopes: [SCOPE] });
    assert.equal(reply.status, 200, reply.summary);
    seen.push(`${Math.round((Date.now() - forcedAt) / 1000)}s:${reply.json.cache}:${reply.json.access_token === renewed ? "new" : reply.json.access_token === replaced ? "old" : "other"}`);
    if (reply.json.access_token === renewed) {
      reachedAfter ??= Date.now() - forcedAt;
    } else {
      assert.ok(reply.json.access_token === replaced, "only the old or the new token");
      assert.equal(reachedAfter, undefined, "never the old token again once the new one was served");
    }
    if (reachedAfter !== undefined && Date.now() - forcedAt > reachedAfter + 3000) break;
    await sleep(1000);
  }
  t.diagnostic(`b served the new token ${reachedAfter} ms after the forced refresh: ${seen.join(" ")}`);
  assert.ok(reachedAfter !== undefined && reachedAfter <= BOUND_MS, `b still served the replaced token ${BOUND_MS} ms after the forced refresh`);
  assert.equal(endpoint.tokenRequests, 2, "revalidation goes to the coordinator, not the IdP");
});
