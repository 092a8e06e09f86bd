// Runs the built Worker (worker/build) under workerd through Miniflare, with a KV namespace
// and the broker's settings pointed at a local token endpoint.
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const BUILD_DIR = fileURLToPath(new URL("../../worker/build/", import.meta.url));

export const BROKER_KEY = "broker-key-for-tests-5b1c0e";

/** Starts the broker; `settings` overrides (or, set to undefined, removes) its bindings. */
export async function startBroker({ endpoint, app, settings = {} }) {
  const bindings = Object.fromEntries(
    Object.entries({
      AUTHORITY: endpoint.authority,
      CLIENT_ID: app.clientId,
      CLIENT_SECRET: app.clientSecret,
      BROKER_KEY,
      ...settings,
    }).filter(([, value]) => value !== undefined),
  );
  const mf = new Miniflare({
    scriptPath: `${BUILD_DIR}index.js`,
    modules: true,
    modulesRoot: BUILD_DIR,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2026-07-30",
    kvNamespaces: ["TOKEN_CACHE"],
    bindings,
  });
  await mf.ready;
  return {
    mf,
    /** POSTs `body` to /token with the broker key unless `headers` say otherwise. */
    async token(body, headers = { authorization: `Bearer ${BROKER_KEY}` }) {
      const response = await mf.dispatchFetch("http://broker.local/token", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: response.status, headers: response.headers, json: await response.json() };
    },
    async kv() {
      return mf.getKVNamespace("TOKEN_CACHE");
    },
    dispose: () => mf.dispose(),
  };
}
