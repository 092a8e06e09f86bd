// Tokens kept across processes (`persistentCache`, the CLI's cache): one encrypted file per
// app, loaded into the client's memory cache once before its first acquireTokenForClient,
// getAuthorizationHeader or callApi, and rewritten after each such call that changed the
// memory cache (a background refresh is written with the next call). Node, Deno and Bun (node:fs).
//
// The key is the app's credential: the core (src/js/persistent_cache_key.rs) hands over input
// key material that binds the client secret or private key to the token endpoint and client
// id; WebCrypto's HKDF-SHA-256 turns it into the file's name and, with a random salt per write,
// an AES-256-GCM key. Only a holder of the credential can find, read or forge the file, and a
// file copied to another app's name does not open (the name is authenticated data). Anything
// that does not open (corrupt, truncated, foreign, other key, other format) is ignored and
// replaced by the next write: the cache is an optimisation, never an error.
//
// Sits under the fast path (fast-path.mjs): its hits never reach here, only the core's work.

const MAGIC = new TextEncoder().encode("cctoken\x01");
const SALT_BYTES = 16;
const IV_BYTES = 12;
const HEADER_BYTES = MAGIC.length + SALT_BYTES + IV_BYTES;
/** GCM's tag: a shorter file cannot be ours. */
const TAG_BYTES = 16;
/** Far above any real cache (about 2 KB per token); a bigger file is not read at all. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const lockTimings = {
  /** How long a writer waits for another process's lock before writing without it. */
  waitMs: 5_000,
  /** A lock older than this was left by a writer that died: it is broken. */
  staleMs: 15_000,
};

/**
 * Tests only (this file is not among the package's exports): shorter lock timings, so that a
 * test of a lock that is never released does not wait 5 s. Returns the previous ones.
 */
export function setLockTimingsForTests(timings) {
  const previous = { ...lockTimings };
  Object.assign(lockTimings, timings);
  return previous;
}
/** Each cached client's withFile, for persistedForcedAcquisition: beside the client, as `stores`. */
const runners = new WeakMap();

/**
 * The CLI's doctor only (not among the package's exports): runs `acquire`, a forced token
 * acquisition made inside wasm for `client`, as `acquireTokenForClient({ forceRefresh: true })`
 * would run: the file loaded before, the new token written after. Just `acquire()` for a
 * client without a persistent cache (--no-cache).
 */
export function persistedForcedAcquisition(client, acquire) {
  const run = runners.get(client);
  return run === undefined ? acquire() : run(acquire);
}
const NAME_INFO = new TextEncoder().encode("cctoken persistent cache v1: file name");
const KEY_INFO = new TextEncoder().encode("cctoken persistent cache v1: AES-256-GCM key");

/**
 * `Base` (the wasm class) taking a `persistentCache` option in its constructor,
 * `fromEnvironment` overrides and `fromConfigFile`'s second argument. `keyMaterialOf(source,
 * options)` is the core's `persistentCacheKeyMaterial`; `ErrorClass` makes refusals.
 */
