// The broker as OAuth2 clients nobody here wrote call it, over HTTP on 127.0.0.1: curl `-u` as
// the README shows it, Python requests-oauthlib, openid-client 6 and simple-oauth2. HTTP Basic
// comes two ways — form-encoded first (RFC 6749 §2.3.1: openid-client, simple-oauth2 "strict")
// or as typed (curl, requests, simple-oauth2 "loose") — and keys from `openssl rand -base64 32`
// hold `+`, `/` and `=`, which the two ways send differently. Every client, every key: one
// token, one request to the identity provider.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as oidc from "openid-client";
import simpleOauth2 from "simple-oauth2";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { SCOPE, SUITE_KEYS, brokerClients, startBroker } from "./broker.mjs";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = `${ROOT}target/interop-venv/bin/python`;
const REQUESTS_CLIENT = `${ROOT}tests/worker/interop/requests_oauthlib_client.py`;
/** Shaped like `openssl rand -base64 32` output, each with `+`, `/` and `=`; rotation: two keys. */
const KEYS = SUITE_KEYS.interop;
for (const key of KEYS) assert.match(key, /^(?=.*\+)(?=.*\/).*=$/);
/** RFC 6749 §2.3.1 encoding (application/x-www-form-urlencoded) of a Basic user or password. */
const formEncode = (text) => new URLSearchParams({ v: text }).toString().slice(2);
/** The children's environment: no proxy may stand between them and the broker on loopback. */
const childEnv = (extra) => ({ ...process.env, http_proxy: "", HTTP_PROXY: "", NO_PROXY: "127.0.0.1", no_proxy: "127.0.0.1", ...extra });

let endpoint;
let broker;
let tokenUrl;
/** The one token the identity provider issued; every client must get it. */
let issued;

before(async () => {
  endpoint = await startTokenEndpoint();
  broker = await startBroker({
    endpoint,
    app: LOCAL_APP,
    port: 0,
    settings: { BROKER_CLIENTS: brokerClients({ jobs: { keys: KEYS, scopes: [SCOPE] } }) },
  });
  tokenUrl = new URL("/token", broker.url).href;
  const first = await broker.token({ scopes: [SCOPE] }, { authorization: `Bearer ${KEYS[0]}` });
  assert.equal(first.status, 200, first.text);
  issued = first.json.access_token;
});
after(async () => {
  await broker?.dispose();
  await endpoint?.close();
});

/** A token response the broker served from its cache: the one token issued. */
function assertServed(accessToken, what) {
  assert.equal(accessToken, issued, what);
  assert.equal(endpoint.tokenRequests, 1, `${what}: no further identity-provider request`);
}

/** The README's command, run by a shell with the key in $BROKER_KEY; returns status and body. */
async function curl(key) {
  const script = 'curl -s "$URL" -u "jobs:$BROKER_KEY" -d grant_type=client_credentials -d scope="$SCOPE" --write-out "\\n%{http_code}"';
  const { stdout } = await run("bash", ["-c", script], { env: childEnv({ URL: tokenUrl, BROKER_KEY: key, SCOPE }) });
  const lines = stdout.trimEnd().split("\n");
  return { status: Number(lines.at(-1)), json: JSON.parse(lines.slice(0, -1).join("\n")) };
}

test("curl -u jobs:$BROKER_KEY as the README shows it, with keys holding +, / and =", async () => {
  for (const key of KEYS) {
    const typed = await curl(key);
    assert.equal(typed.status, 200, JSON.stringify(typed.json));
    assert.equal(typed.json.token_type, "Bearer");
    assertServed(typed.json.access_token, `curl -u jobs:${key.slice(0, 4)}…`);
    const encoded = await curl(formEncode(key));
    assert.equal(encoded.status, 200, "the RFC 6749 reading still works");
    assertServed(encoded.json.access_token, "curl with a form-encoded key");
  }
  // The key's + read as a space (the RFC reading of the raw header) opens nothing, nor does a
  // key one character off in either reading.
  // Every refusal is the same 401, whichever reading came closer.
  const refusals = [];
  for (const wrong of [KEYS[0].replaceAll("+", " "), KEYS[0].slice(0, -2) + "A=", formEncode(KEYS[0]).replace("%2B", "%2b%2B"), formEncode(`${KEYS[0]}x`)]) {
    const refused = await curl(wrong);
    assert.equal(refused.status, 401);
    refusals.push(refused.json);
  }
  assert.equal(refusals[0].error, "invalid_client");
  for (const refused of refusals) assert.deepEqual(refused, refusals[0]);
});

