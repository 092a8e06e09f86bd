// Looks for every secret the test suite uses in the captured output of every suite (stdout,
// stderr, Worker logs): `node tests/leaks/scan.mjs <dir-of-logs>` exits 1 naming the log and
// the kind of secret, never the secret itself. scripts/test.sh runs it last.
import { createPublicKey } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_APP } from "../token-endpoint/server.mjs";
import { TOKEN_SIGNATURE_MARKER } from "../token-endpoint/access-token.mjs";
import { CACHE_KEY, CALLERS, SUITE_KEYS, WRONG_CACHE_KEY } from "../worker/broker.mjs";
import { PROXY_PASSWORD, PROXY_USER } from "../package/proxy-harness.mjs";
import { FLEET_KEYS, NEW_CACHE_KEY, OLD_CACHE_KEY, WRONG_KEY as FLEET_WRONG_KEY } from "../worker/fleet.mjs";

const FIXTURES = new URL("../fixtures/", import.meta.url);

/**
 * How many consecutive characters of a secret make a leak: the key-material invariant of
 * the core (`cctoken::secret::LEAK_WINDOW`), so a message that shows part of a key or secret
 * is caught, not only one that shows all of it.
 */
export const LEAK_WINDOW = 16;

/**
 * Secrets single test files hold as literals. Every string literal in tests/ that looks like
 * a secret must be here or come from an export the scan imports: scan.test.mjs checks that,
 * so a suite cannot add a secret the scan does not look for.
 */
export const SUITE_CANARIES = [
  "canary-secret~9f1c7e",
  "canary-broker-key-4d2a",
  "wrong-secret-value-4242",
  "definitely-wrong-secret-77",
  "rotated-away-secret-99",
  "faults-key-7d21",
  "refusals-key-5e18",
  "forced-form-key-0c3b",
  "federated-canary-token-5b7e-not-a-jwt",
  "saas-tenants-key-canary-6b1f",
  "jobs-tenants-key-canary-93e0",
  "saas-broker-client-key-canary-51d3",
  // A SAS signature in a called URL's query (tests/node/api.test.mjs): errors show no query.
  "SAS-sig-canary",
];

/**
 * Secrets the suites build in a loop (tests/worker/load.test.mjs's `load-key-${i}-xxx…`),
 * found by shape: their windows are shared, so whole-value patterns name them.
 */
export const CANARY_PATTERNS = [["a load test's broker key", /load-key-\d+-x{24}/]];

/** Each secret the suites hold, with what to call it in a report. */
export function canaries() {
  const cacheKeys = [
    ["the broker's CACHE_KEY", CACHE_KEY],
    ["the other CACHE_KEY the suites configure", WRONG_CACHE_KEY],
    ["the fleet suites' CACHE_KEY_PREVIOUS (rotation)", OLD_CACHE_KEY],
    ["the fleet suites' new CACHE_KEY (rotation)", NEW_CACHE_KEY],
  ];
  const found = [
    ["the local app's client secret", LOCAL_APP.clientSecret],
    ["the client secret, form-encoded", encodeURIComponent(LOCAL_APP.clientSecret).replaceAll("~", "%7E")],
    [
      "the client secret as HTTP Basic",
      Buffer.from(`${encodeURIComponent(LOCAL_APP.clientId)}:${encodeURIComponent(LOCAL_APP.clientSecret).replaceAll("~", "%7E")}`).toString("base64"),
    ],
    ["an access token's signature", TOKEN_SIGNATURE_MARKER],
    ...cacheKeys.flatMap(([kind, key]) => [
      [kind, key],
      [`${kind} in hex`, Buffer.from(key, "base64").toString("hex")],
      [`${kind} as text`, Buffer.from(key, "base64").toString("latin1")],
    ]),
    ...SUITE_CANARIES.map((secret) => [`a suite's secret ${secret.slice(0, 4)}…`, secret]),
    // The CLI's proxy password, as given (percent-encoded in the proxy URL) and as sent.
    ["the proxy password", PROXY_PASSWORD],
    ["the proxy password, percent-encoded", encodeURIComponent(PROXY_PASSWORD)],
    ["the proxy credentials, as HTTP Basic", Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString("base64")],
    ...Object.entries(CALLERS).flatMap(([id, caller]) => caller.keys.map((key) => [`broker key of ${id}`, key])),
    // The fleet suites' callers (tests/worker/fleet.mjs), and the wrong key they guess with:
    // a presented key is never logged, right or wrong.
    ...[...Object.entries(FLEET_KEYS), ["a fleet guess", [FLEET_WRONG_KEY]]].flatMap(([id, keys]) =>
      keys.flatMap((key) => [
        [`broker key of ${id} (fleet)`, key],
        [`broker key of ${id} (fleet), as HTTP Basic`, Buffer.from(`${id}:${key}`).toString("base64")],
      ]),
    ),
    ...Object.entries(SUITE_KEYS).flatMap(([id, keys]) =>
      keys.flatMap((key) => [
        [`broker key of ${id} (suite)`, key],
        [`broker key of ${id} (suite), form-encoded`, encodeURIComponent(key)],
        [`broker key of ${id} (suite), as HTTP Basic`, Buffer.from(`${id}:${key}`).toString("base64")],
      ]),
    ),
  ];
  // A key's base64 body, whole: for EC keys the private scalar starts on the first line. The
  // runs a key shares with public material (certificates, public keys) or with the other
  // keys are DER structure, not key material, and are left out in leakIndex.
  for (const name of readdirSync(FIXTURES).filter((file) => file.endsWith(".key.pem"))) {
    found.push([`the private key ${name}`, pemBody(readFileSync(new URL(name, FIXTURES), "utf8"))]);
  }
  return found;
}