export function withPersistentCache(Base, keyMaterialOf, ErrorClass) {
  // Beside the client, not on it: `console.log(client)` must show nothing of the cache.
  const stores = new WeakMap();
  const deserialize = Base.prototype.deserializeCache;
  const serialize = Base.prototype.serializeCache;

  const attach = (client, setting, source, options) => {
    if (setting === undefined) return client;
    const material = keyMaterialOf(source, options);
    // No stable secret (a federated credential): nothing goes to disk.
    if (material === undefined) return client;
    // importKey copies the bytes before it returns, so they are wiped at once.
    const baseKey = crypto.subtle.importKey("raw", material, "HKDF", false, ["deriveBits", "deriveKey"]);
    material.fill(0);
    baseKey.catch(() => {});
    // `seen`: the memory cache's JSON when it was last loaded or written.
    stores.set(client, { directory: setting.directory, baseKey, loaded: undefined, file: undefined, seen: undefined });
    runners.set(client, (acquire) => withFile(client, acquire, true));
    return client;
  };

  class ConfidentialClient extends Base {
    constructor(options) {
      const [rest, setting] = takeSetting(options, "options", ErrorClass);
      super(rest);
      attach(this, setting, "options", rest);
    }

    static fromEnvironment(overrides) {
      const [rest, setting] = takeSetting(overrides, "overrides", ErrorClass);
      return attach(super.fromEnvironment(rest), setting, "environment", rest);
    }

    static fromConfigFile(path, options) {
      const setting = configFileSetting(options, ErrorClass);
      return attach(super.fromConfigFile(path), setting, "configFile", path);
    }

    acquireTokenForClient(request) {
      return withFile(this, () => super.acquireTokenForClient(request), isForced(request));
    }

    getAuthorizationHeader(request) {
      return withFile(this, () => super.getAuthorizationHeader(request), isForced(request));
    }

    callApi(url, init) {
      return withFile(this, () => super.callApi(url, init));
    }
  }

  /**
   * Runs `call` (a method of the core's) with the file loaded first, once, and written after
   * it when the memory cache changed: a token the identity provider issued, also one a refused
   * or failed API call acquired, and a background refresh's. Compared with what was last
   * loaded or written, so that a call answered from memory writes nothing. (A function, not a
   * #private method: fromEnvironment's clients are made by the wasm glue, not this constructor.)
   */
  const withFile = (client, call, forced = false) => {
    const store = stores.get(client);
    if (store === undefined) return call();
    return (async () => {
      store.loaded ??= load(client, store, deserialize, serialize);
      await store.loaded;
      try {
        return await call();
      } finally {
        await save(client, store, serialize, forced);
      }
    })();
  };
  return ConfidentialClient;
}

/** Whether `request` asks for a new token (`forceRefresh: true`). */
function isForced(request) {
  return request !== null && typeof request === "object" && Object.hasOwn(request, "forceRefresh") && request.forceRefresh === true;
}

/** `[options without persistentCache, its setting or undefined]`; `options` itself when it has none. */
function takeSetting(options, field, ErrorClass) {
  if (options === null || typeof options !== "object" || !Object.hasOwn(options, "persistentCache")) return [options, undefined];
  const setting = readSetting(options.persistentCache, `${field}.persistentCache`, ErrorClass);
  // Every other own property as it is (getters, non-enumerable ones): the core reads them.
  const descriptors = Object.getOwnPropertyDescriptors(options);
  delete descriptors.persistentCache;
  return [Object.create(Object.getPrototypeOf(options), descriptors), setting];
}

function configFileSetting(options, ErrorClass) {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== "object") throw refusal(ErrorClass, "options", "fromConfigFile's second argument must be an object: { persistentCache: { directory } }");
  for (const name of Object.getOwnPropertyNames(options)) {
    if (name !== "persistentCache") throw refusal(ErrorClass, `options.${name}`, `fromConfigFile takes only persistentCache besides the path, not ${name}`);
  }
  return Object.hasOwn(options, "persistentCache") ? readSetting(options.persistentCache, "options.persistentCache", ErrorClass) : undefined;
}

/** `{ directory? }`, or undefined for off (undefined or null). */
function readSetting(value, field, ErrorClass) {
  if (value === undefined || value === null) return undefined;
  const example = "persistentCache: { directory: \"/var/cache/myapp\" } (or {} for the default directory)";
  if (typeof value !== "object" || Array.isArray(value)) throw refusal(ErrorClass, field, `${field} must be an object: ${example}`);
  let directory;
  for (const name of Object.getOwnPropertyNames(value)) {
    if (name !== "directory") throw refusal(ErrorClass, `${field}.${name}`, `${field} takes only directory, not ${name}: ${example}`);
    directory = value.directory;
  }
  if (directory !== undefined && (typeof directory !== "string" || directory.trim() === "")) {
    throw refusal(ErrorClass, `${field}.directory`, `${field}.directory must be a non-empty path: ${example}`);
  }
  return { directory };
}

