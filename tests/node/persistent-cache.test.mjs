// persistentCache: tokens kept across clients and processes in one encrypted file per app,
// counted at the local token endpoint. Temporary directories only.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { copyFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { Buffer } from "node:buffer";
import { ClientCredentialError, ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "./fixtures.mjs";
import { nowSeconds, signJws } from "./jws.mjs";

const SCOPE = "api://cctoken-demo/.default";
const OTHER_APP = { clientId: "33333333-0000-4000-8000-0000000000c3", clientSecret: "another-app's-secret" };
const CERT_APP = "22222222-0000-4000-8000-0000000000c2";
const OTHER_TENANT = "44444444-0000-4000-8000-0000000000d4";
const isDeno = typeof globalThis.Deno !== "undefined";
let endpoint;
const directories = [];

before(async () => {
  endpoint = await startTokenEndpoint({
    tenants: [LOCAL_APP.tenantId, LOCAL_APP.tenantDomain, OTHER_TENANT],
    clients: {
      [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret },
      [OTHER_APP.clientId]: { secret: OTHER_APP.clientSecret },
      [CERT_APP]: { certificates: [FIXTURES.rsaCert] },
    },
  });
});
after(async () => {
  await endpoint.close();
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});
beforeEach(() => endpoint.reset());

async function temporaryDirectory() {
  const directory = await mkdtemp(join(tmpdir(), "cctoken-persistent-"));
  directories.push(directory);
  return join(directory, "cache");
}

const secretClient = (directory, { clientId = LOCAL_APP.clientId, clientSecret = LOCAL_APP.clientSecret, authority = endpoint.authority, ...options } = {}) =>
  new ConfidentialClient({ clientId, authority, credential: { clientSecret }, persistentCache: { directory }, ...options });

const certificateClient = (directory, privateKeyPem) =>
  new ConfidentialClient({ clientId: CERT_APP, authority: endpoint.authority, credential: { certificate: { privateKeyPem, certificatePem: FIXTURES.rsaCert } }, persistentCache: { directory } });

async function cacheFiles(directory) {
  // Every entry: no temporary or lock file may be left behind.
  return readdir(directory).catch(() => []);
}

/** The one cache file in `directory`. */
async function onlyFile(directory) {
  const files = await cacheFiles(directory);
  assert.equal(files.length, 1, `one file in the cache directory, found ${files.join(", ")}`);
  return join(directory, files[0]);
}

test("a second client with the same credential loads the token: no request at the identity provider", async () => {
  const directory = await temporaryDirectory();
  const first = await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(first.fromCache, false);
  assert.equal(endpoint.requests.length, 1);
  const second = secretClient(directory);
  const loaded = await second.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(endpoint.requests.length, 1, "served from the file");
  assert.equal(loaded.fromCache, true);
  assert.equal(loaded.accessToken, first.accessToken);
  assert.equal(loaded.expiresOn.getTime(), first.expiresOn.getTime());
  // Another scope set is acquired, and written beside the first token.
  await second.acquireTokenForClient({ scopes: ["api://other-api/.default"] });
  assert.equal(endpoint.requests.length, 2);
  const third = secretClient(directory);
  assert.equal((await third.acquireTokenForClient({ scopes: [SCOPE] })).accessToken, first.accessToken);
  assert.equal((await third.acquireTokenForClient({ scopes: ["api://other-api/.default"] })).accessToken, endpoint.requests[1].accessToken);
  assert.equal(endpoint.requests.length, 2);
  assert.equal((await cacheFiles(directory)).length, 1, "one file per app, temporary files gone");
});

test("the file: mode 0600 in a 0700 directory, its name and bytes hold no client id, tenant, token or secret", async () => {
  const directory = await temporaryDirectory();
  const { accessToken } = await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
  const file = await onlyFile(directory);
  if (process.platform !== "win32") {
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
  }
  const name = file.slice(directory.length + 1);
  assert.match(name, /^[0-9a-f]{32}\.cache$/);
  const bytes = await readFile(file);
  const asText = bytes.toString("latin1");
  for (const clear of [accessToken, accessToken.split(".")[1], LOCAL_APP.clientSecret, LOCAL_APP.clientId, LOCAL_APP.tenantId, SCOPE, "access_token", "Bearer"]) {
    assert.ok(!asText.includes(clear), "nothing in clear");
    assert.ok(!asText.includes(Buffer.from(clear).toString("base64")), "nothing in base64");
  }
});

test("another credential opens nothing: another secret, another app, another private key", async () => {
  const directory = await temporaryDirectory();
  await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
  const file = await onlyFile(directory);
  const wrongSecret = await secretClient(directory, { clientSecret: "not-the-secret" }).acquireTokenForClient({ scopes: [SCOPE] }).catch((e) => e);
  assert.equal(wrongSecret.code, "invalid_client", "went to the identity provider, which refused the secret");
  assert.equal(endpoint.requests.length, 2);
  const other = await secretClient(directory, OTHER_APP).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(other.fromCache, false);
  assert.equal(endpoint.requests.length, 3);
  assert.equal((await cacheFiles(directory)).length, 2, "each app its own file");
  // PKCS#8 and PKCS#1 PEMs of one key are one credential: one file; another key is not.
  await certificateClient(directory, FIXTURES.rsaKey).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(endpoint.requests.length, 4);
  const pkcs1 = await certificateClient(directory, FIXTURES.rsaKeyPkcs1).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(pkcs1.fromCache, true);
  assert.equal(endpoint.requests.length, 4);
  const otherKey = await certificateClient(directory, FIXTURES.otherKey).acquireTokenForClient({ scopes: [SCOPE] }).catch((e) => e);
  assert.equal(otherKey.code, "invalid_client", "went to the identity provider, which refused the key");
  assert.equal(endpoint.requests.length, 5);
  assert.ok((await stat(file)).isFile(), "the first app's file is untouched");
});

test("a corrupt, truncated, tampered, empty or foreign file is ignored and replaced, never an error", async () => {
  const foreignDirectory = await temporaryDirectory();
  await secretClient(foreignDirectory, OTHER_APP).acquireTokenForClient({ scopes: [SCOPE] });
  const foreign = await onlyFile(foreignDirectory);
  const damages = {
    corrupt: (file) => writeFile(file, "not a cache file at all"),
    empty: (file) => writeFile(file, ""),
    truncated: async (file) => truncate(file, (await stat(file)).size - 5),
    tampered: async (file) => {
      const bytes = await readFile(file);
      bytes[bytes.length - 20] ^= 1;
      await writeFile(file, bytes);
    },
    foreign: (file) => copyFile(foreign, file),
  };
  for (const [damage, apply] of Object.entries(damages)) {
    endpoint.reset();
    const directory = await temporaryDirectory();
    const issued = await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
    const file = await onlyFile(directory);
    await apply(file);
    const result = await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
    assert.equal(result.fromCache, false, `${damage}: not loaded`);
    assert.notEqual(result.accessToken, issued.accessToken, damage);
    assert.equal(endpoint.requests.length, 2, `${damage}: a new token was requested`);
    const reloaded = await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
    assert.equal(reloaded.accessToken, result.accessToken, `${damage}: the file was replaced by a good one`);
    assert.equal(endpoint.requests.length, 2, damage);
  }
});

test("concurrent clients in one process: the file stays valid and keeps every scope set's token", async () => {
  const directory = await temporaryDirectory();
  const scopes = Array.from({ length: 8 }, (_, i) => `api://concurrent-${i}/.default`);
  const issued = await Promise.all(scopes.map((scope) => secretClient(directory).acquireTokenForClient({ scopes: [scope] })));
  assert.equal(endpoint.requests.length, scopes.length);
  const reader = secretClient(directory);
  for (const [i, scope] of scopes.entries()) {
    assert.equal((await reader.acquireTokenForClient({ scopes: [scope] })).accessToken, issued[i].accessToken, scope);
  }
  assert.equal(endpoint.requests.length, scopes.length, "every token loaded from the file");
  assert.equal((await cacheFiles(directory)).length, 1);
});

// Deno's test run has no --allow-run; Node and Bun spawn the writers.
test("concurrent processes: the file stays valid and keeps every writer's token", { skip: isDeno && "needs --allow-run" }, async () => {
  const directory = await temporaryDirectory();
  const writer = new URL("./persistent-cache-writer.mjs", import.meta.url).pathname;
  const scopes = Array.from({ length: 6 }, (_, i) => `api://process-${i}/.default`);
  const codes = await Promise.all(
    scopes.map(
      (scope) =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [writer, endpoint.authority, directory, scope], { stdio: ["ignore", "ignore", "inherit"] });
          child.on("error", reject);
          child.on("exit", resolve);
        }),
    ),
  );
  assert.deepEqual(codes, scopes.map(() => 0));
  assert.equal(endpoint.requests.length, scopes.length);
  const reader = secretClient(directory);
  for (const scope of scopes) {
    const result = await reader.acquireTokenForClient({ scopes: [scope] });
    assert.equal(result.accessToken, endpoint.requests.find((r) => r.body.includes(encodeURIComponent(scope)))?.accessToken, scope);
  }
  assert.equal(endpoint.requests.length, scopes.length, "every writer's token is in the file");
});

