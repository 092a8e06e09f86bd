// The installed package in a Vercel / Next.js edge function: bundled with esbuild under the
// conditions Next's edge compiler uses ("edge-light" before "worker"), its `.wasm?module` import
// turned into a compiled WebAssembly.Module handed to the code as a global, as Vercel's bundler
// does, and run in EdgeRuntime (Vercel's edge sandbox) with WebAssembly compilation refused, as
// on Vercel's edge.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { EdgeRuntime } from "edge-runtime";
import * as npmEntry from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "../node/fixtures.mjs";

const CERT_APP = "55555555-0000-4000-8000-0000000000c6";
const HERE = dirname(fileURLToPath(import.meta.url));
let endpoint;
let bundle;
const compiled = {};

/**
 * Vercel's edge build in miniature: `x.wasm?module` becomes `globalThis.wasm_<sha1>`, and the
 * runtime gets that global as a module compiled outside the function's realm.
 */
function wasmModulePlugin(modules) {
  return {
    name: "wasm-module",
    setup(b) {
      b.onResolve({ filter: /\.wasm\?module$/ }, async (args) => {
        const resolved = await b.resolve(args.path.replace(/\?module$/, ""), { importer: args.importer, resolveDir: args.resolveDir, kind: args.kind });
        if (resolved.errors.length) return { errors: resolved.errors };
        const bytes = await readFile(resolved.path);
        const name = `wasm_${createHash("sha1").update(bytes).digest("hex")}`;
        modules.set(name, bytes);
        return { path: name, namespace: "wasm-module" };
      });
      b.onLoad({ filter: /.*/, namespace: "wasm-module" }, (args) => ({ loader: "js", contents: `export default globalThis[${JSON.stringify(args.path)}];` }));
    },
  };
}

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret }, [CERT_APP]: { certificates: [FIXTURES.rsaCert] } },
  });
  const modules = new Map();
  bundle = await build({
    stdin: {
      contents: 'import handler from "./edge-function.mjs";\naddEventListener("fetch", (event) => event.respondWith(handler(event.request)));\n',
      resolveDir: HERE,
    },
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    conditions: ["edge-light", "worker", "browser"],
    mainFields: ["module", "main"],
    // A Node built-in anywhere in the graph is kept as an import, for the test to name it.
    external: ["node:*", ...builtinModules],
    plugins: [wasmModulePlugin(modules)],
    metafile: true,
    // The glue's unused async init reads import.meta.url, which an iife bundle has not got.
    logLevel: "error",
  });
  for (const [name, bytes] of modules) compiled[name] = await WebAssembly.compile(bytes);
});
after(async () => {
  await endpoint?.close();
});

/** The sandbox, running the bundle: Vercel's edge refuses to compile WebAssembly at run time. */
function edgeRuntime() {
  const { origin } = new URL(endpoint.authority);
  return new EdgeRuntime({
    codeGeneration: { strings: false, wasm: false },
    extend: (context) =>
      Object.assign(context, compiled, {
        // What Vercel gives an edge function of Node's `process`: its environment variables.
        process: { env: { AZURE_TENANT_ID: LOCAL_APP.tenantId, AZURE_CLIENT_ID: LOCAL_APP.clientId, AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret, AZURE_AUTHORITY_HOST: origin } },
      }),
    initialCode: bundle.outputFiles[0].text,
  });
}

test("the edge-light entry is bundled, with its wasm as a compiled module and no Node built-in", () => {
  const inputs = Object.keys(bundle.metafile.inputs)
    .filter((path) => path !== "<stdin>" && !path.endsWith("tests/package/edge-function.mjs"))
    .map((path) => path.replace(/^.*node_modules\/cctoken\//, "cctoken/").replace(/cctoken-[0-9a-f]{16}/, "<crate>").replace(/wasm_[0-9a-f]{40}$/, "wasm_<sha1>"))
    .sort();
  assert.deepEqual(inputs, [
    "cctoken/dist/web/cctoken.js",
    "cctoken/dist/web/snippets/<crate>/src/js/host_bridge.mjs",
    "cctoken/src/edge-light.mjs",
    "cctoken/src/fast-path.mjs",
    "cctoken/src/no-persistent-cache.mjs",
    "wasm-module:wasm_<sha1>",
  ]);
  const external = Object.values(bundle.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path));
  assert.deepEqual(external, [], "Node built-ins imported by the edge bundle");
});

test("an edge function acquires tokens: module-scope client, cache, certificate, errors", async () => {
  const response = await edgeRuntime().dispatchFetch("http://edge.local/api/token", {
    method: "POST",
    body: JSON.stringify({ certificateApp: CERT_APP, privateKeyPem: FIXTURES.rsaKey, certificatePem: FIXTURES.rsaCert }),
  });
  const text = await response.text();
  const answered = Date.now();
  assert.equal(response.status, 200, text);
  const report = JSON.parse(text);
  // The 3599 s lifetime counts from the send: between the call and the answer.
  const { sent, expiresOn } = report.secret;
  assert.ok(expiresOn - 3_599_000 >= sent && expiresOn - 3_599_000 <= answered, `expiresOn is ${expiresOn - sent} ms after the call`);
  delete report.secret.sent;
  report.secret.expiresOn = "checked";
  assert.deepEqual(report, {
    exports: Object.keys(npmEntry).sort(),
    secret: { first: false, second: true, same: true, expiresOn: "checked" },
    certificate: "Bearer",
    error: { code: "invalid_authority", field: "authority", isClientCredentialError: true },
    persistentCache: { code: "invalid_config", field: "options.persistentCache", isClientCredentialError: true },
  });
  assert.deepEqual(endpoint.requests.map((r) => [r.method, r.path, r.status]), [
    ["POST", `/${LOCAL_APP.tenantId}/oauth2/v2.0/token`, 200],
    ["POST", `/${LOCAL_APP.tenantId}/oauth2/v2.0/token`, 200],
  ]);
  const [secret, signed] = endpoint.requests;
  assert.equal(secret.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(
    secret.body,
    new URLSearchParams({ client_id: LOCAL_APP.clientId, scope: "api://cctoken-demo/.default", client_secret: LOCAL_APP.clientSecret, grant_type: "client_credentials" }).toString(),
  );
  const form = new URLSearchParams(signed.body);
  assert.deepEqual([...form.keys()], ["client_id", "scope", "client_assertion_type", "client_assertion", "grant_type"]);
  assert.equal(form.get("client_id"), CERT_APP);
});
