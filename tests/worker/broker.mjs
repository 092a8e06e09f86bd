// Runs the built broker (worker/build) under workerd through Miniflare, with a KV namespace
// and settings pointed at a local token endpoint. Callers and keys for the tests live here.
import { createHash, webcrypto } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, before, beforeEach } from "node:test";
import { Miniflare } from "miniflare";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";

// CCTOKEN_WORKER_BUILD runs the suites against another build, e.g. an older commit's, to see
// a regression test fail there.
const BUILD_DIR = process.env.CCTOKEN_WORKER_BUILD?.replace(/\/?$/, "/") ?? fileURLToPath(new URL("../../worker/build/", import.meta.url));
const sha256 = (key) => createHash("sha256").update(key).digest("hex");

export const SCOPE = "api://cctoken-demo/.default";
export const REPORTS_SCOPE = "api://reports/.default";
/** Two callers: "jobs" mid key rotation (two keys), "reports" with a small budget. */
export const CALLERS = {
  jobs: { keys: ["jobs-key-old-3f9a", "jobs-key-new-b71c"], scopes: [SCOPE] },
  reports: { keys: ["reports-key-55d0"], scopes: [REPORTS_SCOPE], ratePerMinute: 3 },
};
export const JOBS_KEY = CALLERS.jobs.keys[1];
/**
 * Broker keys other suites configure (interop.test.mjs, config.test.mjs), listed here so that
 * tests/leaks/scan.mjs can look for them too. Shaped like `openssl rand -base64 32` output, with
 * `+`, `/` and `=`, which HTTP Basic clients send in two ways.
 */
export const SUITE_KEYS = {
  interop: ["kA+9/iNteropCanary+Key1/W5q+Lr8/Zx3T0cVb=", "Zx/3+iNteropCanary/Key2+Pq/7Mn2/Rt8Ywq+0A=="],
  payroll: ["payroll-canary-key+/=9c1e"],
  audit: ["audit-canary-key+/=47d2"],
};
/** 32 recognisable bytes, so tests/leaks/scan.mjs can look for the key in every output. */
export const CACHE_KEY = Buffer.from("cctoken-test-cache-key-canary-32").toString("base64");
/** Another valid 32-byte CACHE_KEY: a broker configured with it cannot open CACHE_KEY's values. */
export const WRONG_CACHE_KEY = Buffer.from("cctoken-wrong-cache-key-canary32").toString("base64");

/** The KV key the broker uses for `scope`: SHA-256 of token endpoint, client id, scope set. */
export function kvKeyFor(endpoint, clientId, scope) {
  return `token:v2:${sha256(`${endpoint.authority}/oauth2/v2.0/token\n${clientId}\n${scope}`)}`;
}

/**
 * Opens a KV value as the broker must have sealed it: base64(12-byte IV || AES-256-GCM
 * ciphertext || 128-bit tag), `kvKey` as associated data. Rejects when it does not open.
 */
export async function openKvValue(value, kvKey, cacheKey = CACHE_KEY) {
  const bytes = Buffer.from(value, "base64");
  const key = await webcrypto.subtle.importKey("raw", Buffer.from(cacheKey, "base64"), "AES-GCM", false, ["decrypt"]);
  const plain = await webcrypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: Buffer.from(kvKey), tagLength: 128 },
    key,
    bytes.subarray(12),
  );
  return Buffer.from(plain).toString("utf8");
}

export function brokerClients(callers = CALLERS) {
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(callers).map(([id, c]) => [id, { keySha256: c.keys.map(sha256), scopes: c.scopes, ...(c.ratePerMinute ? { ratePerMinute: c.ratePerMinute } : {}), ...(c.forceRefreshPerMinute !== undefined ? { forceRefreshPerMinute: c.forceRefreshPerMinute } : {}) }]),
    ),
  );
}

/**
 * Starts the broker; `settings` override (or, set to undefined, remove) its bindings.
 * `kvPersist` shares KV between instances (a fresh isolate over the same KV); `kvBroken`
 * binds TOKEN_CACHE to a value whose KV calls throw. `direct` also serves the Worker on its
 * own loopback socket (`directUrl`), without Miniflare's entry worker in front: for timing.
 * `kvCounting` binds TOKEN_CACHE to a KV namespace behind a proxy that counts each `get` and
 * `put` the Worker makes (`kvCalls`) before passing it on.
 */