test("a federated credential (client assertion) writes nothing", async () => {
  const directory = await temporaryDirectory();
  const der = Buffer.from(FIXTURES.rsaCert.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const x5tS256 = Buffer.from(await crypto.subtle.digest("SHA-256", der)).toString("base64url");
  const tokenEndpoint = `${endpoint.authority}/oauth2/v2.0/token`;
  const clientAssertion = () =>
    signJws({ alg: "PS256", "x5t#S256": x5tS256 }, { iss: CERT_APP, sub: CERT_APP, aud: tokenEndpoint, jti: crypto.randomUUID(), nbf: nowSeconds(), iat: nowSeconds(), exp: nowSeconds() + 300 });
  const federated = () => new ConfidentialClient({ clientId: CERT_APP, authority: endpoint.authority, credential: { clientAssertion }, persistentCache: { directory } });
  const result = await federated().acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(result.fromCache, false);
  assert.equal(endpoint.requests.at(-1).status, 200);
  assert.deepEqual(await cacheFiles(directory), [], "no file, no directory");
  await federated().acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(endpoint.requests.length, 2, "nothing loaded either");
});

test("fromEnvironment and fromConfigFile derive the key inside the wasm: they open the constructor's file", async () => {
  const directory = await temporaryDirectory();
  const issued = await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
  const vars = { AZURE_TENANT_ID: LOCAL_APP.tenantId, AZURE_CLIENT_ID: LOCAL_APP.clientId, AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret, AZURE_AUTHORITY_HOST: endpoint.url };
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  Object.assign(process.env, vars);
  let fromEnvironment;
  try {
    fromEnvironment = ConfidentialClient.fromEnvironment({ persistentCache: { directory } });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  assert.equal((await fromEnvironment.acquireTokenForClient({ scopes: [SCOPE] })).accessToken, issued.accessToken);
  const appsettings = join(directory, "..", "appsettings.json");
  await writeFile(appsettings, JSON.stringify({ AzureAd: { Instance: endpoint.url, TenantId: LOCAL_APP.tenantId, ClientId: LOCAL_APP.clientId, ClientSecret: LOCAL_APP.clientSecret } }));
  const fromConfigFile = ConfidentialClient.fromConfigFile(appsettings, { persistentCache: { directory } });
  assert.equal((await fromConfigFile.acquireTokenForClient({ scopes: [SCOPE] })).accessToken, issued.accessToken);
  assert.equal(endpoint.requests.length, 1);
});

test("the CommonJS entry reads and writes the same file", { skip: isDeno && "require() of the package is Node's and Bun's" }, async () => {
  const directory = await temporaryDirectory();
  // By path: Bun's require("cctoken") takes the "bun" condition, the ES module.
  const require = createRequire(import.meta.url);
  const cjs = require(join(dirname(require.resolve("cctoken/package.json")), "src", "index.cjs"));
  assert.notEqual(cjs.ConfidentialClient, ConfidentialClient, "the CommonJS build, not the ES module");
  const client = new cjs.ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret }, persistentCache: { directory } });
  const issued = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal((await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] })).accessToken, issued.accessToken);
  assert.equal(endpoint.requests.length, 1);
});