function refusal(ErrorClass, field, message) {
  return Object.assign(new ErrorClass(message), { code: "invalid_config", transient: false, field });
}

/**
 * The default directory: `CCTOKEN_CACHE_DIR`, else `$XDG_CACHE_HOME/cctoken`, else
 * `$HOME/.cache/cctoken` (`%LOCALAPPDATA%\cctoken` on Windows); undefined when none is set.
 */
export function defaultCacheDirectory(path, env = environmentVariable) {
  const explicit = env("CCTOKEN_CACHE_DIR");
  if (explicit) return explicit;
  // The XDG spec: a relative XDG_CACHE_HOME is invalid and is ignored.
  const xdg = env("XDG_CACHE_HOME");
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, "cctoken");
  const localAppData = globalThis.process?.platform === "win32" ? env("LOCALAPPDATA") : undefined;
  if (localAppData) return path.join(localAppData, "cctoken");
  const home = env("HOME");
  return home ? path.join(home, ".cache", "cctoken") : undefined;
}

/** A non-blank environment variable, if readable (Deno without --allow-env reads as unset). */
function environmentVariable(name) {
  let value;
  try {
    value = globalThis.Deno?.env ? globalThis.Deno.env.get(name) : Object.hasOwn(process.env, name) ? process.env[name] : undefined;
  } catch {
    return undefined;
  }
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

let nodeModules;
/** node:fs's promises and constants and node:path, imported on first use only (never in Workers). */
function modules() {
  // Node's and Bun's CommonJS module objects when the runtime offers them: importing node:fs's
  // ESM facade costs milliseconds per CLI run.
  const builtin = (name) => globalThis.process?.getBuiltinModule?.(name);
  const fs = builtin("node:fs");
  const path = builtin("node:path");
  nodeModules ??= fs && path ? Promise.resolve({ fs: fs.promises, constants: fs.constants, path }) : Promise.all([import("node:fs"), import("node:path")]).then(([fs, path]) => ({ fs: fs.promises, constants: fs.constants, path }));
  return nodeModules;
}

/** The store's file: `{ path, name, directory }`, or undefined when there is no directory. */
async function fileOf(store) {
  store.file ??= (async () => {
    const { path } = await modules();
    const directory = store.directory ?? defaultCacheDirectory(path);
    if (directory === undefined) return undefined;
    const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: NAME_INFO }, await store.baseKey, 128);
    const name = `${hex(new Uint8Array(bits))}.cache`;
    const resolved = path.resolve(directory);
    return { directory: resolved, name, path: path.join(resolved, name) };
  })();
  return store.file;
}

/** Loads the file into `client`'s memory cache; whatever goes wrong, nothing is loaded. */
async function load(client, store, deserialize, serialize) {
  try {
    const file = await fileOf(store);
    if (file === undefined || !(await trustedDirectory(file))) return;
    const json = await readFile(store, file);
    if (json !== undefined) deserialize.call(client, json);
  } catch {
    // Not ours, or not readable: the next write replaces it.
  } finally {
    store.seen = serialize.call(client);
  }
}

/**
 * Writes `client`'s fresh tokens merged with the file's (each scope set's later-expiring
 * token wins), atomically. Read, merge and rename happen under a lock (in this process a
 * queue, across processes a lock file), so that concurrent writers do not drop each other's
 * tokens; the rename alone already keeps the file whole.
 */
