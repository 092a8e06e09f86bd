// Measure 7: the broker under local workerd (Miniflare), driven over loopback HTTP with a
// fixed request count: memory hits, KV hits (first request of fresh isolates sharing KV),
// IdP misses (forceRefresh).
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_APP, startTokenEndpoint } from "../tests/token-endpoint/server.mjs";
import { JOBS_KEY, SCOPE, brokerClients, startBroker } from "../tests/worker/broker.mjs";

// A caller whose budget the fixed load stays under.
const settings = { BROKER_CLIENTS: brokerClients({ jobs: { keys: [JOBS_KEY], scopes: [SCOPE], ratePerMinute: 1_000_000, forceRefreshPerMinute: 1_000_000 } }) };

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

// node:http with keep-alive rather than fetch: undici's fetch adds ~0.1–0.2 ms of its own per
// request, which is the client's cost, not the broker's.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function send(url, method, path, payload) {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const headers = payload === undefined ? {} : { authorization: `Bearer ${JOBS_KEY}`, "content-type": "application/json", "content-length": Buffer.byteLength(payload) };
    const request = http.request({ host: target.hostname, port: target.port, method, path: target.pathname, agent, headers }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(payload);
  });
}

async function post(url, body) {
  const started = performance.now();
  const json = JSON.parse(await send(url, "POST", "token", JSON.stringify(body)));
  return { ms: performance.now() - started, cache: json.cache };
}

/** Runs `count` requests with `concurrency` in flight; returns latencies and requests/s. */
async function load(url, body, count, concurrency, expectCache) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next += 1;
      const { ms, cache } = await post(url, body);
      if (cache !== expectCache) throw new Error(`expected ${expectCache}, got ${cache}`);
      latencies.push(ms);
    }
  }));
  return { latencies, rps: count / ((performance.now() - started) / 1000) };
}

export async function measureBroker() {
  const endpoint = await startTokenEndpoint();
  const kvPersist = await mkdtemp(join(tmpdir(), "cctoken-bench-kv-"));
  const broker = await startBroker({ endpoint, app: LOCAL_APP, kvPersist, port: 0, settings, direct: true });
  try {
    // Straight to workerd's socket for the Worker: Miniflare's entry worker (logging, pretty
    // errors) in front would add its own hop to every figure.
    const url = broker.directUrl.href;
    await post(url, { scopes: [SCOPE] });
    await load(url, { scopes: [SCOPE] }, 500, 1, "memory"); // warm-up: JIT, connection
    const memoryAlone = await load(url, { scopes: [SCOPE] }, 2000, 1, "memory");
    // The transport's own floor: the same client, a GET the Worker answers without work.
    const floor = [];
    for (let i = 0; i < 1000; i += 1) {
      const started = performance.now();
      await send(url, "GET", "healthz");
      floor.push(performance.now() - started);
    }
    const memory = await load(url, { scopes: [SCOPE] }, 2000, 10, "memory");
    const idp = await load(url, { scopes: [SCOPE], forceRefresh: true }, 200, 1, "idp");
    const kv = [];
    for (let i = 0; i < 10; i += 1) {
      const fresh = await startBroker({ endpoint, app: LOCAL_APP, kvPersist, port: 0, settings, direct: true });
      await fetch(`${fresh.directUrl.href}healthz`).then((r) => r.text());
      const { ms, cache } = await post(fresh.directUrl.href, { scopes: [SCOPE] });
      await fresh.dispose();
      if (cache !== "kv") throw new Error(`expected kv, got ${cache}`);
      kv.push(ms);
    }
    const fmt = (xs) => `p50 ${percentile(xs, 0.5).toFixed(2)} / p99 ${percentile(xs, 0.99).toFixed(2)} ms`;
    return {
      memoryAlone: `${Math.round(memoryAlone.rps)} req/s one at a time, ${fmt(memoryAlone.latencies)}`,
      memoryAloneP50: percentile(memoryAlone.latencies, 0.5),
      floorP50: percentile(floor, 0.5),
      memory: `${Math.round(memory.rps)} req/s at 10 in flight, ${fmt(memory.latencies)}`,
      kv: `${fmt(kv)} (first request of a fresh isolate, n=10)`,
      idp: `${Math.round(idp.rps)} req/s one at a time, ${fmt(idp.latencies)}`,
    };
  } finally {
    agent.destroy();
    await broker.dispose();
    await endpoint.close();
    await rm(kvPersist, { recursive: true, force: true });
  }
}