test("a cache that cannot be written costs a token request, never an error", async () => {
  const directory = await temporaryDirectory();
  const blocked = join(directory, "..", "a-file");
  await writeFile(blocked, "a file where the directory should be");
  const result = await secretClient(join(blocked, "cache")).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(result.fromCache, false);
  await secretClient(join(blocked, "cache")).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(endpoint.requests.length, 2);
});

test("malformed persistentCache options are refused by name", () => {
  const base = { clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret } };
  for (const [persistentCache, field] of [
    ["yes", "options.persistentCache"],
    [{ directory: 5 }, "options.persistentCache.directory"],
    [{ directory: " " }, "options.persistentCache.directory"],
    [{ dir: "/tmp/x" }, "options.persistentCache.dir"],
  ]) {
    assert.throws(() => new ConfidentialClient({ ...base, persistentCache }), (error) => {
      assert.ok(error instanceof ClientCredentialError);
      assert.equal(error.code, "invalid_config");
      assert.equal(error.field, field);
      assert.ok(!error.message.includes(LOCAL_APP.clientSecret));
      return true;
    });
  }
  assert.throws(() => ConfidentialClient.fromEnvironment({ persistentCache: [] }), { code: "invalid_config", field: "overrides.persistentCache" });
  // Absent or null: no cache, and the other options are read as before.
  assert.ok(new ConfidentialClient({ ...base, persistentCache: undefined }));
  assert.ok(new ConfidentialClient({ ...base, persistentCache: null }));
});

