// The key-material invariant across every npm surface that takes a private key: a PEM whose
// BEGIN line is damaged (four dashes, none, lowercase, a label running into the body) is
// refused with "malformed BEGIN line", and no error message, JSON, hint or CLI stderr shows
// any 16 characters of the key (the leak scan's own test of what a leak is).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfidentialClient } from "cctoken";
import { LOCAL_APP } from "../token-endpoint/server.mjs";
import { FIXTURES } from "../node/fixtures.mjs";

const BIN = createRequire(import.meta.url).resolve("cctoken/package.json").replace(/package\.json$/, "bin/cctoken.mjs");
const WINDOW = 16;
let dir;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cctoken-key-material-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** The key's base64 body, the secret that must not show. */
const body = (pem) => pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");

/** True when `text` holds any WINDOW consecutive characters of the key's body. */
function showsKeyMaterial(text, pem) {
  const secret = body(pem);
  for (let at = 0; at + WINDOW <= secret.length; at += 1) {
    if (text.includes(secret.slice(at, at + WINDOW))) return true;
  }
  return false;
}

/** Ways a PEM's BEGIN line gets damaged in secret stores and copy-paste. */
function damaged(pem) {
  const lines = pem.trim().split("\n");
  const rest = lines.slice(1).join("\n");
  const label = lines[0].slice("-----BEGIN ".length, -"-----".length);
  return {
    "four dashes": `-----BEGIN ${label}----\n${rest}\n${FIXTURES.rsaCert}`,
    "no closing dashes": `-----BEGIN ${label}\n${rest}\n`,
    "lowercase label": `-----BEGIN ${label.toLowerCase()}-----\n${rest}\n`,
    "body on the BEGIN line": `-----BEGIN ${body(pem).slice(0, 60)}\n${rest}\n`,
  };
}

function assertSafe(error, pem, what) {
  const shown = `${error.message}\n${error.hint ?? ""}\n${JSON.stringify(error)}\n${String(error)}\n${error.stack}`;
  assert.ok(!showsKeyMaterial(shown, pem), `${what}: the error shows key material`);
  assert.match(error.message, /malformed BEGIN line/, what);
}

for (const [kind, pem] of [["RSA PKCS#8", FIXTURES.rsaKey], ["RSA PKCS#1", FIXTURES.rsaKeyPkcs1], ["EC", FIXTURES.ecKey]]) {
  test(`constructor: a ${kind} key with a damaged BEGIN line is named, never quoted`, () => {
    for (const [how, text] of Object.entries(damaged(pem))) {
      for (const certificate of [{ privateKeyPem: text, certificatePem: FIXTURES.rsaCert }, { privateKeyPem: text }]) {
        assert.throws(
          () => new ConfidentialClient({ clientId: LOCAL_APP.clientId, tokenEndpoint: "https://idp.example/token", credential: { certificate } }),
          (error) => {
            assert.equal(error.code, "invalid_config");
            assertSafe(error, pem, `${kind}, ${how}`);
            return true;
          },
        );
      }
    }
  });
}

test("AZURE_CLIENT_CERTIFICATE_PATH and the CLI: a damaged key file shows none of it", async () => {
  for (const [how, text] of Object.entries(damaged(FIXTURES.rsaKey))) {
    const path = join(dir, "damaged.pem");
    await writeFile(path, text);
    const env = {
      PATH: process.env.PATH,
      AZURE_TENANT_ID: LOCAL_APP.tenantId,
      AZURE_CLIENT_ID: LOCAL_APP.clientId,
      AZURE_CLIENT_CERTIFICATE_PATH: path,
      AZURE_AUTHORITY_HOST: "http://127.0.0.1:9",
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      assert.throws(() => ConfidentialClient.fromEnvironment(), (error) => {
        assertSafe(error, FIXTURES.rsaKey, `fromEnvironment, ${how}`);
        return true;
      });
    } finally {
      for (const name of Object.keys(env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
    for (const args of [["token", "--scope", "api://x/.default"], ["token", "--scope", "api://x/.default", "--json"]]) {
      const { code, stdout, stderr } = await run(args, env);
      assert.equal(code, 2, `${how}: exit code of a configuration error`);
      assert.ok(!showsKeyMaterial(stdout + stderr, FIXTURES.rsaKey), `CLI ${args.join(" ")}, ${how}: output shows key material`);
      assert.match(stdout + stderr, /malformed BEGIN line/);
    }
  }
});

function run(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
