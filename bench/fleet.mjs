// Measure 7, the fleet (issue 15): the broker as several Worker scripts (each its own isolate)
// under one local workerd, sharing one KV namespace and the `Coordinator` Durable Object class,
// as tests/worker/fleet.mjs starts them, but with what timing and counting need:
// - a build directory per fleet (so one process can alternate two builds: before/after);
// - each script served on its own loopback socket (no Miniflare entry worker in front);
// - optionally COORDINATOR bound to a counting proxy: a wrapped binding whose class is named
//   as the runtime's (workers-rs checks the constructor's name) and whose stubs count each
//   call in this process (by object kind and route) before passing it to the real object.
// Every load is a fixed count; every fleet and endpoint started here is disposed of.
import { execFileSync } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { LOCAL_APP, startTokenEndpoint } from "../tests/token-endpoint/server.mjs";
import { CACHE_KEY, JOBS_KEY, SCOPE, brokerClients, kvKeyFor } from "../tests/worker/broker.mjs";

const CURRENT_BUILD = process.env.CCTOKEN_WORKER_BUILD?.replace(/\/?$/, "/") ?? fileURLToPath(new URL("../worker/build/", import.meta.url));
const COMPATIBILITY_DATE = "2026-07-30";
const KV_ID = "bench-fleet-token-cache";
const COUNTED_COORDINATOR = "counted-coordinator";

/** A caller whose budget `ratePerMinute` is (the README's default is 600 a minute). */
export const callerSettings = (ratePerMinute) => ({
  BROKER_CLIENTS: brokerClients({ jobs: { keys: [JOBS_KEY], scopes: [SCOPE], ratePerMinute, forceRefreshPerMinute: ratePerMinute } }),
});
/** The budget the timing rows use (as bench/worker.mjs): the fixed loads stay under it. */
const UNMETERED = callerSettings(1_000_000);

const COUNTED_COORDINATOR_SCRIPT = `
class DurableObjectNamespace {
  constructor(env) { this.env = env; }
  idFromName(name) { return { name, real: this.env.REAL.idFromName(name) }; }
  get(id) {
    const env = this.env;
    const real = env.REAL.get(id.real);
    return {
      async fetch(request, init) {
        const path = new URL(request.url ?? request).pathname;
        await env.COUNT.fetch("http://count/", { method: "POST", body: JSON.stringify({ name: id.name, path }) });
        return real.fetch(request, init);
      },
    };
  }
}
export default function (env) { return new DurableObjectNamespace(env); }
`;

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
export const fmt = (xs) => `p50 ${percentile(xs, 0.5).toFixed(2)} / p99 ${percentile(xs, 0.99).toFixed(2)} ms`;
export { percentile };

/**
 * Starts `scripts` broker scripts of `build`. `coordinator`: true binds COORDINATOR to the
 * build's class (in the first script), "counted" to it through the counting proxy, false
 * leaves it unbound. Returns `{ url(name), calls, kv(), dispose() }`; `calls` lists each
 * coordinator call `{ name, path }` (with "counted").
 */
