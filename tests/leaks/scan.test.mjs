// The leak scan itself: it must find each kind of secret, whole or any 16 characters of it,
// and nothing in clean text.
import { test } from "node:test";
import assert from "node:assert/strict";
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
    const middle = Math.floor((secret.length - LEAK_WINDOW) / 2);
    const piece = secret.slice(middle, middle + LEAK_WINDOW);
    assert.ok(findLeaks(`error: quoted "${piece}"`, index).includes(kind), kind);
    assert.ok(!findLeaks(`error: quoted "${piece.slice(1)}"`, index).includes(kind), kind);
  }
});

test("a private key's damaged BEGIN line running into its body is found", () => {
  const [kind, body] = secrets.find(([k]) => k.includes("rsa-pkcs8.key.pem"));
  const leaked = `privateKeyPem has a "BEGIN PRIVATE KEY----\n${body.slice(200, 264)}" block`;
  assert.deepEqual(findLeaks(leaked, index), [kind]);
});
