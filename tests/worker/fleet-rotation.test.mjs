// CACHE_KEY rotation with overlap (issue 15, goal 6): CACHE_KEY_PREVIOUS opens KV entries sealed
// before the rotation (served as "kv"); every write seals with CACHE_KEY. Entries are opened
// here with Node's WebCrypto, so the tests see which key sealed them.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { issueAccessToken } from "../token-endpoint/access-token.mjs";
import { NEW_CACHE_KEY, OLD_CACHE_KEY, SCOPE, kvKeyFor, openKvValue, sealKvValue, startFleet, withFleet } from "./fleet.mjs";

let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint();
});
after(() => endpoint?.close());
beforeEach(() => endpoint.reset());

const kvKey = () => kvKeyFor(endpoint, LOCAL_APP.clientId, SCOPE);
const ROTATED = { CACHE_KEY: NEW_CACHE_KEY, CACHE_KEY_PREVIOUS: OLD_CACHE_KEY };

async function kvDir(t) {
  const dir = await mkdtemp(join(tmpdir(), "cctoken-fleet-rotation-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Plants a token sealed with `cacheKey` just now (fresh: within fleet mode's 30 s). */
async function plant(fleet, cacheKey) {
  const now = Date.now();
  const accessToken = issueAccessToken({ tenant: LOCAL_APP.tenantId, clientId: LOCAL_APP.clientId, resource: "api://cctoken-demo", lifetimeSeconds: 3000, now });
  const entry = { access_token: accessToken, token_type: "Bearer", expires_on_ms: now + 3000_000, ext_expires_on_ms: now + 3000_000, refresh_on_ms: null, sealed_at_ms: now };
  await (await fleet.kv()).put(kvKey(), await sealKvValue(entry, kvKey(), cacheKey));
  return accessToken;
}

test("CACHE_KEY=new with CACHE_KEY_PREVIOUS=old serves an entry the old key sealed as kv; the next write seals with new", { timeout: 30_000 }, async (t) => {
  const dir = await kvDir(t);
  const before = await startFleet({ endpoint, coordinator: false, scripts: ["a"], settings: { CACHE_KEY: OLD_CACHE_KEY }, kvPersist: dir });
  let sealedOld;
  try {
    sealedOld = await before.a.token({ scopes: [SCOPE] });
    assert.equal(sealedOld.status, 200, sealedOld.summary);
    assert.equal(sealedOld.json.cache, "idp");
  } finally {
    await before.dispose();
  }
  const after = await withFleet(t, { endpoint, coordinator: false, settings: ROTATED, kvPersist: dir });
  const kv = await after.kv();
  const oldValue = await kv.get(kvKey());
  assert.ok(JSON.parse(await openKvValue(oldValue, kvKey(), OLD_CACHE_KEY)).access_token === sealedOld.json.access_token, "sealed with the old key");

  for (const script of [after.a, after.b]) {
    const served = await script.token({ scopes: [SCOPE] });
    assert.equal(served.status, 200, served.summary);
    assert.deepEqual([served.json.cache, served.json.access_token === sealedOld.json.access_token], ["kv", true], `through ${script.name}`);
  }
  assert.equal(endpoint.tokenRequests, 1);
  assert.ok(!after.logs().includes("KV read failed"), "the old entry opened without a failure");

  const forced = await after.b.token({ scopes: [SCOPE], forceRefresh: true });
  assert.equal(forced.status, 200, forced.summary);
  const newValue = await kv.get(kvKey());
  assert.ok(JSON.parse(await openKvValue(newValue, kvKey(), NEW_CACHE_KEY)).access_token === forced.json.access_token, "re-sealed with CACHE_KEY");
  await assert.rejects(openKvValue(newValue, kvKey(), OLD_CACHE_KEY), "not with the previous key");
});

test("with the coordinator bound, a fresh entry sealed with the previous key is served as kv", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint, settings: ROTATED });
  const planted = await plant(fleet, OLD_CACHE_KEY);
  for (const script of [fleet.a, fleet.b]) {
    const served = await script.token({ scopes: [SCOPE] });
    assert.equal(served.status, 200, served.summary);
    assert.deepEqual([served.json.cache, served.json.access_token === planted], ["kv", true], `through ${script.name}`);
  }
  assert.equal(endpoint.tokenRequests, 0);
});

test("without CACHE_KEY_PREVIOUS an entry the old key sealed is a miss, with or without the coordinator", { timeout: 30_000 }, async (t) => {
  for (const coordinator of [false, true]) {
    endpoint.reset();
    const fleet = await startFleet({ endpoint, coordinator, settings: { CACHE_KEY: NEW_CACHE_KEY } });
    try {
      const planted = await plant(fleet, OLD_CACHE_KEY);
      const served = await fleet.a.token({ scopes: [SCOPE] });
      assert.equal(served.status, 200, served.summary);
      assert.equal(served.json.cache, coordinator ? "coordinator" : "idp", `coordinator ${coordinator}`);
      assert.ok(served.json.access_token !== planted, "not the entry the old key sealed");
      assert.equal(endpoint.tokenRequests, 1);
      const rewritten = await (await fleet.kv()).get(kvKey());
      assert.ok(JSON.parse(await openKvValue(rewritten, kvKey(), NEW_CACHE_KEY)).access_token === served.json.access_token, "rewritten with the new key");
    } finally {
      await fleet.dispose();
    }
  }
});