export async function startBenchFleet({ endpoint, build = CURRENT_BUILD, scripts = ["a", "b"], coordinator = true, settings = UNMETERED }) {
  const calls = [];
  const real = { COORDINATOR: { className: "Coordinator", scriptName: scripts[0], useSQLite: true } };
  const worker = (name) => ({
    name,
    scriptPath: `${build}index.js`,
    modules: true,
    modulesRoot: build,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: COMPATIBILITY_DATE,
    kvNamespaces: { TOKEN_CACHE: KV_ID },
    // Bound directly on every script; counted: the first script still binds the class (under
    // another name, which the Worker ignores) so that it hosts the objects.
    durableObjects: coordinator === true ? real : coordinator === "counted" && name === scripts[0] ? { REAL_COORDINATOR: real.COORDINATOR } : {},
    ...(coordinator === "counted" ? { wrappedBindings: { COORDINATOR: COUNTED_COORDINATOR } } : {}),
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    bindings: {
      AUTHORITY: endpoint.authority,
      CLIENT_ID: LOCAL_APP.clientId,
      CLIENT_SECRET: LOCAL_APP.clientSecret,
      CACHE_KEY,
      ...settings,
    },
  });
  const workers = scripts.map(worker);
  if (coordinator === "counted") {
    workers.push({
      name: COUNTED_COORDINATOR,
      modules: true,
      script: COUNTED_COORDINATOR_SCRIPT,
      durableObjects: { REAL: real.COORDINATOR },
      serviceBindings: {
        // Runs in this process before the call reaches the object: counted when it returns.
        async COUNT(request) {
          calls.push(await request.json());
          return new Response(null, { status: 204 });
        },
      },
    });
  }
  // The scripts' console (an audit line per request) is drained, not echoed: thousands of lines.
  const drain = (stdout, stderr) => {
    stdout.resume();
    stderr.on("data", (chunk) => process.stderr.write(chunk));
  };
  const mf = new Miniflare({ workers, handleRuntimeStdio: drain });
  await mf.ready;
  const urls = {};
  for (const name of scripts) urls[name] = (await mf.unsafeGetDirectURL(name)).href;
  return {
    mf,
    url: (name) => urls[name],
    calls,
    kv: () => mf.getKVNamespace("TOKEN_CACHE", scripts[0]),
    dispose: () => mf.dispose(),
  };
}

// node:http with keep-alive rather than fetch (as bench/worker.mjs): undici's own cost stays out.
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
export const closeAgent = () => agent.destroy();

function send(url, method, path, payload) {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const headers = payload === undefined ? {} : { authorization: `Bearer ${JOBS_KEY}`, "content-type": "application/json", "content-length": Buffer.byteLength(payload) };
    const request = http.request({ host: target.hostname, port: target.port, method, path: target.pathname, agent, headers, timeout: 30_000 }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`${method} ${target} timed out`)));
    request.on("error", reject);
    request.end(payload);
  });
}

/** One POST /token; its latency, status and tier. */
export async function post(url, body = { scopes: [SCOPE] }) {
  const started = performance.now();
  const { status, text } = await send(url, "POST", "token", JSON.stringify(body));
  const ms = performance.now() - started;
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = {};
  }
  return { ms, status, cache: json.cache, token: json.access_token, text };
}

const expect = (reply, cache) => {
  if (reply.status !== 200 || reply.cache !== cache) throw new Error(`expected a ${cache} answer, got ${reply.status} ${reply.cache ?? reply.text}`);
};

/** `count` memory hits one at a time against `url`; their latencies. */
async function memoryHits(url, count) {
  const latencies = [];
  for (let i = 0; i < count; i += 1) {
    const reply = await post(url);
    expect(reply, "memory");
    latencies.push(reply.ms);
  }
  return latencies;
}

/**
 * Memory-hit latencies (one at a time, `count` after a 500-request warm-up) of one broker
 * script of `build`: alone (`coordinator` false, as bench/worker.mjs's row) or in a fleet of
 * two with COORDINATOR bound (timed on the second script; the first hosts the objects).
 */
export async function measureMemoryHit({ endpoint, build = CURRENT_BUILD, coordinator = false, count = 2000 }) {
  const scripts = coordinator ? ["a", "b"] : ["a"];
  const fleet = await startBenchFleet({ endpoint, build, scripts, coordinator });
  try {
    const url = fleet.url(scripts.at(-1));
    const first = await post(url);
    if (first.status !== 200) throw new Error(`the broker answered ${first.status}: ${first.text}`);
    await memoryHits(url, 500);
    return await memoryHits(url, count);
  } finally {
    await fleet.dispose();
  }
}

/**
 * Coordinator calls while two scripts serve `hits` memory hits, alternating, at `perSecond`
 * requests a second in all, for a caller allowed `ratePerMinute`. The first request (the
 * acquisition) and its calls are not counted. Returns the calls by object kind and route.
 */