test("getAuthorizationHeader reads and writes the file too: a second client makes no request", async () => {
  const directory = await temporaryDirectory();
  const header = await secretClient(directory).getAuthorizationHeader({ scopes: [SCOPE] });
  assert.equal(header, `Bearer ${endpoint.requests[0].accessToken}`);
  assert.equal(endpoint.requests.length, 1);
  assert.equal(await secretClient(directory).getAuthorizationHeader({ scopes: [SCOPE] }), header, "loaded from the file");
  assert.equal(endpoint.requests.length, 1);
  // And what it wrote is what acquireTokenForClient finds.
  assert.equal((await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] })).fromCache, true);
  assert.equal(endpoint.requests.length, 1);
});

test("callApi reads and writes the file too: a second client calls the API with the first one's token", async () => {
  const directory = await temporaryDirectory();
  const calls = [];
  const api = createServer((req, res) => {
    calls.push(req.headers.authorization);
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise((resolve) => api.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${api.address().port}/me`;
    assert.equal((await secretClient(directory).callApi(url, { scopes: [SCOPE] })).status, 200);
    assert.equal(endpoint.requests.length, 1);
    assert.equal((await secretClient(directory).callApi(url, { scopes: [SCOPE] })).status, 200);
    assert.equal(endpoint.requests.length, 1, "the second client's token came from the file");
    assert.deepEqual(calls, [1, 2].map(() => `Bearer ${endpoint.requests[0].accessToken}`));
  } finally {
    api.closeAllConnections?.();
    await new Promise((resolve) => api.close(resolve));
  }
});

test("clientCapabilities are part of the file's identity: a cp1 client's tokens are not loaded by a plain one, nor the other way", async () => {
  const directory = await temporaryDirectory();
  const cae = { clientCapabilities: ["cp1"] };
  await secretClient(directory, cae).acquireTokenForClient({ scopes: [SCOPE] });
  assert.match(endpoint.requests[0].body, /xms_cc/, "the writer declared cp1");
  const plain = await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(plain.fromCache, false, "the plain reader did not load the cp1 token");
  assert.equal(endpoint.requests.length, 2);
  assert.doesNotMatch(endpoint.requests[1].body, /xms_cc/);
  assert.equal((await cacheFiles(directory)).length, 2, "one file each");
  // Each finds its own: the cp1 one with the capabilities in another order or repeated too.
  assert.equal((await secretClient(directory, { clientCapabilities: ["cp1", "cp1"] }).acquireTokenForClient({ scopes: [SCOPE] })).accessToken, endpoint.requests[0].accessToken);
  assert.equal((await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] })).accessToken, endpoint.requests[1].accessToken);
  assert.equal(endpoint.requests.length, 2);
});

test("a token loaded past the reader's expiry buffer is not served: the reader makes a request", async () => {
  const directory = await temporaryDirectory();
  // 3599 s tokens: fresh for the writer (the default 300 s buffer), inside the reader's 3600 s one.
  const written = await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
  const reader = secretClient(directory, { expiryBufferSeconds: 3600 });
  const result = await reader.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(result.fromCache, false);
  assert.notEqual(result.accessToken, written.accessToken);
  assert.equal(endpoint.requests.length, 2);
  // A reader with the default buffer still loads it.
  assert.equal((await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] })).fromCache, true);
  assert.equal(endpoint.requests.length, 2);
});

test("the same app and secret in another tenant gets a file of its own", async () => {
  const directory = await temporaryDirectory();
  const otherTenant = { authority: `${endpoint.url}/${OTHER_TENANT}` };
  const home = await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] });
  const other = await secretClient(directory, otherTenant).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(other.fromCache, false);
  assert.equal(endpoint.requests.length, 2);
  assert.equal(endpoint.requests[1].path, `/${OTHER_TENANT}/oauth2/v2.0/token`);
  assert.equal((await cacheFiles(directory)).length, 2, "a file per tenant");
  // Neither write replaced the other tenant's token.
  assert.equal((await secretClient(directory).acquireTokenForClient({ scopes: [SCOPE] })).accessToken, home.accessToken);
  assert.equal((await secretClient(directory, otherTenant).acquireTokenForClient({ scopes: [SCOPE] })).accessToken, other.accessToken);
  assert.equal(endpoint.requests.length, 2);
});

test("clients of one app with other tenant rules share the file: a plain reader loads its own tenant's token, never another cloud's", async () => {
  // A daemon listing another cloud in allowedAuthorityHosts, and a CLI without: one file (the
  // rules are not part of its identity). The other cloud is a second local endpoint.
  const cloud = await startTokenEndpoint({ tenants: [OTHER_TENANT], clients: { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret } } });
  try {
    const directory = await temporaryDirectory();
    const elsewhere = { scopes: [SCOPE], authority: `${cloud.url}/${OTHER_TENANT}` };
    const daemon = () => secretClient(directory, { allowedAuthorityHosts: [cloud.url] });
    const writer = daemon();
    const own = await writer.acquireTokenForClient({ scopes: [SCOPE] });
    const other = await writer.acquireTokenForClient(elsewhere);
    assert.equal(other.tenantId, OTHER_TENANT);
    assert.equal((await cacheFiles(directory)).length, 1, "one file for both");

    const cli = secretClient(directory);
    const hit = await cli.acquireTokenForClient({ scopes: [SCOPE] });
    assert.equal(hit.fromCache, true, "the reader loaded its own tenant's token despite the other cloud's entry");
    assert.equal(hit.accessToken, own.accessToken);
    assert.equal(endpoint.requests.length, 1, "no request for the reader");
    const refused = await cli.acquireTokenForClient(elsewhere).catch((e) => e);
    assert.equal(refused.field, "authority");
    assert.match(refused.message, /allowedAuthorityHosts/, "the other cloud's token is not served to a client that may not ask for it");
    // The reader's own write (another tenant on its cloud) keeps the daemon's entry.
    await cli.acquireTokenForClient({ scopes: [SCOPE], tenantId: OTHER_TENANT });
    assert.equal(endpoint.requests.length, 2);
    assert.equal((await daemon().acquireTokenForClient(elsewhere)).accessToken, other.accessToken);
    assert.equal(cloud.requests.length, 1, "the other cloud was asked once, by the daemon");
  } finally {
    await cloud.close();
  }
});
