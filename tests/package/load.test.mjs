// Bounded load on the npm module against the local endpoint: a million cache hits and ten
// thousand cold acquires over 200 scope sets leave the heap (JS and wasm) where the cache
// bound says it should be. Node only: it needs a forced garbage collection.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");

const SCOPE_SETS = Array.from({ length: 200 }, (_, i) => [`api://load-${i}/.default`]);
const MAX_CACHE_ENTRIES = 50;

// The glue the package loaded, asked again for its instance: its linear memory is the wasm heap.
const packageDir = new URL("../../node_modules/cctoken/", import.meta.url);
const { initSync } = await import(new URL("dist/web/cctoken.js", packageDir));
const wasmMemory = initSync().memory;

/** Heap in use after a full collection: JS objects, and the wasm linear memory's size. */
async function settledMemory() {
  for (let i = 0; i < 3; i += 1) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { heapUsed: process.memoryUsage().heapUsed, wasm: wasmMemory.buffer.byteLength };
}

/** Runs `count` calls of `call(i)` with `concurrency` in flight. */
async function run(count, concurrency, call) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await call(next++);
  }));
}

let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint();
});
after(() => endpoint.close());

test("1,000,000 hits and 10,000 cold acquires over 200 scope sets: heap stays within the cache bound", { timeout: 180_000 }, async (t) => {
  const client = new ConfidentialClient({
    clientId: LOCAL_APP.clientId,
    authority: endpoint.authority,
    credential: { clientSecret: LOCAL_APP.clientSecret },
    maxCacheEntries: MAX_CACHE_ENTRIES,
  });
  // Warm-up: every scope set once, twice over, so JIT code, pools and maps reach their size.
  for (let round = 0; round < 2; round += 1) {
    await run(SCOPE_SETS.length, 10, (i) => client.acquireTokenForClient({ scopes: SCOPE_SETS[i], forceRefresh: true }));
  }
  const hot = SCOPE_SETS.slice(0, 10);
  for (const scopes of hot) await client.acquireTokenForClient({ scopes }); // back into the LRU
  endpoint.reset();
  const before = await settledMemory();

  for (let i = 0; i < 1_000_000; i += 1) {
    const result = await client.acquireTokenForClient({ scopes: hot[i % hot.length] });
    if (!result.fromCache) assert.fail(`hit ${i} went to the identity provider`);
  }
  assert.equal(endpoint.tokenRequests, 0, "a million hits, no request");

  // One process-wide signal, as a daemon's shutdown switch would be, on every call.
  const shutdown = new AbortController();
  let failures = 0;
  await run(10_000, 20, (i) =>
    client.acquireTokenForClient({ scopes: SCOPE_SETS[i % SCOPE_SETS.length], forceRefresh: true, abortSignal: shutdown.signal }).catch(() => {
      failures += 1;
    }));
  assert.equal(failures, 0);
  assert.equal(endpoint.tokenRequests, 10_000, "every forced acquire is one request");
  assert.equal(getEventListeners(shutdown.signal, "abort").length, 0, "finished calls leave no listener on the signal");
  endpoint.reset(); // the endpoint's own request log is not the client's memory

  const afterLoad = await settledMemory();
  const grownHeap = afterLoad.heapUsed - before.heapUsed;
  const grownWasm = afterLoad.wasm - before.wasm;
  t.diagnostic(`JS heap grew by ${grownHeap} bytes, wasm memory by ${grownWasm} bytes`);
  // 50 cached tokens of ~1.3 KB plus 200 fast-path entries are well under a megabyte; a leak
  // of even 100 bytes per call would be 100 MB here.
  assert.ok(grownHeap < 4 * 1024 * 1024, `JS heap grew by ${grownHeap} bytes`);
  assert.ok(grownWasm <= 256 * 1024, `wasm memory grew by ${grownWasm} bytes`);
  assert.equal(JSON.parse(client.serializeCache()).tokens.length, MAX_CACHE_ENTRIES);
});
