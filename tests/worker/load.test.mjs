// Bounded load on the broker under workerd: 10,000 requests, 50 in flight, from 5 callers
// over 4 scope sets, straight to the Worker's loopback socket. Every request succeeds and
// the identity provider sees exactly one request per scope set.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { brokerClients, startBroker } from "./broker.mjs";

const SCOPES = ["api://load-a/.default", "api://load-b/.default", "api://load-c/.default", "api://load-d/.default"];
/** Five callers with overlapping grants, budgets far above this load. */
const CALLERS = Object.fromEntries(
  Array.from({ length: 5 }, (_, i) => [
    `caller-${i}`,
    { keys: [`load-key-${i}-${"x".repeat(24)}`], scopes: [SCOPES[i % 4], SCOPES[(i + 1) % 4]], ratePerMinute: 1_000_000 },
  ]),
);
const REQUESTS = 10_000;
const IN_FLIGHT = 50;

let endpoint;
let broker;
before(async () => {
  endpoint = await startTokenEndpoint();
  broker = await startBroker({ endpoint, app: LOCAL_APP, settings: { BROKER_CLIENTS: brokerClients(CALLERS) }, direct: true });
});
after(async () => {
  await broker?.dispose();
  await endpoint?.close();
});

test("10,000 requests at 50 in flight from 5 callers: no errors, one IdP request per scope set", { timeout: 240_000 }, async (t) => {
  const callers = Object.values(CALLERS);
  const tokens = new Map(); // scope → the one token every caller got for it
  const statuses = new Map();
  const tiers = new Map();
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < REQUESTS) {
      const i = next++;
      const caller = callers[i % callers.length];
      const scope = caller.scopes[Math.floor(i / callers.length) % caller.scopes.length];
      const response = await fetch(new URL("token", broker.directUrl), {
        method: "POST",
        headers: { authorization: `Bearer ${caller.keys[0]}`, "content-type": "application/json" },
        body: JSON.stringify({ scopes: [scope] }),
      });
      const body = await response.json();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status !== 200) continue;
      tiers.set(body.cache, (tiers.get(body.cache) ?? 0) + 1);
      if (!tokens.has(scope)) tokens.set(scope, body.access_token);
      else if (tokens.get(scope) !== body.access_token) assert.fail(`two tokens for ${scope}`);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`${REQUESTS} requests in ${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds)}/s); tiers ${JSON.stringify(Object.fromEntries(tiers))}`);
  assert.deepEqual(Object.fromEntries(statuses), { 200: REQUESTS });
  assert.equal(tokens.size, SCOPES.length);
  assert.equal(endpoint.tokenRequests, SCOPES.length, "exactly one IdP request per scope set");
  // Requests that arrived while a scope set's one fetch was in flight waited for it ("idp");
  // at most the requests in flight at the start can have done so.
  assert.ok((tiers.get("idp") ?? 0) <= IN_FLIGHT, "everything after the first fetches came from memory");
  assert.equal((tiers.get("idp") ?? 0) + (tiers.get("memory") ?? 0), REQUESTS);
});
