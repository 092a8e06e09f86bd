// The leak scan itself: it must find each kind of secret, whole or any 16 characters of it,
// and nothing in clean text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { canaries, findLeaks, leakIndex, LEAK_WINDOW } from "./scan.mjs";

const secrets = canaries();
const index = leakIndex(secrets);

test("every canary is found when present, none in clean text", () => {
  assert.ok(secrets.length >= 8, "secret, form-encoded secret, token marker, CACHE_KEY, broker keys, keys");
  for (const [kind, secret] of secrets) {
    assert.ok(findLeaks(`ok 1 - something\n# log line ${secret} end\n`, index).includes(kind), kind);
  }
  assert.deepEqual(findLeaks("ok 1 - a client with a secret shows none of it\n# pass 1\n", index), []);
});

test("any 16 consecutive characters of a secret are a leak, 15 are not", () => {
  for (const [kind, secret] of secrets.filter(([, s]) => s.length > LEAK_WINDOW)) {
    // Windows a secret shares with public material (DER structure) are not its own: take the
    // middle-most window that is.
    const starts = Array.from({ length: secret.length - LEAK_WINDOW + 1 }, (_, at) => at);
    const middle = (secret.length - LEAK_WINDOW) / 2;
    const own = starts
      .filter((at) => index.windows.get(secret.slice(at, at + LEAK_WINDOW))?.includes(kind))
      .sort((a, b) => Math.abs(a - middle) - Math.abs(b - middle));
    assert.ok(own.length > 0, `${kind}: no window of its own`);
    const piece = secret.slice(own[0], own[0] + LEAK_WINDOW);
    assert.ok(findLeaks(`error: quoted "${piece}"`, index).includes(kind), kind);
    assert.ok(!findLeaks(`error: quoted "${piece.slice(1)}"`, index).includes(kind), kind);
  }
});

test("an EC key's private scalar, on the first line of its PEM, is key material", () => {
  for (const name of ["ec-sec1.key.pem", "ec-pkcs8.key.pem"]) {
    const [kind, body] = secrets.find(([k]) => k.endsWith(name));
    // SEC1: 30 77 02 01 01 04 20 <32-byte scalar>; PKCS#8 wraps the same after 36 bytes.
    const scalarAt = name.startsWith("ec-sec1") ? 9 : 48;
    assert.deepEqual(findLeaks(body.slice(scalarAt + 4, scalarAt + 4 + LEAK_WINDOW), index), [kind], name);
  }
});

test("a private key's damaged BEGIN line running into its body is found", () => {
  const [kind, body] = secrets.find(([k]) => k.includes("rsa-pkcs8.key.pem"));
  const leaked = `privateKeyPem has a "BEGIN PRIVATE KEY----\n${body.slice(200, 264)}" block`;
  assert.deepEqual(findLeaks(leaked, index), [kind]);
});

test("a load test's broker keys are found by their shape", () => {
  assert.deepEqual(findLeaks(`key load-key-17-${"x".repeat(24)} refused`, index), ["a load test's broker key"]);
});

/** Literals in the suites that name no secret although they look like one. */
const NOT_SECRETS = new Set([
  "cctoken-key-material-", // a temporary folder's prefix
  "cctoken-test-cache-key-canary-32", // CACHE_KEY's bytes: scanned as CACHE_KEY, hex and text
  "cctoken-wrong-cache-key-canary32", // WRONG_CACHE_KEY's bytes, likewise
  "payroll-canary-caller", // caller ids and their scopes are not secret
  "audit-canary-caller",
  "payroll-canary-Read", // a refused scope
  "broker-key", // too short to scan for; the tests that use it send it nowhere real
  "polluted-secret",
]);

test("every secret-looking literal in the suites is a canary the scan looks for", () => {
  const known = new Set(canaries().map(([, secret]) => secret));
  const files = (dir) =>
    readdirSync(new URL(dir, import.meta.url), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? files(`${dir}${entry.name}/`) : /\.(mjs|cjs)$/.test(entry.name) ? [`${dir}${entry.name}`] : [],
    );
  const unknown = [];
  for (const file of ["../node/", "../package/", "../worker/", "../token-endpoint/"].flatMap(files)) {
    const source = readFileSync(new URL(file, import.meta.url), "utf8");
    for (const [, literal] of source.matchAll(/"([\w~.+\/=-]*(?:secret|key|canary)[\w~.+\/=-]*)"/gi)) {
      if (literal.length < 10 || literal.endsWith(".pem") || !/\d/.test(literal) && !literal.includes("canary")) continue;
      if (!known.has(literal) && !NOT_SECRETS.has(literal)) unknown.push(`${file}: ${literal}`);
    }
  }
  assert.deepEqual(unknown, [], "add these to SUITE_CANARIES in tests/leaks/scan.mjs (or NOT_SECRETS here)");
});
