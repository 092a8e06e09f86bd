// The leak scan itself: it must find each kind of secret, and only those.
import { test } from "node:test";
import assert from "node:assert/strict";
import { canaries, findLeaks } from "./scan.mjs";

test("every canary is found when present, none in clean text", () => {
  const secrets = canaries();
  assert.ok(secrets.length >= 8, "secret, form-encoded secret, token marker, CACHE_KEY, broker keys, key lines");
  for (const [kind, secret] of secrets) {
    assert.deepEqual(findLeaks(`ok 1 - something\n# log line ${secret} end\n`, secrets), [kind]);
  }
  assert.deepEqual(findLeaks("ok 1 - a client with a secret shows none of it\n# pass 1\n", secrets), []);
});
