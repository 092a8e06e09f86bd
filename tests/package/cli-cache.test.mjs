// The CLI's token cache across runs, as a cron job meets it: the installed bin spawned again
// and again, requests counted at the local token endpoint. Every cache directory is a
// temporary one (HOME, XDG_CACHE_HOME, CCTOKEN_CACHE_DIR point there); the real ~/.cache is
// never touched. Also: the Workers entry refuses persistentCache by name.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "../node/fixtures.mjs";
import { nowSeconds, signJws } from "../node/jws.mjs";
import { localAppEnv, runCli } from "./cli-runner.mjs";

const require = createRequire(import.meta.url);
const PACKAGE = dirname(require.resolve("cctoken/package.json"));
const SCOPE = "api://cctoken-demo/.default";
const CERT_APP = "22222222-0000-4000-8000-0000000000c2";
let endpoint;
let root;

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret }, [CERT_APP]: { certificates: [FIXTURES.rsaCert] } },
  });
  root = await mkdtemp(join(tmpdir(), "cctoken-cli-cache-"));
});
after(async () => {
  await endpoint.close();
  await rm(root, { recursive: true, force: true });
});
beforeEach(() => endpoint.reset());

let count = 0;
/** A fresh empty directory under the suite's temporary root. */
async function directory(name) {
  const path = join(root, `${name}-${(count += 1)}`);
  return path;
}

/** The environment of a cron job for the local app, with `extra` (HOME and the rest unset unless given). */
const appEnv = (extra) => localAppEnv(endpoint, extra);

function cctoken(args, env) {
  return runCli(args, env);
}

async function entries(path) {
  return readdir(path).catch(() => undefined);
}

test("100 sequential `cctoken token` runs: exactly 1 request at the identity provider", async (t) => {
  const cache = await directory("sequential");
  const env = appEnv({ CCTOKEN_CACHE_DIR: cache });
  const started = performance.now();
  for (let run = 0; run < 100; run += 1) {
    const { code, stdout, stderr } = await cctoken(["token", "--scope", SCOPE], env);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    assert.equal(stdout, `${endpoint.requests[0].accessToken}\n`, `run ${run + 1} prints the one token`);
  }
  const cached = performance.now() - started;
  assert.equal(endpoint.requests.length, 1);
  assert.equal((await entries(cache)).length, 1, "one file, nothing left beside it");
  // For comparison (reported, not asserted): the same runs without the cache.
  const uncachedStart = performance.now();
  for (let run = 0; run < 10; run += 1) assert.equal((await cctoken(["token", "--scope", SCOPE, "--no-cache"], env)).code, 0);
  const uncached = performance.now() - uncachedStart;
  t.diagnostic(`100 cached runs: ${Math.round(cached)} ms (${(cached / 100).toFixed(1)} ms/run), 1 request; 10 --no-cache runs: ${Math.round(uncached)} ms (${(uncached / 10).toFixed(1)} ms/run)`);
});

test("--no-cache: a request each run, nothing read or written", async () => {
  const xdg = await directory("no-cache-xdg");
  const env = appEnv({ XDG_CACHE_HOME: xdg });
  await cctoken(["token", "--scope", SCOPE], env);
  assert.equal(endpoint.requests.length, 1);
  for (let run = 0; run < 3; run += 1) {
    const { code, stdout, stderr } = await cctoken(["token", "--scope", SCOPE, "--no-cache"], env);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `${endpoint.requests.at(-1).accessToken}\n`);
  }
  assert.equal(endpoint.requests.length, 4, "the cached token was not read");
  const noCacheOnly = await directory("no-cache-only");
  await cctoken(["token", "--scope", SCOPE, "--no-cache"], appEnv({ XDG_CACHE_HOME: noCacheOnly }));
  assert.equal(await entries(noCacheOnly), undefined, "not even the directory is created");
  const help = await cctoken(["token", "--help"], appEnv({}));
  assert.match(help.stdout, /--no-cache/);
  assert.match(help.stdout, /CCTOKEN_CACHE_DIR/);
});

