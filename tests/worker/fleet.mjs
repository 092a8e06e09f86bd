// The broker as a fleet (issue 15): the built Worker (worker/build) loaded as several Worker
// scripts under one Miniflare, each its own isolate, sharing one KV namespace and the
// `Coordinator` Durable Object namespace (the class of the first script, bound on every script
// by scriptName, SQLite-backed). Requests go to one script by name and carry a client address
// (`cf-connecting-ip`), as Cloudflare's edge adds it. See /work/shared/DURABLE_OBJECTS.md for
// the Miniflare facts this rests on.
import { webcrypto } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { LOCAL_APP } from "../token-endpoint/server.mjs";
import { CACHE_KEY, COUNTED_KV, COUNTED_KV_SCRIPT, REPORTS_SCOPE, SCOPE, brokerClients, kvKeyFor, openKvValue } from "./broker.mjs";

export { CACHE_KEY, REPORTS_SCOPE, SCOPE, kvKeyFor, openKvValue };

// CCTOKEN_WORKER_BUILD runs the suites against another build (as broker.mjs does).
const BUILD_DIR = process.env.CCTOKEN_WORKER_BUILD?.replace(/\/?$/, "/") ?? fileURLToPath(new URL("../../worker/build/", import.meta.url));

/** Client addresses (RFC 5737 documentation ranges), sent as `cf-connecting-ip`. */
export const ADDRESS = "198.51.100.7";
export const OTHER_ADDRESS = "203.0.113.9";

/**
 * The fleet suites' callers. Their keys are canaries for tests/leaks/scan.mjs (FLEET_KEYS).
 * "fleet-jobs" is the default caller of every request; "fleet-metered" has the budget the
 * issue's test names (10 a minute); "fleet-forcer" may force 2 refreshes a minute.
 */
export const FLEET_CALLERS = {
  "fleet-jobs": { keys: ["fleet-jobs-key-8e41a7c2d9"], scopes: [SCOPE, REPORTS_SCOPE], ratePerMinute: 6000 },
  "fleet-metered": { keys: ["fleet-metered-key-2c95f0b3e1"], scopes: [SCOPE], ratePerMinute: 10 },
  "fleet-forcer": { keys: ["fleet-forcer-key-71d3a0e6f4"], scopes: [SCOPE], ratePerMinute: 6000, forceRefreshPerMinute: 2 },
  "fleet-reports": { keys: ["fleet-reports-key-4b8e2f9c07"], scopes: [REPORTS_SCOPE], ratePerMinute: 6000 },
};
export const FLEET_KEYS = Object.fromEntries(Object.entries(FLEET_CALLERS).map(([id, caller]) => [id, caller.keys]));
/** A well-formed broker key no caller has. */
export const WRONG_KEY = "fleet-wrong-key-9d0c5e2a18";
export const bearer = (id) => ({ authorization: `Bearer ${FLEET_CALLERS[id].keys[0]}` });

/** The CACHE_KEY pair of the rotation tests: 32 recognisable bytes each, base64. */
export const OLD_CACHE_KEY = Buffer.from("cctoken-fleet-old-cache-key-0032").toString("base64");
export const NEW_CACHE_KEY = Buffer.from("cctoken-fleet-new-cache-key-0032").toString("base64");

/**
 * Seals `entry` (the token JSON, an object) for `kvKey` as the broker does: base64(12-byte IV ||
 * AES-256-GCM(ciphertext || tag)) with the KV key as associated data. For entries a test plants.
 */
export async function sealKvValue(entry, kvKey, cacheKey) {
  const key = await webcrypto.subtle.importKey("raw", Buffer.from(cacheKey, "base64"), "AES-GCM", false, ["encrypt"]);
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const sealed = await webcrypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: Buffer.from(kvKey), tagLength: 128 },
    key,
    Buffer.from(JSON.stringify(entry)),
  );
  return Buffer.concat([Buffer.from(iv), Buffer.from(sealed)]).toString("base64");
}

const COMPATIBILITY_DATE = "2026-07-30";
const KV_ID = "fleet-token-cache";
const BROKEN_COORDINATOR = "broken-coordinator";
const AUDIT_RECORDER = "audit-recorder";

/** A Durable Object class named like the broker's whose every call throws. */
const BROKEN_COORDINATOR_SCRIPT = `
export class Coordinator {
  constructor(state, env) {}
  async fetch(request) { throw new Error("the coordinator is broken (test double)"); }
  async alarm() { throw new Error("the coordinator is broken (test double)"); }
}
export default { fetch: () => new Response("not the broker", { status: 404 }) };
`;