export async function startBroker({ endpoint, app, settings = {}, kvPersist, kvBroken = false, kvCounting = false, port, direct = false, captureLogs = false }) {
  // The Worker's console output, still passed on to this process's (the leak scan reads it).
  let logged = "";
  const capture = (stdout, stderr) => {
    for (const [stream, sink] of [[stdout, process.stdout], [stderr, process.stderr]]) {
      stream.on("data", (chunk) => {
        logged += String(chunk);
        sink.write(chunk);
      });
    }
  };
  const bindings = Object.fromEntries(
    Object.entries({
      AUTHORITY: endpoint.authority,
      CLIENT_ID: app.clientId,
      CLIENT_SECRET: app.clientSecret,
      BROKER_CLIENTS: brokerClients(),
      CACHE_KEY,
      ...(kvBroken ? { TOKEN_CACHE: "not a KV namespace" } : {}),
      ...settings,
    }).filter(([, value]) => value !== undefined),
  );
  const kvCalls = { get: 0, put: 0 };
  const broker = {
    scriptPath: `${BUILD_DIR}index.js`,
    modules: true,
    modulesRoot: BUILD_DIR,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2026-07-30",
    kvNamespaces: kvBroken || kvCounting ? [] : ["TOKEN_CACHE"],
    ...(kvCounting ? { wrappedBindings: { TOKEN_CACHE: COUNTED_KV } } : {}),
    bindings,
    ...(direct ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } : {}),
  };
  const shared = {
    ...(kvPersist ? { kvPersist } : {}),
    ...(port !== undefined ? { host: "127.0.0.1", port } : {}),
    ...(captureLogs ? { handleRuntimeStdio: capture } : {}),
  };
  const counted = {
    name: COUNTED_KV,
    modules: true,
    script: COUNTED_KV_SCRIPT,
    kvNamespaces: ["INNER"],
    serviceBindings: {
      // Runs in this process, before the call reaches KV: the count is there when it returns.
      COUNT(request) {
        kvCalls[new URL(request.url).pathname.slice(1)] += 1;
        return new Response(null, { status: 204 });
      },
    },
  };
  const mf = new Miniflare(kvCounting ? { ...shared, workers: [broker, counted] } : { ...shared, ...broker });
  const url = await mf.ready;
  return {
    mf,
    url,
    directUrl: direct ? await mf.unsafeGetDirectURL() : undefined,
    /** POSTs JSON to /token with a broker key unless `headers` say otherwise. */
    async token(body, headers = { authorization: `Bearer ${JOBS_KEY}` }) {
      return send(mf, "/token", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    },
    /** POSTs an OAuth2 client-credentials form. */
    async form(fields, headers = {}) {
      return send(mf, "/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(fields).toString(),
      });
    },
    request: (path, init) => send(mf, path, init),
    kv: () => (kvCounting ? mf.getKVNamespace("INNER", COUNTED_KV) : mf.getKVNamespace("TOKEN_CACHE")),
    /** The Worker's KV calls so far, by method (with `kvCounting`). */
    kvCalls: () => ({ ...kvCalls }),
    /** Everything the Worker logged so far (with `captureLogs`). */
    logs: () => logged,
    /** Waits (at most `ms`) until the Worker's log matches `pattern`; returns the log. */
    async logMatching(pattern, ms = 5000) {
      const until = Date.now() + ms;
      while (!pattern.test(logged)) {
        if (Date.now() > until) throw new Error(`the Worker logged nothing matching ${pattern}:\n${logged}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return logged;
    },
    dispose: () => mf.dispose(),
  };
}

export const COUNTED_KV = "counted-kv";
/** A wrapped KV binding: every KV method called counted in Node (service binding COUNT), then passed on (INNER). */
export const COUNTED_KV_SCRIPT = `
export default function (env) {
  const counted = (method) => async (...args) => {
    await env.COUNT.fetch("http://count/" + method);
    return env.INNER[method](...args);
  };
  return { get: counted("get"), put: counted("put"), getWithMetadata: counted("getWithMetadata"), delete: counted("delete"), list: counted("list") };
}
`;

/**
 * Miniflare gives every request CF-Connecting-IP 127.0.0.1, and the broker throttles failed
 * authentications per address: each request here comes from an address of its own (from the
 * benchmarking range 198.18.0.0/15) unless it names one, so suites about other rules are not
 * throttled by this one. The throttling has its own suites (fleet-auth.test.mjs).
 */
let nextAddress = 0;
export function freshAddress() {
  nextAddress += 1;
  return `198.18.${(nextAddress >> 8) & 255}.${nextAddress & 255}`;
}

async function send(mf, path, init) {
  const headers = new Headers(init?.headers);
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", freshAddress());
  const response = await mf.dispatchFetch(`http://broker.local${path}`, { ...init, headers });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/**
 * The setup most Worker suites share: one local token endpoint and one broker for the file,
 * serving `callers` (and `settings`), stopped after it; the endpoint reset before each test.
 * Returns getters, set once the file's `before` hook ran.
 */
export function useBroker({ callers, settings = {} }) {
  let endpoint;
  let broker;
  before(async () => {
    endpoint = await startTokenEndpoint();
    broker = await startBroker({ endpoint, app: LOCAL_APP, settings: { BROKER_CLIENTS: brokerClients(callers), ...settings } });
  });
  after(async () => {
    await broker?.dispose();
    await endpoint?.close();
  });
  beforeEach(() => endpoint.reset());
  return {
    get endpoint() {
      return endpoint;
    },
    get broker() {
      return broker;
    },
  };
}
