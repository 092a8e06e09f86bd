// The JSR package (pkg/jsr.json, entry src/jsr.mjs), from the packed install: `deno publish
// --dry-run` with the repository's .gitignore rules (dist/ and README.md are generated, so
// ignored), then the published files served over http on 127.0.0.1 the way JSR serves them,
// imported by Deno and used to acquire a token. Deno comes from PATH (scripts/lib.sh puts
// node_modules/.bin there) or $DENO.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join } from "node:path";
import * as npmEntry from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";

const INSTALLED = dirname(createRequire(import.meta.url).resolve("cctoken/package.json"));
const DENO = process.env.DENO ?? "deno";
const SCOPE = "api://cctoken-demo/.default";
let dir;
let pkg;
let denoDir;
let endpoint;

before(async () => {
  endpoint = await startTokenEndpoint();
  dir = await mkdtemp(join(tmpdir(), "cctoken-jsr-"));
  pkg = join(dir, "pkg");
  denoDir = join(dir, "deno-dir");
  await cp(INSTALLED, pkg, { recursive: true });
  // pkg/'s entries in the repository's .gitignore: what `scripts/build.sh npm` generates.
  await writeFile(join(pkg, ".gitignore"), "/dist/\n/README.md\n");
});
after(async () => {
  await endpoint?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs deno with a private cache and no colour; resolves with its exit code and output. */
function deno(args, { cwd, env = {} }) {
  return new Promise((resolve, reject) => {
    const child = spawn(DENO, args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DENO_DIR: denoDir, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The files `deno publish --dry-run` would publish, relative to the package. */
async function publishSet() {
  const { code, stdout, stderr } = await deno(["publish", "--dry-run", "--allow-dirty"], { cwd: pkg });
  const output = stdout + stderr;
  assert.equal(code, 0, output);
  assert.match(output, /Dry run complete/);
  const prefix = new URL(`file://${pkg}/`).href;
  return [...output.matchAll(/^\s+(file:\S+) \(/gm)].map(([, url]) => url.slice(prefix.length)).sort();
}

let published;

test("deno publish --dry-run: the JSR entry, its types and the generated glue and wasm", { timeout: 120_000 }, async () => {
  published = await publishSet();
  assert.deepEqual(published.map((path) => path.replace(/cctoken-[0-9a-f]{16}/, "<crate>")), [
    "README.md",
    "dist/web/cctoken.d.ts",
    "dist/web/cctoken.js",
    "dist/web/cctoken_bg.wasm",
    "dist/web/snippets/<crate>/src/js/host_bridge.mjs",
    "jsr.json",
    "src/fast-path.mjs",
    "src/index.d.ts",
    "src/jsr.mjs",
    "src/no-persistent-cache.mjs",
  ]);
  const jsr = JSON.parse(await readFile(join(pkg, "jsr.json"), "utf8"));
  const npm = JSON.parse(await readFile(join(pkg, "package.json"), "utf8"));
  assert.equal(jsr.version, npm.version, "jsr.json and package.json publish the same version");
  assert.equal(jsr.license, npm.license);
  assert.equal(jsr.exports, "./src/jsr.mjs");
});

const TYPES = { ".mjs": "application/javascript", ".js": "application/javascript", ".ts": "application/typescript", ".wasm": "application/wasm", ".json": "application/json", ".md": "text/markdown" };

test("the JSR entry loaded over http, as from jsr.io, acquires a token under Deno", { timeout: 120_000 }, async () => {
  published ??= await publishSet();
  const served = [];
  // Only what would be published is served: a file left out of the package is a 404 here.
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname).slice(1);
    const ok = published.includes(path);
    served.push([path, ok ? 200 : 404]);
    if (!ok) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(await readFile(join(pkg, path)));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${server.address().port}`;
  try {
    const app = join(dir, "app.mjs");
    await writeFile(
      app,
      `import * as cctoken from "http://${host}/src/jsr.mjs";
const client = cctoken.ConfidentialClient.fromEnvironment();
const first = await client.acquireTokenForClient({ scopes: [${JSON.stringify(SCOPE)}] });
const second = await client.acquireTokenForClient({ scopes: [${JSON.stringify(SCOPE)}] });
let refused;
try {
  cctoken.ConfidentialClient.fromEnvironment({ persistentCache: { directory: "." } });
} catch (error) {
  refused = { code: error.code, field: error.field, npm: error.message.includes('"npm:cctoken"') };
}
console.log(JSON.stringify({ exports: Object.keys(cctoken).sort(), first: first.fromCache, second: second.fromCache, same: first.accessToken === second.accessToken, refused }));
`,
    );
    // No --allow-read: the wasm must come through the module graph, not from a file.
    const { code, stdout, stderr } = await deno(["run", "--no-config", "--no-lock", `--allow-import=${host}`, "--allow-net=127.0.0.1", "--allow-env", app], {
      cwd: dir,
      env: {
        AZURE_TENANT_ID: LOCAL_APP.tenantId,
        AZURE_CLIENT_ID: LOCAL_APP.clientId,
        AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret,
        AZURE_AUTHORITY_HOST: new URL(endpoint.authority).origin,
      },
    });
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), {
      exports: Object.keys(npmEntry).sort(),
      first: false,
      second: true,
      same: true,
      refused: { code: "invalid_config", field: "overrides.persistentCache", npm: true },
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.ok(served.some(([path]) => path === "dist/web/cctoken_bg.wasm"), "Deno fetched the wasm from the server");
  assert.deepEqual(served.filter(([, status]) => status !== 200), [], "requests for files outside the published set");
  assert.deepEqual(endpoint.requests.map((r) => [r.method, r.path, r.status]), [["POST", `/${LOCAL_APP.tenantId}/oauth2/v2.0/token`, 200]]);
  assert.equal(
    endpoint.requests[0].body,
    new URLSearchParams({ client_id: LOCAL_APP.clientId, scope: SCOPE, client_secret: LOCAL_APP.clientSecret, grant_type: "client_credentials" }).toString(),
  );
});