/** A Durable Object class named like the broker's that never answers. */
const HANGING_COORDINATOR_SCRIPT = `
export class Coordinator {
  constructor(state, env) {}
  fetch(request) { return new Promise(() => {}); }
}
export default { fetch: () => new Response("not the broker", { status: 404 }) };
`;

/**
 * An Analytics Engine dataset that records: a wrapped binding whose class is named as the
 * runtime's (workers-rs checks the constructor's name), each data point posted to this
 * process. (Miniflare's own `analyticsEngineDatasets` binding drops data points, and its
 * class is named LocalAnalyticsEngineDataset.)
 */
const AUDIT_RECORDER_SCRIPT = `
class AnalyticsEngineDataset {
  constructor(env) { this.env = env; }
  writeDataPoint(point) {
    this.env.RECORD.fetch("http://record/", { method: "POST", body: JSON.stringify(point ?? null) }).catch(() => {});
  }
}
export default function (env) { return new AnalyticsEngineDataset(env); }
`;

/**
 * Starts a fleet: `scripts` Worker scripts running the broker build, each its own isolate.
 * - `settings` override (or, set to undefined, remove) every script's bindings;
 *   `scriptSettings[name]` those of one script.
 * - `coordinator`: true binds COORDINATOR to the build's `Coordinator` class (in the first
 *   script); false leaves it unbound (an older deployment); "broken" binds it to a class whose
 *   fetch throws, "hanging" to one whose fetch never answers.
 * - `analytics`: false; "miniflare" binds AUDIT with Miniflare's own dataset option;
 *   "recorded" binds AUDIT to a recording dataset (`dataPoints()`).
 * - `kvPersist` keeps KV in a folder (shared with other fleets or brokers over it).
 * - `kvCounting` puts the shared KV namespace behind a proxy that counts the `get`s and `put`s
 *   of every script, the coordinator's included (`kvCalls()`).
 * - `captureLogs` keeps the scripts' console output (still passed on to this process's stdout
 *   and stderr, which the leak scan reads).
 * Returns one client per script (`fleet.a.token(…)`), plus logs, KV and `dispose()`.
 */
export async function startFleet({
  endpoint,
  app = LOCAL_APP,
  callers = FLEET_CALLERS,
  settings = {},
  scriptSettings = {},
  scripts = ["a", "b"],
  coordinator = true,
  analytics = false,
  kvPersist,
  kvCounting = false,
  captureLogs = true,
}) {
  let logged = "";
  const capture = (stdout, stderr) => {
    for (const [stream, sink] of [[stdout, process.stdout], [stderr, process.stderr]]) {
      stream.on("data", (chunk) => {
        logged += String(chunk);
        sink.write(chunk);
      });
    }
  };
  const points = [];
  const durableObjects =
    coordinator === true
      ? { COORDINATOR: { className: "Coordinator", scriptName: scripts[0], useSQLite: true } }
      : coordinator === "broken" || coordinator === "hanging"
        ? { COORDINATOR: { className: "Coordinator", scriptName: BROKEN_COORDINATOR } }
        : {};
  const worker = (name) => ({
    name,
    scriptPath: `${BUILD_DIR}index.js`,
    modules: true,
    modulesRoot: BUILD_DIR,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: COMPATIBILITY_DATE,
    ...(kvCounting ? { wrappedBindings: { TOKEN_CACHE: COUNTED_KV } } : { kvNamespaces: { TOKEN_CACHE: KV_ID } }),
    durableObjects,
    ...(analytics === "miniflare" ? { analyticsEngineDatasets: { AUDIT: { dataset: "cctoken_audit" } } } : {}),
    ...(analytics === "recorded" ? { wrappedBindings: { ...(kvCounting ? { TOKEN_CACHE: COUNTED_KV } : {}), AUDIT: AUDIT_RECORDER } } : {}),
    bindings: Object.fromEntries(
      Object.entries({
        AUTHORITY: endpoint.authority,
        CLIENT_ID: app.clientId,
        CLIENT_SECRET: app.clientSecret,
        BROKER_CLIENTS: brokerClients(callers),
        CACHE_KEY,
        ...settings,
        ...scriptSettings[name],
      }).filter(([, value]) => value !== undefined),
    ),
  });
  const workers = scripts.map(worker);
  if (coordinator === "broken" || coordinator === "hanging") {
    const script = coordinator === "broken" ? BROKEN_COORDINATOR_SCRIPT : HANGING_COORDINATOR_SCRIPT;
    workers.push({ name: BROKEN_COORDINATOR, modules: true, script, compatibilityDate: COMPATIBILITY_DATE });
  }
  const kvCalls = {};
  if (kvCounting) {
    workers.push({
      name: COUNTED_KV,
      modules: true,
      script: COUNTED_KV_SCRIPT,
      kvNamespaces: { INNER: KV_ID },
      serviceBindings: {
        // Runs in this process before the call reaches KV: the count is there when it returns.
        COUNT(request) {
          const method = new URL(request.url).pathname.slice(1);
          kvCalls[method] = (kvCalls[method] ?? 0) + 1;
          return new Response(null, { status: 204 });
        },
      },
    });
  }
  if (analytics === "recorded") {
    workers.push({
      name: AUDIT_RECORDER,
      modules: true,
      script: AUDIT_RECORDER_SCRIPT,
      serviceBindings: {
        async RECORD(request) {
          points.push(await request.json());
          return new Response(null, { status: 204 });
        },
      },
    });
  }
  const mf = new Miniflare({
    workers,
    ...(kvPersist ? { kvPersist } : {}),
    ...(captureLogs ? { handleRuntimeStdio: capture } : {}),
  });
  await mf.ready;

  const fleet = {
    mf,
    /** Everything the scripts logged so far (with `captureLogs`). */
    logs: () => logged,
    /** Waits (at most `ms`) until the log matches `pattern`; returns the log. */
    async logMatching(pattern, ms = 5000) {
      const until = Date.now() + ms;
      while (!pattern.test(logged)) {
        if (Date.now() > until) throw new Error(`the fleet logged nothing matching ${pattern}:\n${logged}`);
        await sleep(10);
      }
      return logged;
    },
    /** The audit lines logged so far, parsed: `{"event":"cctoken.token",…}` objects. */
    auditLines: () => auditLines(logged),
    /** The shared KV namespace (as the first script sees it). */
    kv: () => (kvCounting ? mf.getKVNamespace("INNER", COUNTED_KV) : mf.getKVNamespace("TOKEN_CACHE", scripts[0])),
    /** The scripts' KV calls so far by method (with `kvCounting`), e.g. `{ get: 2, put: 1 }`. */
    kvCalls: () => ({ ...kvCalls }),
    /** Data points the recording AUDIT dataset received (with analytics "recorded"). */
    dataPoints: () => [...points],
    /** Waits (at most `ms`) until `count` data points arrived; returns them. */
    async dataPointsAtLeast(count, ms = 5000) {
      const until = Date.now() + ms;
      while (points.length < count && Date.now() < until) await sleep(10);
      return [...points];
    },
    dispose: () => mf.dispose(),
  };
  for (const name of scripts) fleet[name] = scriptClient(name, await mf.getWorker(name));
  return fleet;
}

