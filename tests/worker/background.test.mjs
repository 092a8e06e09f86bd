// Which request's waitUntil keeps a background refresh alive? An isolate serves requests
// concurrently; the refresh must belong to the request that started it, not to whichever
// request arrived last. The broker logs the cf-ray of the request a background fetch is handed
// to, so the test can see the owner: request A starts the refresh while requests B1..B3, which
// arrived after A and start nothing, have come and gone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { CALLERS, JOBS_KEY, REPORTS_SCOPE, SCOPE, brokerClients, kvKeyFor, openKvValue, startBroker } from "./broker.mjs";

const HANDED = /token fetch in the background of request ([\w()-]+(?: cf-ray\))?)/g;
let endpoint;
let broker;

before(async () => {
  endpoint = await startTokenEndpoint();
  const clients = brokerClients({ ...CALLERS, reports: { ...CALLERS.reports, ratePerMinute: 600 } });
  broker = await startBroker({ endpoint, app: LOCAL_APP, settings: { BROKER_CLIENTS: clients }, captureLogs: true });
});
after(async () => {
  await broker?.dispose();
  await endpoint?.close();
});

/** The requests background fetches were handed to, in the order logged. */
const owners = () => [...broker.logs().matchAll(HANDED)].map((match) => match[1]);

async function waitFor(condition, what, ms = 5000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) assert.fail(`${what}; the Worker logged:\n${broker.logs()}`);
    await sleep(10);
  }
}

test("a background refresh belongs to the request that started it, not the last to arrive", async () => {
  const json = (scopes, ray, key = JOBS_KEY) => ({
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "cf-ray": ray },
    body: JSON.stringify({ scopes }),
  });
  // A token due for refresh after 1 s (refresh_in), and one for another scope that is not.
  endpoint.settings.refreshInSeconds = 1;
  const first = await broker.request("/token", json([SCOPE], "warm-jobs"));
  // The broker sent its request before this answer arrived, so the refresh point is at most
  // 1 s from now: waiting past it holds however slowly the request went.
  const answeredAt = Date.now();
  assert.equal(first.json.cache, "idp", first.text);
  endpoint.settings.refreshInSeconds = undefined;
  const reportsKey = CALLERS.reports.keys[0];
  assert.equal((await broker.request("/token", json([REPORTS_SCOPE], "warm-reports", reportsKey))).json.cache, "idp");
  await waitFor(() => owners().length === 2, "both cold fetches logged");
  assert.deepEqual(owners(), ["warm-jobs", "warm-reports"], "cf-ray reaches the Worker and names the fetching request");
  await sleep(answeredAt + 1000 + 20 - Date.now());

  // A: its body arrives in two parts; the second only once B1..B3 have been served.
  let release;
  const released = new Promise((resolve) => (release = resolve));
  const body = JSON.stringify({ scopes: [SCOPE] });
  const parts = [body.slice(0, 5), body.slice(5)];
  const stream = new ReadableStream({
    async pull(controller) {
      const part = parts.shift();
      if (part === undefined) return controller.close();
      if (parts.length === 0) await released;
      controller.enqueue(new TextEncoder().encode(part));
    },
  });
  const a = broker.mf.dispatchFetch("http://broker.local/token", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${JOBS_KEY}`, "cf-ray": "ray-A" },
    body: stream,
    duplex: "half",
  });
  for (const ray of ["ray-B1", "ray-B2", "ray-B3"]) {
    const b = await broker.request("/token", json([REPORTS_SCOPE], ray, reportsKey));
    assert.equal(b.json.cache, "memory", `${ray}: served from memory, nothing to refresh`);
  }
  release();
  const served = await (await a).json();
  assert.equal(served.cache, "memory", "A is served the cached token and starts the refresh");
  assert.equal(served.access_token, first.json.access_token);

  await waitFor(() => endpoint.tokenRequests === 3, "the refresh reached the identity provider");
  await waitFor(() => owners().length === 3, "the refresh's hand-over logged");
  assert.deepEqual(owners(), ["warm-jobs", "warm-reports", "ray-A"], "the refresh runs under A's waitUntil");
  const refreshed = await broker.request("/token", json([SCOPE], "after"));
  assert.equal(refreshed.json.cache, "memory");
  assert.notEqual(refreshed.json.access_token, first.json.access_token, "the refresh completed");
  // It completed under A's waitUntil after A's response: the new token also reached KV, and
  // no failure was reported.
  const kvKey = kvKeyFor(endpoint, LOCAL_APP.clientId, SCOPE);
  const kv = await broker.kv();
  const stored = async () => JSON.parse(await openKvValue(await kv.get(kvKey), kvKey)).access_token;
  let inKv;
  for (let i = 0; i < 200 && (inKv = await stored()) !== refreshed.json.access_token; i += 1) await sleep(10);
  assert.equal(inKv, refreshed.json.access_token, "the refreshed token was written to KV");
  assert.doesNotMatch(broker.logs(), /background refresh started by request .* failed|KV write failed/);
  assert.equal(endpoint.tokenRequests, 3);
});