test("Python requests-oauthlib: BackendApplicationClient with requests' HTTPBasicAuth", async () => {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: run scripts/bootstrap.sh`);
  for (const key of KEYS) {
    const { stdout } = await run(PYTHON, [REQUESTS_CLIENT, tokenUrl, SCOPE], {
      env: childEnv({ CALLER_ID: "jobs", CALLER_KEY: key }),
    });
    const token = JSON.parse(stdout);
    assert.equal(token.token_type, "Bearer");
    assert.equal(token.cache, "memory");
    assertServed(token.access_token, "requests-oauthlib");
  }
  const refused = await run(PYTHON, [REQUESTS_CLIENT, tokenUrl, SCOPE], {
    env: childEnv({ CALLER_ID: "jobs", CALLER_KEY: KEYS[0].replaceAll("+", " ") }),
  }).catch((error) => error);
  assert.match(String(refused.stderr), /invalid_client/);
});

test("openid-client 6: client_credentials with ClientSecretBasic and ClientSecretPost", async () => {
  const server = { issuer: broker.url.href, token_endpoint: tokenUrl };
  for (const key of KEYS) {
    for (const [method, auth] of [["ClientSecretBasic", oidc.ClientSecretBasic(key)], ["ClientSecretPost", oidc.ClientSecretPost(key)]]) {
      const config = new oidc.Configuration(server, "jobs", undefined, auth);
      oidc.allowInsecureRequests(config);
      const tokens = await oidc.clientCredentialsGrant(config, { scope: SCOPE });
      assert.equal(tokens.token_type, "bearer", method);
      assert.ok(tokens.expires_in > 3500, method);
      assertServed(tokens.access_token, `openid-client ${method}`);
    }
  }
  const config = new oidc.Configuration(server, "jobs", undefined, oidc.ClientSecretBasic(`${KEYS[0]}x`));
  oidc.allowInsecureRequests(config);
  const refused = await oidc.clientCredentialsGrant(config, { scope: SCOPE }).catch((error) => error);
  // A 401 with WWW-Authenticate, which oauth4webapi reports as the challenge it is.
  assert.equal(refused.code, "OAUTH_WWW_AUTHENTICATE_CHALLENGE", String(refused));
  assert.equal(refused.status, 401);
  assert.deepEqual(refused.cause.map((challenge) => challenge.scheme), ["bearer", "basic"]);
});

test("simple-oauth2: ClientCredentials with authorizationMethod header (strict and loose) and body", async () => {
  const { origin } = new URL(tokenUrl);
  const options = [
    { authorizationMethod: "header" },
    { authorizationMethod: "header", credentialsEncodingMode: "loose" },
    { authorizationMethod: "body" },
  ];
  for (const key of KEYS) {
    for (const option of options) {
      const client = new simpleOauth2.ClientCredentials({ client: { id: "jobs", secret: key }, auth: { tokenHost: origin, tokenPath: "/token" }, options: option });
      const { token } = await client.getToken({ scope: SCOPE });
      assert.equal(token.token_type, "Bearer", JSON.stringify(option));
      assertServed(token.access_token, `simple-oauth2 ${JSON.stringify(option)}`);
    }
  }
  const client = new simpleOauth2.ClientCredentials({ client: { id: "jobs", secret: `${KEYS[1]}x` }, auth: { tokenHost: origin, tokenPath: "/token" }, options: options[1] });
  const refused = await client.getToken({ scope: SCOPE }).catch((error) => error);
  assert.equal(refused.output?.statusCode, 401);
  assert.equal(refused.data?.payload?.error, "invalid_client");
});