export async function measureCoordinatorCalls({ endpoint, ratePerMinute = 600, perSecond = 10, hits = 1000 }) {
  const fleet = await startBenchFleet({ endpoint, coordinator: "counted", settings: callerSettings(ratePerMinute) });
  try {
    const [a, b] = [fleet.url("a"), fleet.url("b")];
    const first = await post(a);
    if (first.status !== 200) throw new Error(`the broker answered ${first.status}: ${first.text}`);
    const warm = await post(b); // b's first: KV (its memory is empty); not a memory hit
    if (warm.status !== 200) throw new Error(`the broker answered ${warm.status}: ${warm.text}`);
    const before = fleet.calls.length;
    const started = performance.now();
    const tiers = {};
    for (let i = 0; i < hits; i += 1) {
      const due = started + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const reply = await post(i % 2 ? b : a);
      if (reply.status !== 200) throw new Error(`request ${i}: ${reply.status} ${reply.text}`);
      tiers[reply.cache] = (tiers[reply.cache] ?? 0) + 1;
    }
    const seconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 200)); // background revalidations land
    const counted = fleet.calls.slice(before);
    const by = {};
    for (const { name, path } of counted) {
      const key = `${name.split(":")[0]} ${path}`;
      by[key] = (by[key] ?? 0) + 1;
    }
    return { total: counted.length, by, tiers, seconds, setup: before, ratePerMinute, perSecond, hits };
  } finally {
    await fleet.dispose();
  }
}

/**
 * The first request of `n` fresh isolates: one fleet of n + 1 scripts; the first acquires (its
 * isolate hosts the token object, which keeps the token in memory), then each other script
 * answers /healthz (isolate up) and its first /token is timed. `kv`: "none" deletes the KV entry
 * the acquisition left, so each first request misses KV and is answered by the coordinator;
 * "fresh" keeps it (sealed under 30 s before, so KV answers: the fleet's KV hit, for comparison).
 */
export async function measureFirstRequest({ endpoint, n = 20, kv: entry = "none" }) {
  const scripts = ["a", ...Array.from({ length: n }, (_, i) => `fresh${i}`)];
  const fleet = await startBenchFleet({ endpoint, scripts });
  try {
    const first = await post(fleet.url("a"));
    expect(first, "coordinator");
    const kv = await fleet.kv();
    const key = kvKeyFor(endpoint, LOCAL_APP.clientId, SCOPE);
    if (entry === "none") await kv.delete(key);
    const latencies = [];
    for (const name of scripts.slice(1)) {
      await send(fleet.url(name), "GET", "healthz");
      const reply = await post(fleet.url(name));
      expect(reply, entry === "none" ? "coordinator" : "kv");
      if (reply.token !== first.token) throw new Error("another token was served");
      latencies.push(reply.ms);
    }
    if (entry === "none" && (await kv.get(key)) !== null) throw new Error("an isolate wrote the coordinator's token to KV");
    return latencies;
  } finally {
    await fleet.dispose();
  }
}

/**
 * IdP requests for `perScript` concurrent cold requests to each of two scripts (no entry in
 * memory, KV or coordinator), over `rounds` fresh fleets. Returns the count of each round.
 */
export async function measureColdBurst({ endpoint, perScript = 50, rounds = 3 }) {
  const counts = [];
  for (let round = 0; round < rounds; round += 1) {
    const fleet = await startBenchFleet({ endpoint });
    try {
      endpoint.reset();
      const replies = await Promise.all(Array.from({ length: 2 * perScript }, (_, i) => post(fleet.url(i % 2 ? "b" : "a"))));
      const failed = replies.find((r) => r.status !== 200);
      if (failed) throw new Error(`a cold request failed: ${failed.status} ${failed.text}`);
      if (new Set(replies.map((r) => r.token)).size !== 1) throw new Error("the burst got more than one token");
      counts.push(endpoint.tokenRequests);
    } finally {
      await fleet.dispose();
    }
  }
  return counts;
}