test("where the file goes: CCTOKEN_CACHE_DIR, else $XDG_CACHE_HOME/cctoken, else $HOME/.cache/cctoken; none set: no cache", async () => {
  const home = await directory("home");
  const xdg = await directory("xdg");
  const moved = await directory("moved");
  await cctoken(["token", "--scope", SCOPE], appEnv({ HOME: home, XDG_CACHE_HOME: xdg, CCTOKEN_CACHE_DIR: moved }));
  assert.equal((await entries(moved)).length, 1, "CCTOKEN_CACHE_DIR wins");
  assert.equal(await entries(xdg), undefined);
  assert.equal(await entries(home), undefined);

  await cctoken(["token", "--scope", SCOPE], appEnv({ HOME: home, XDG_CACHE_HOME: xdg }));
  const [file] = await entries(join(xdg, "cctoken"));
  assert.match(file, /^[0-9a-f]{32}\.cache$/);
  assert.equal((await stat(join(xdg, "cctoken", file))).mode & 0o777, 0o600);
  assert.equal((await stat(join(xdg, "cctoken"))).mode & 0o777, 0o700);
  assert.equal(await entries(home), undefined);

  await cctoken(["token", "--scope", SCOPE], appEnv({ HOME: home, XDG_CACHE_HOME: "relative/ignored" }));
  assert.equal((await entries(join(home, ".cache", "cctoken"))).length, 1, "$HOME/.cache/cctoken");
  assert.equal(endpoint.requests.length, 3, "three directories, three files, three requests");

  // The same settings again: each directory serves its token.
  await cctoken(["token", "--scope", SCOPE], appEnv({ HOME: home }));
  await cctoken(["token", "--scope", SCOPE], appEnv({ XDG_CACHE_HOME: xdg }));
  await cctoken(["token", "--scope", SCOPE], appEnv({ CCTOKEN_CACHE_DIR: moved }));
  assert.equal(endpoint.requests.length, 3);

  for (let run = 0; run < 2; run += 1) await cctoken(["token", "--scope", SCOPE], appEnv({}));
  assert.equal(endpoint.requests.length, 5, "without HOME or a cache directory, nothing is kept");
});

test("every way of giving settings is cached: --client-secret-env, --certificate, --config", async () => {
  const cache = await directory("settings");
  const env = appEnv({ CCTOKEN_CACHE_DIR: cache, APP_SECRET: LOCAL_APP.clientSecret });
  const pem = join(root, "app.pem");
  await writeFile(pem, `${FIXTURES.rsaKey}\n${FIXTURES.rsaCert}`);
  const appsettings = join(root, "appsettings.json");
  await writeFile(appsettings, JSON.stringify({ AzureAd: { Instance: endpoint.url, TenantId: LOCAL_APP.tenantId, ClientId: LOCAL_APP.clientId, ClientSecret: LOCAL_APP.clientSecret } }));
  const ways = {
    "--client-secret-env": ["--tenant", LOCAL_APP.tenantId, "--client-id", LOCAL_APP.clientId, "--client-secret-env", "APP_SECRET", "--authority-host", endpoint.url],
    "--certificate": ["--tenant", LOCAL_APP.tenantId, "--client-id", CERT_APP, "--certificate", pem, "--authority-host", endpoint.url],
    "--config": ["--config", appsettings],
  };
  for (const [way, args] of Object.entries(ways)) {
    const before = endpoint.requests.length;
    for (let run = 0; run < 3; run += 1) {
      const { code, stderr } = await cctoken(["token", "--scope", `api://${way.slice(2)}/.default`, ...args], env);
      assert.equal(code, 0, `${way}: ${stderr}`);
    }
    assert.equal(endpoint.requests.length, before + 1, `${way}: one request for three runs`);
  }
});

test("concurrent `cctoken token` runs leave one valid file holding every run's token", async () => {
  const cache = await directory("concurrent");
  const env = appEnv({ CCTOKEN_CACHE_DIR: cache });
  const scopes = Array.from({ length: 6 }, (_, i) => `api://concurrent-${i}/.default`);
  const runs = await Promise.all(scopes.map((scope) => cctoken(["token", "--scope", scope], env)));
  assert.deepEqual(runs.map((run) => run.code), scopes.map(() => 0));
  assert.equal(endpoint.requests.length, scopes.length);
  assert.equal((await entries(cache)).length, 1, "one file, no temporary or lock file left");
  for (const [i, scope] of scopes.entries()) {
    const { stdout } = await cctoken(["token", "--scope", scope], env);
    assert.equal(stdout, runs[i].stdout, `${scope} served from the file`);
  }
  assert.equal(endpoint.requests.length, scopes.length);
});