async function save(client, store, serialize, forced) {
  try {
    const file = await fileOf(store);
    if (file === undefined) return;
    const own = serialize.call(client);
    if (own === store.seen) return;
    store.seen = own;
    const { fs } = await modules();
    await fs.mkdir(file.directory, { recursive: true, mode: 0o700 });
    if (!(await trustedDirectory(file))) return;
    await inTurn(file.path, () =>
      underLock(file, async () => {
        const merged = merge(own, await readFile(store, file), Date.now(), forced);
        await writeAtomically(file, await encrypt(store, file, merged));
      }),
    );
  } catch {
    // A cache that cannot be written (read-only home, full disk) only costs a token request.
  }
}

/**
 * Whether `file`'s directory is one only this user can change: a real directory (lstat: not a
 * symlink), owned by this user where the runtime tells (not on Windows, nor Deno without
 * --allow-sys), writable by no group or other. In a directory others can write, they could
 * plant a FIFO, a symlink or a lock that never goes away, or swap the file between our
 * checks: the cache is skipped there.
 */
async function trustedDirectory(file) {
  const { fs } = await modules();
  let status;
  try {
    status = await fs.lstat(file.directory);
  } catch {
    return false;
  }
  if (!status.isDirectory()) return false;
  let uid;
  try {
    uid = globalThis.process?.getuid?.();
  } catch {
    // Deno without --allow-sys may not ask: the mode alone is checked there.
  }
  if (typeof uid === "number" && uid >= 0 && status.uid !== uid) return false;
  return globalThis.process?.platform === "win32" || (status.mode & 0o022) === 0;
}

/**
 * Runs `task` holding the file's lock (`.<name>.lock`, created exclusively). A writer that
 * cannot get it within lockTimings.waitMs writes anyway: a lost merge costs a token request, a
 * stuck CLI would cost more. A lock left by a writer that died is broken after
 * lockTimings.staleMs, and anything there that is not a regular file (a symlink, dangling or
 * not: our locks never are one) at once; two writers breaking it at once may both write,
 * which again loses at most a merge.
 */
async function underLock(file, task) {
  const { fs, path } = await modules();
  const lock = path.join(file.directory, `.${file.name}.lock`);
  const deadline = Date.now() + lockTimings.waitMs;
  let held = false;
  for (let pause = 1; !held; pause = Math.min(pause * 2, 50)) {
    try {
      await (await fs.open(lock, "wx", 0o600)).close();
      held = true;
    } catch (error) {
      if (error?.code !== "EEXIST" || Date.now() >= deadline) break;
      // lstat: stat would follow a symlink, and a dangling one would look like a fresh lock forever.
      const broken = await fs.lstat(lock).then(
        (status) => !status.isFile() || Date.now() - status.mtimeMs > lockTimings.staleMs,
        () => false,
      );
      if (broken) {
        await fs.unlink(lock).catch(() => {});
        continue;
      }
      // Jittered, so that waiting writers do not retry in step.
      await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
    }
  }
  try {
    return await task();
  } finally {
    if (held) await fs.unlink(lock).catch(() => {});
  }
}

const turns = new Map();
/** Runs `task` after every earlier task on `key` in this process. */
function inTurn(key, task) {
  const previous = turns.get(key) ?? Promise.resolve();
  const current = previous.then(task, task);
  const settled = current.catch(() => {});
  turns.set(key, settled);
  settled.then(() => {
    if (turns.get(key) === settled) turns.delete(key);
  });
  return current;
}

/** The file's JSON, or undefined when it is missing or does not open with this key. */
async function readFile(store, file) {
  const { fs, constants } = await modules();
  let bytes;
  let handle;
  try {
    // Never follows a symlink, and a FIFO opens at once (O_NONBLOCK) instead of waiting for a
    // writer forever; anything but a regular file is then refused by fstat. (Windows has
    // neither flag: 0 there.)
    handle = await fs.open(file.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    const status = await handle.stat();
    if (!status.isFile() || status.size > MAX_FILE_BYTES || status.size < HEADER_BYTES + TAG_BYTES) return undefined;
    bytes = new Uint8Array(await handle.readFile());
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => {});
  }
  try {
    return await decrypt(store, file, bytes);
  } catch {
    return undefined;
  }
}