/** The whole fleet measure for bench/run.mjs; `baseBuild` adds the before rows. */
export async function measureFleet({ baseBuild, rounds = 3 } = {}) {
  const endpoint = await startTokenEndpoint();
  try {
    const runs = [
      ...(baseBuild ? [["before", { build: baseBuild.replace(/\/?$/, "/") }]] : []),
      ["after", { build: CURRENT_BUILD }],
      ["fleet", { build: CURRENT_BUILD, coordinator: true }],
    ];
    const memory = { alone: { before: [], after: [] }, fleet: [] };
    // Alternated in rounds, the order rotated each round: this machine's noise moves between
    // minutes (other work on it), so each build gets a share of every minute.
    for (let round = 0; round < rounds; round += 1) {
      for (let i = 0; i < runs.length; i += 1) {
        const [which, options] = runs[(i + round) % runs.length];
        const latencies = await measureMemoryHit({ endpoint, count: 1000, ...options });
        (which === "fleet" ? memory.fleet : memory.alone[which]).push(...latencies);
      }
    }
    // Two loads: the README's default budget (600 a minute) at its full rate, 10 requests a
    // second (100 s for 1,000 hits: long enough for leases to expire and tokens to revalidate),
    // and a caller allowed 6,000 a minute at 100 a second.
    const calls = [
      await measureCoordinatorCalls({ endpoint, ratePerMinute: 600, perSecond: 10, hits: 1000 }),
      await measureCoordinatorCalls({ endpoint, ratePerMinute: 6000, perSecond: 100, hits: 1000 }),
    ];
    const kvMiss = await measureFirstRequest({ endpoint, n: 20, kv: "none" });
    const kvHit = await measureFirstRequest({ endpoint, n: 20, kv: "fresh" });
    const burst = await measureColdBurst({ endpoint, perScript: 50, rounds: 3 });
    return { rounds, memory, calls, kvMiss, kvHit, burst };
  } finally {
    closeAgent();
    await endpoint.close();
  }
}

/** "the build of <commit>" for a build directory inside a git checkout, else its path. */
function buildName(build) {
  try {
    const commit = execFileSync("git", ["-C", build, "rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return `the build of ${commit}`;
  } catch {
    return build;
  }
}

/** The BENCHMARKS.md rows (label, cctoken column) of `measureFleet`'s result. */
export function fleetRows(fleet, baseBuild) {
  const calls = fleet.calls.map(
    (c) => `${Math.round((c.total * 1000) / c.hits)} at ${c.perSecond} req/s for a caller allowed ${c.ratePerMinute}/min (${Object.entries(c.by).map(([k, v]) => `${v} ${k}`).join(", ") || "none"} in ${c.seconds.toFixed(0)} s)`,
  );
  return [
    [
      `7. broker: memory hit, one at a time, builds alternated in ${fleet.rounds} rounds`,
      [
        ...(baseBuild ? [`before (${buildName(baseBuild)}) ${fmt(fleet.memory.alone.before)}`] : []),
        `after, no COORDINATOR ${fmt(fleet.memory.alone.after)}`,
        `after, fleet of 2 with COORDINATOR ${fmt(fleet.memory.fleet)}`,
      ].join("; ") + ` (n=${fleet.memory.fleet.length} each)`,
    ],
    ["7. broker: coordinator calls per 1,000 memory hits (2 scripts, alternating)", calls.join("; ")],
    [
      "7. broker: KV miss answered by the coordinator",
      `${fmt(fleet.kvMiss)} (first request of a fresh isolate, KV empty, n=${fleet.kvMiss.length}); a fleet KV hit timed the same way ${fmt(fleet.kvHit)}`,
    ],
    ["7. broker: IdP requests for 2 × 50 concurrent cold requests", `${fleet.burst.join(", ")} (${fleet.burst.length} fresh fleets; goal 1)`],
  ];
}