/** Starts a fleet for one test and disposes of it when the test ends. */
export async function withFleet(t, options) {
  const fleet = await startFleet(options);
  t.after(() => fleet.dispose());
  return fleet;
}

/** Requests to one script; headers set to undefined are left out. */
function scriptClient(name, worker) {
  const send = async (path, { headers = {}, ...init } = {}) => {
    const started = performance.now();
    const response = await worker.fetch(`http://broker.local${path}`, {
      ...init,
      headers: Object.fromEntries(Object.entries({ "cf-connecting-ip": ADDRESS, ...headers }).filter(([, v]) => v !== undefined)),
    });
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    // For assertion messages: the reply without its access token (a failed test's output
    // goes through the leak scan too).
    const summary = json?.access_token ? JSON.stringify({ ...json, access_token: "<redacted>" }) : text.slice(0, 500);
    return { script: name, status: response.status, headers: response.headers, json, text, summary, ms: performance.now() - started };
  };
  return {
    name,
    /** POSTs JSON to /token as "fleet-jobs" from ADDRESS unless `headers` say otherwise. */
    token: (body, headers = {}) =>
      send("/token", {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer("fleet-jobs"), ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    /** POSTs an OAuth2 client-credentials form (credentials in `fields` or `headers`). */
    form: (fields, headers = {}) =>
      send("/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(fields).toString(),
      }),
    request: send,
    healthz: () => send("/healthz"),
  };
}

/** The `cctoken.token` audit lines in `text` (any prefix before the JSON is ignored). */
export function auditLines(text) {
  const lines = [];
  for (const line of text.split("\n")) {
    if (!line.includes('"cctoken.token"')) continue;
    const at = line.indexOf("{");
    if (at < 0) continue;
    try {
      lines.push({ ...JSON.parse(line.slice(at).trim()), raw: line });
    } catch {
      // a line still being written
    }
  }
  return lines;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A GUID for `client-request-id`, distinct per call. */
export const guid = () => webcrypto.randomUUID();

/** Counts of `values` by value: `{ idp: 1, coordinator: 49 }`. */
export const tally = (values) => values.reduce((counts, v) => ({ ...counts, [v]: (counts[v] ?? 0) + 1 }), {});
