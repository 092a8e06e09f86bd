// The installed package inside a Worker under workerd: bundled with esbuild as wrangler would
// (export condition "workerd", .wasm as a compiled module), run by Miniflare.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "../node/fixtures.mjs";

const CERT_APP = "55555555-0000-4000-8000-0000000000c5";
let endpoint;
let outdir;
let mf;

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret }, [CERT_APP]: { certificates: [FIXTURES.rsaCert] } },
  });
  outdir = await mkdtemp(join(tmpdir(), "cctoken-workerd-"));
  await build({
    entryPoints: [fileURLToPath(new URL("./worker-app.mjs", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker"],
    mainFields: ["module", "main"],
    loader: { ".wasm": "copy" },
    outdir,
    logLevel: "error",
  });
  mf = new Miniflare({
    scriptPath: join(outdir, "worker-app.js"),
    modules: true,
    modulesRoot: outdir,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2026-07-30",
  });
  await mf.ready;
});
after(async () => {
  await mf?.dispose();
  await endpoint?.close();
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

test("the package works inside a Worker: secret, cache, single-flight, certificate, errors", async () => {
  const response = await mf.dispatchFetch("http://worker.local/", {
    method: "POST",
    body: JSON.stringify({
      authority: endpoint.authority,
      clientId: LOCAL_APP.clientId,
      clientSecret: LOCAL_APP.clientSecret,
      certificateApp: CERT_APP,
      privateKeyPem: FIXTURES.rsaKey,
      certificatePem: FIXTURES.rsaCert,
    }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const report = JSON.parse(text);
  // workerd's clock moves only across I/O: the 3599 s lifetime counts from the send, a moment
  // at or after the Worker read `sent`.
  const { lifetimeMs } = report.secret;
  assert.ok(lifetimeMs >= 3_599_000 && lifetimeMs <= 3_609_000, `expiresOn is ${lifetimeMs} ms after the call`);
  report.secret.lifetimeMs = "checked";
  assert.deepEqual(report, {
    secret: { first: false, second: true, same: true, lifetimeMs: "checked" },
    concurrentDistinctTokens: 1,
    certificate: "Bearer",
    error: { code: "invalid_authority", field: "authority", isClientCredentialError: true },
    scopeForResource: "https://database.windows.net//.default",
  });
  assert.equal(endpoint.tokenRequests, 3, "one per client: 20 concurrent calls shared one request");
  assert.deepEqual(endpoint.requests.map((r) => r.status), [200, 200, 200]);
});
