// persistentCache in a directory it cannot trust, and what it finds at its paths: a FIFO at the
// file, a symlink at the lock, a directory others can write. Also the merge of a file's tokens
// with the client's (per tenant, serialized versions 1 and 2). Temporary directories only.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, symlink, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";

const SCOPE = "api://cctoken-demo/.default";
const OTHER_SCOPE = "api://other-api/.default";
const isDeno = typeof globalThis.Deno !== "undefined";
const isWindows = process.platform === "win32";
/** This process's uid; undefined on Windows and in Deno without --allow-sys (which throws). */
const uid = (() => {
  try {
    return process.getuid?.();
  } catch {
    return undefined;
  }
})();
// The module behind the package's entry (not one of its exports): its merge and its test hook.
const internals = await import(new URL("./persistent-cache.mjs", import.meta.resolve("cctoken")).href);
let endpoint;
const directories = [];

before(async () => {
  endpoint = await startTokenEndpoint({ clients: { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret } } });
});
after(async () => {
  await endpoint.close();
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});
beforeEach(() => endpoint.reset());

/** A new directory `cache` (mode 0700) under a fresh temporary one. */
async function cacheDirectory() {
  const parent = await mkdtemp(join(tmpdir(), "cctoken-persistent-files-"));
  directories.push(parent);
  const directory = join(parent, "cache");
  await mkdir(directory, { mode: 0o700 });
  return directory;
}

const client = (directory) =>
  new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret }, persistentCache: { directory } });

/** The name of the app's file, as its first write leaves it. */
async function fileName(directory) {
  await client(directory).acquireTokenForClient({ scopes: [SCOPE] });
  const files = await readdir(directory);
  assert.equal(files.length, 1);
  endpoint.reset();
  return files[0];
}

// Before O_NONBLOCK, opening the FIFO waited for a writer forever: the timeout fails the test.
test("a FIFO at the file's path is neither waited on nor read: the token is requested and the FIFO replaced", { skip: (isDeno || isWindows) && "mkfifo needs --allow-run", timeout: 20_000 }, async () => {
  const directory = await cacheDirectory();
  const name = await fileName(directory);
  await unlink(join(directory, name));
  assert.equal(spawnSync("mkfifo", ["-m", "600", join(directory, name)]).status, 0, "mkfifo");
  const result = await client(directory).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(result.fromCache, false);
  assert.equal(endpoint.requests.length, 1);
  assert.ok((await lstat(join(directory, name))).isFile(), "the FIFO was replaced by the file");
  assert.equal((await client(directory).acquireTokenForClient({ scopes: [SCOPE] })).accessToken, result.accessToken);
  assert.equal(endpoint.requests.length, 1);
});

test("a directory others can write (group or world), or not a real directory, is not used: no file, a request per client", { skip: isWindows && "POSIX modes" }, async () => {
  for (const mode of [0o777, 0o770, 0o702]) {
    endpoint.reset();
    const directory = await cacheDirectory();
    await chmod(directory, mode);
    await client(directory).acquireTokenForClient({ scopes: [SCOPE] });
    await client(directory).acquireTokenForClient({ scopes: [SCOPE] });
    assert.equal(endpoint.requests.length, 2, `mode ${mode.toString(8)}: nothing loaded`);
    assert.deepEqual(await readdir(directory), [], `mode ${mode.toString(8)}: nothing written`);
  }
  // A symlink to a good directory is not followed.
  endpoint.reset();
  const target = await cacheDirectory();
  const link = join(target, "..", "link");
  await symlink(target, link);
  await client(link).acquireTokenForClient({ scopes: [SCOPE] });
  await client(link).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(endpoint.requests.length, 2);
  assert.deepEqual(await readdir(target), []);
});

test("a directory owned by another user is not used", { skip: uid !== 0 && "needs root to chown (and, in Deno, --allow-sys to know the uid)" }, async () => {
  const directory = await cacheDirectory();
  await chown(directory, 65534, 65534);
  await client(directory).acquireTokenForClient({ scopes: [SCOPE] });
  await client(directory).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(endpoint.requests.length, 2);
  assert.deepEqual(await readdir(directory), []);
});