async function writeAtomically(file, bytes) {
  const { fs, path } = await modules();
  // Beside the file, so that the rename stays in one file system; "wx" never opens (or
  // follows) something already there.
  const temporary = path.join(file.directory, `.${file.name}.${hex(crypto.getRandomValues(new Uint8Array(8)))}.tmp`);
  const handle = await fs.open(temporary, "wx", 0o600);
  try {
    try {
      await handle.writeFile(bytes);
      // Data on disk before the rename makes it visible: a crash leaves the old file or the new.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file.path);
  } catch (error) {
    await fs.unlink(temporary).catch(() => {});
    throw error;
  }
}

async function aesKey(store, salt) {
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt, info: KEY_INFO }, await store.baseKey, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/** The authenticated data: the format and the file's name, so a file copied to another name does not open. */
function additionalData(file) {
  return concat(MAGIC, new TextEncoder().encode(file.name));
}

async function encrypt(store, file, json) {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: additionalData(file) }, await aesKey(store, salt), new TextEncoder().encode(json));
  return concat(MAGIC, salt, iv, new Uint8Array(sealed));
}

async function decrypt(store, file, bytes) {
  if (!MAGIC.every((byte, index) => bytes[index] === byte)) return undefined;
  const salt = bytes.subarray(MAGIC.length, MAGIC.length + SALT_BYTES);
  const iv = bytes.subarray(MAGIC.length + SALT_BYTES, HEADER_BYTES);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: additionalData(file) }, await aesKey(store, salt), bytes.subarray(HEADER_BYTES));
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}

/** The serialized cache's versions merge() knows: 2 adds an `authority` to another tenant's tokens. */
const MERGED_VERSIONS = [1, 2];

/**
 * `own` (serializeCache's JSON) with the tokens of `current` (the file's) for the tenant and
 * scope set pairs it lacks or holds an earlier-expiring token for. Only the fields the merge
 * needs are read; the core checks the rest when it loads the file. After a forced refresh
 * (`oursWin`) this process's tokens win whatever they expire: a token asked for anew (say,
 * after admin consent added roles) must replace the file's, even an older one's later expiry.
 * Exported for its tests.
 */
export function merge(own, current, now = Date.now(), oursWin = false) {
  const ours = JSON.parse(own);
  let theirs;
  try {
    theirs = current === undefined ? undefined : JSON.parse(current);
  } catch {
    return own;
  }
  const sameClient =
    theirs !== null && typeof theirs === "object" && MERGED_VERSIONS.includes(theirs.version) && MERGED_VERSIONS.includes(ours.version) && theirs.token_endpoint === ours.token_endpoint && theirs.client_id === ours.client_id && Array.isArray(theirs.tokens);
  if (!sameClient) return own;
  // Keyed as the core keys its memory cache: one tenant's token never replaces another's.
  const keyOf = (token) => `${token.authority ?? ""}\n${token.scopes}`;
  const byKey = new Map();
  for (const token of theirs.tokens) {
    if (isEntry(token) && token.expires_on_ms > now) byKey.set(keyOf(token), token);
  }
  for (const token of ours.tokens) {
    const other = byKey.get(keyOf(token));
    if (other === undefined || oursWin || other.expires_on_ms < token.expires_on_ms) byKey.set(keyOf(token), token);
  }
  const keys = [...byKey.keys()].sort();
  ours.tokens = keys.map((key) => byKey.get(key));
  // As the core writes it: version 2 only when a token names another tenant.
  if (ours.tokens.some((token) => typeof token.authority === "string")) ours.version = 2;
  return JSON.stringify(ours);
}

function isEntry(token) {
  return token !== null && typeof token === "object" && typeof token.scopes === "string" && Number.isFinite(token.expires_on_ms) && (token.authority === undefined || typeof token.authority === "string");
}

function concat(...parts) {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

function hex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