/** The base64 body of a PEM file (all its blocks), without headers or line breaks. */
function pemBody(pem) {
  return pem
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("-----") && !l.includes(":"))
    .join("");
}

/**
 * Text that may show in any log and shares DER structure with the keys: the certificates and
 * the keys' public halves. Key windows found here are not key material.
 */
function publicMaterial() {
  const pems = readdirSync(FIXTURES).filter((file) => file.endsWith(".cert.pem") || file.endsWith(".key.pem"));
  return pems
    .map((name) => {
      const pem = readFileSync(new URL(name, FIXTURES), "utf8");
      if (name.endsWith(".cert.pem")) return pemBody(pem);
      try {
        return pemBody(createPublicKey(pem).export({ type: "spki", format: "pem" }));
      } catch {
        return ""; // the password-protected key
      }
    })
    .join("\n");
}

/**
 * The secrets as a lookup of every LEAK_WINDOW-character run (secrets shorter than that are
 * looked for whole), so a scan costs one pass over the text whatever the number of secrets.
 */
export function leakIndex(secrets = canaries()) {
  const windows = new Map();
  const whole = [];
  const shared = structuralWindows(secrets);
  for (const [kind, secret] of secrets) {
    if (secret.length < LEAK_WINDOW) {
      whole.push([kind, secret]);
      continue;
    }
    for (let at = 0; at + LEAK_WINDOW <= secret.length; at += 1) {
      // Secrets may share a run (two test keys with the same prefix): a window names them all.
      const window = secret.slice(at, at + LEAK_WINDOW);
      if (shared.has(window)) continue;
      windows.set(window, [...(windows.get(window) ?? []), kind]);
    }
  }
  return { windows, whole };
}

/**
 * Windows that are no secret's own: found in public material (certificates and public keys,
 * which share DER structure with the keys, and whose subject names share text with the test
 * canaries), or in the bodies of more than one private key (DER structure).
 */
function structuralWindows(secrets) {
  const publicText = publicMaterial();
  const seen = new Map();
  const shared = new Set();
  for (const [kind, secret] of secrets) {
    for (let at = 0; at + LEAK_WINDOW <= secret.length; at += 1) {
      const window = secret.slice(at, at + LEAK_WINDOW);
      if (publicText.includes(window)) shared.add(window);
      if (kind.startsWith("the private key ")) seen.set(window, (seen.get(window) ?? new Set()).add(kind));
    }
  }
  for (const [window, owners] of seen) if (owners.size > 1) shared.add(window);
  return shared;
}

/** The kinds of secret found in `text`, in full or as any LEAK_WINDOW characters of one. */
export function findLeaks(text, index = leakIndex()) {
  const found = new Set(index.whole.filter(([, secret]) => text.includes(secret)).map(([kind]) => kind));
  for (const [kind, pattern] of CANARY_PATTERNS) if (pattern.test(text)) found.add(kind);
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