test("--refresh: a new token from the identity provider, written to the cache for the next runs", async () => {
  const cache = await directory("refresh");
  const env = appEnv({ CCTOKEN_CACHE_DIR: cache });
  const first = await cctoken(["token", "--scope", SCOPE], env);
  assert.equal(first.code, 0, first.stderr);
  // As after admin consent: the cached token lacks the roles granted since.
  const refreshed = await cctoken(["token", "--scope", SCOPE, "--refresh"], env);
  assert.equal(refreshed.code, 0, refreshed.stderr);
  assert.equal(endpoint.requests.length, 2, "--refresh asked the identity provider");
  assert.equal(refreshed.stdout, `${endpoint.requests[1].accessToken}\n`);
  assert.notEqual(refreshed.stdout, first.stdout);
  const next = await cctoken(["token", "--scope", SCOPE], env);
  assert.equal(next.stdout, refreshed.stdout, "the next run is served the refreshed token from the file");
  assert.equal(endpoint.requests.length, 2);
  assert.equal((await entries(cache)).length, 1);
  // With --no-cache too: a request, nothing written.
  const elsewhere = await directory("refresh-no-cache");
  assert.equal((await cctoken(["token", "--scope", SCOPE, "--refresh", "--no-cache"], appEnv({ CCTOKEN_CACHE_DIR: elsewhere }))).code, 0);
  assert.equal(endpoint.requests.length, 3);
  assert.equal(await entries(elsewhere), undefined);
  assert.match((await cctoken(["token", "--help"], appEnv({}))).stdout, /--refresh .*\n.*admin consent/);
});

test("AZURE_FEDERATED_TOKEN_FILE: nothing written, a request each run", async () => {
  const cache = await directory("federated");
  const der = Buffer.from(FIXTURES.rsaCert.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const x5tS256 = Buffer.from(await crypto.subtle.digest("SHA-256", der)).toString("base64url");
  const aud = `${endpoint.authority}/oauth2/v2.0/token`;
  const tokenFile = join(root, "federated-token");
  const env = { PATH: process.env.PATH, AZURE_TENANT_ID: LOCAL_APP.tenantId, AZURE_CLIENT_ID: CERT_APP, AZURE_FEDERATED_TOKEN_FILE: tokenFile, AZURE_AUTHORITY_HOST: endpoint.url, CCTOKEN_CACHE_DIR: cache };
  for (let run = 0; run < 2; run += 1) {
    // As the platform rotates it: the endpoint refuses a jti it has seen.
    await writeFile(tokenFile, await signJws({ alg: "PS256", "x5t#S256": x5tS256 }, { iss: CERT_APP, sub: CERT_APP, aud, jti: crypto.randomUUID(), nbf: nowSeconds(), iat: nowSeconds(), exp: nowSeconds() + 600 }));
    const { code, stdout, stderr } = await cctoken(["token", "--scope", SCOPE], env);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `${endpoint.requests.at(-1).accessToken}\n`);
  }
  assert.equal(endpoint.requests.length, 2, "nothing loaded");
  assert.match(endpoint.requests[0].body, /client_assertion=/, "the federated token was the credential");
  assert.equal(await entries(cache), undefined, "no file, not even the directory");
});

test("the Workers entry refuses persistentCache by name", async () => {
  const outdir = await directory("worker-entry");
  // As wrangler bundles it for workerd (the .wasm import a compiled WebAssembly.Module), run by Node.
  const compiledWasm = {
    name: "compiled-wasm",
    setup(bundler) {
      bundler.onLoad({ filter: /\.wasm$/ }, (args) => ({
        contents: `import { readFileSync } from "node:fs"; export default new WebAssembly.Module(readFileSync(${JSON.stringify(args.path)}));`,
        loader: "js",
      }));
    },
  };
  await build({
    stdin: { contents: 'export * from "cctoken";', resolveDir: PACKAGE, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker"],
    mainFields: ["module", "main"],
    plugins: [compiledWasm],
    external: ["node:*"],
    outfile: join(outdir, "worker-entry.mjs"),
    logLevel: "error",
  });
  const { ConfidentialClient, ClientCredentialError } = await import(pathToFileURL(join(outdir, "worker-entry.mjs")).href);
  const options = { clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret } };
  assert.ok(new ConfidentialClient(options), "the bundle is the Workers entry and builds clients");
  for (const make of [() => new ConfidentialClient({ ...options, persistentCache: {} }), () => ConfidentialClient.fromEnvironment({ persistentCache: { directory: "/tmp" } })]) {
    assert.throws(make, (error) => {
      assert.ok(error instanceof ClientCredentialError);
      assert.equal(error.code, "invalid_config");
      assert.match(error.field, /^(options|overrides)\.persistentCache$/);
      assert.match(error.message, /not available in Workers/);
      return true;
    });
  }
});
