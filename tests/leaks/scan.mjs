// Looks for every secret the test suite uses in the captured output of every suite (stdout,
// stderr, Worker logs): `node tests/leaks/scan.mjs <dir-of-logs>` exits 1 naming the log and
// the kind of secret, never the secret itself. scripts/test.sh runs it last.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_APP } from "../token-endpoint/server.mjs";
import { TOKEN_SIGNATURE_MARKER } from "../token-endpoint/access-token.mjs";
import { CACHE_KEY, CALLERS, SUITE_KEYS } from "../worker/broker.mjs";

const FIXTURES = new URL("../fixtures/", import.meta.url);

/**
 * How many consecutive characters of a secret make a leak: the key-material invariant of
 * the core (`cctoken::secret::LEAK_WINDOW`), so a message that shows part of a key or secret
 * is caught, not only one that shows all of it.
 */
export const LEAK_WINDOW = 16;

/** Each secret the suites hold, with what to call it in a report. */
export function canaries() {
  const found = [
    ["the local app's client secret", LOCAL_APP.clientSecret],
    ["the client secret, form-encoded", encodeURIComponent(LOCAL_APP.clientSecret).replaceAll("~", "%7E")],
    ["an access token's signature", TOKEN_SIGNATURE_MARKER],
    ["the broker's CACHE_KEY", CACHE_KEY],
    ...Object.entries(CALLERS).flatMap(([id, caller]) => caller.keys.map((key) => [`broker key of ${id}`, key])),
    ...Object.entries(SUITE_KEYS).flatMap(([id, keys]) =>
      keys.flatMap((key) => [
        [`broker key of ${id} (suite)`, key],
        [`broker key of ${id} (suite), form-encoded`, encodeURIComponent(key)],
        [`broker key of ${id} (suite), as HTTP Basic`, Buffer.from(`${id}:${key}`).toString("base64")],
      ]),
    ),
  ];
  for (const name of readdirSync(FIXTURES).filter((file) => file.endsWith(".key.pem"))) {
    const lines = readFileSync(new URL(name, FIXTURES), "utf8").split("\n");
    // The base64 body as one run, less its first line: that line is the DER structure every
    // key of the kind shares (and public keys repeat), not key material.
    const body = lines.filter((l) => l.trim() && !l.startsWith("-----") && !l.includes(":")).slice(1).join("");
    found.push([`the private key ${name}`, body]);
  }
  return found;
}

/**
 * The secrets as a lookup of every LEAK_WINDOW-character run (secrets shorter than that are
 * looked for whole), so a scan costs one pass over the text whatever the number of secrets.
 */
export function leakIndex(secrets = canaries()) {
  const windows = new Map();
  const whole = [];
  for (const [kind, secret] of secrets) {
    if (secret.length < LEAK_WINDOW) {
      whole.push([kind, secret]);
      continue;
    }
    for (let at = 0; at + LEAK_WINDOW <= secret.length; at += 1) {
      // Secrets may share a run (two test keys with the same prefix): a window names them all.
      const window = secret.slice(at, at + LEAK_WINDOW);
      windows.set(window, [...(windows.get(window) ?? []), kind]);
    }
  }
  return { windows, whole };
}

/** The kinds of secret found in `text`, in full or as any LEAK_WINDOW characters of one. */
export function findLeaks(text, index = leakIndex()) {
  const found = new Set(index.whole.filter(([, secret]) => text.includes(secret)).map(([kind]) => kind));
  for (let at = 0; at + LEAK_WINDOW <= text.length; at += 1) {
    for (const kind of index.windows.get(text.slice(at, at + LEAK_WINDOW)) ?? []) found.add(kind);
  }
  return [...found];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  const secrets = canaries();
  const index = leakIndex(secrets);
  let leaks = 0;
  const files = readdirSync(dir).filter((name) => name.endsWith(".log"));
  for (const file of files) {
    for (const kind of findLeaks(readFileSync(join(dir, file), "utf8"), index)) {
      console.log(`LEAK: ${file} contains ${kind}`);
      leaks += 1;
    }
  }
  console.log(`${files.length} logs, ${secrets.length} secrets looked for: ${leaks ? `${leaks} leaks` : "none found"}`);
  process.exit(leaks ? 1 : 0);
}