// Before lstat, the dangling symlink read as a lock younger than any stale age, forever: each
// write waited out the lock wait (cut to 100 ms here) and wrote without the lock, leaving it.
test("a symlink at the lock's path is broken at once, not waited on", { skip: isWindows && "symlinks need privileges" }, async () => {
  const previous = internals.setLockTimingsForTests({ waitMs: 100 });
  try {
    const directory = await cacheDirectory();
    const name = await fileName(directory);
    await symlink(join(directory, "nowhere"), join(directory, `.${name}.lock`));
    const other = await client(directory).acquireTokenForClient({ scopes: [OTHER_SCOPE] });
    assert.deepEqual(await readdir(directory), [name], "the symlink is gone, and no lock left");
    const reader = client(directory);
    await reader.acquireTokenForClient({ scopes: [SCOPE] });
    assert.equal((await reader.acquireTokenForClient({ scopes: [OTHER_SCOPE] })).accessToken, other.accessToken);
    assert.equal(endpoint.requests.length, 1, "both scope sets' tokens are in the file");
  } finally {
    internals.setLockTimingsForTests(previous);
  }
});

const NOW = 1_800_000_000_000;
const cache = (version, tokens) => JSON.stringify({ version, token_endpoint: "https://login.example/t/oauth2/v2.0/token", client_id: "app", tokens });
const entry = (access_token, expiresIn, authority) => ({ ...(authority ? { authority } : {}), scopes: "api://a/.default", access_token, token_type: "Bearer", expires_on_ms: NOW + expiresIn });
const TENANT_B = "https://login.example/b";
const TENANT_C = "https://login.example/c";

test("merge keys tokens by tenant and scopes: two tenants' tokens for the same scopes are both kept (versions 1 and 2)", () => {
  // A file written by a client serving tenant B besides its own (version 2), merged into one
  // holding only its own tenant's token (version 1).
  const file = cache(2, [entry("home-old", 1_000), entry("b", 9_000, TENANT_B)]);
  const merged = JSON.parse(internals.merge(cache(1, [entry("home-new", 5_000)]), file, NOW));
  assert.equal(merged.version, 2, "it holds another tenant's token");
  assert.deepEqual(merged.tokens.map((token) => token.access_token), ["home-new", "b"]);
  // Both version 2: each tenant's later-expiring token wins, none replaces another tenant's.
  const both = JSON.parse(internals.merge(cache(2, [entry("c", 5_000, TENANT_C), entry("b-old", 2_000, TENANT_B)]), file, NOW));
  assert.deepEqual(both.tokens.map((token) => token.access_token).sort(), ["b", "c", "home-old"]);
  // Version 1 both ways stays version 1; an expired token of the file's is dropped.
  const plain = JSON.parse(internals.merge(cache(1, [entry("mine", 5_000)]), cache(1, [{ ...entry("theirs", -1), scopes: "api://x/.default" }]), NOW));
  assert.equal(plain.version, 1);
  assert.deepEqual(plain.tokens.map((token) => token.access_token), ["mine"]);
});

test("merge after a forced refresh: this process's token replaces the file's, even one expiring later", () => {
  const file = cache(2, [entry("file-later", 9_000), entry("b", 9_000, TENANT_B)]);
  const forced = JSON.parse(internals.merge(cache(1, [entry("forced-new", 5_000)]), file, NOW, true));
  assert.deepEqual(forced.tokens.map((token) => token.access_token), ["forced-new", "b"]);
  const unforced = JSON.parse(internals.merge(cache(1, [entry("forced-new", 5_000)]), file, NOW));
  assert.deepEqual(unforced.tokens.map((token) => token.access_token), ["file-later", "b"]);
});

test("merge leaves the file's tokens out when it is of an unknown version or another client", () => {
  const own = cache(1, [entry("mine", 5_000)]);
  for (const other of [
    JSON.stringify({ ...JSON.parse(cache(2, [entry("b", 9_000, TENANT_B)])), version: 3 }),
    JSON.stringify({ ...JSON.parse(cache(2, [entry("b", 9_000, TENANT_B)])), client_id: "another-app" }),
    cache(2, [{ ...entry("b", 9_000), authority: 5 }]),
    "not json",
  ]) {
    assert.deepEqual(JSON.parse(internals.merge(own, other, NOW)).tokens.map((token) => token.access_token), ["mine"], other);
  }
});
