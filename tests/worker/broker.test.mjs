// The Worker token broker under workerd (Miniflare) with KV, against the local token endpoint.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { decodeClaims } from "../token-endpoint/access-token.mjs";
import { FIXTURES } from "../node/fixtures.mjs";
import { CALLERS, JOBS_KEY, REPORTS_SCOPE, SCOPE, startBroker } from "./broker.mjs";

const CERT_APP = "66666666-0000-4000-8000-0000000000c6";
let endpoint;
let broker;
let kvDir;

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret }, [CERT_APP]: { certificates: [FIXTURES.rsaCert] } },
  });
  kvDir = await mkdtemp(join(tmpdir(), "cctoken-kv-"));
  broker = await startBroker({ endpoint, app: LOCAL_APP, kvPersist: kvDir });
});
after(async () => {
  await broker?.dispose();
  await endpoint?.close();
  if (kvDir) await rm(kvDir, { recursive: true, force: true });
});
beforeEach(() => endpoint.reset());

test("healthz reports the version and complete configuration", async () => {
  const { status, json } = await broker.request("/healthz");
  assert.equal(status, 200);
  assert.equal(json.configured, true);
  assert.match(json.version, /^\d+\.\d+\.\d+$/);
});

test("memory, then KV in a fresh isolate, then IdP: tiers reported and IdP requests counted", async () => {
  const first = await broker.token({ scopes: [SCOPE] });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.cache, "idp");
  assert.equal(first.json.token_type, "Bearer");
  assert.ok(first.json.expires_in > 3590 && first.json.expires_in <= 3599);
  assert.equal(first.json.expires_on, Math.floor(decodeClaims(first.json.access_token).exp));
  assert.equal(first.headers.get("cache-control"), "no-store");
  assert.equal(endpoint.tokenRequests, 1);

  const second = await broker.token({ scopes: [SCOPE] });
  assert.equal(second.json.cache, "memory");
  assert.equal(second.json.access_token, first.json.access_token);

  const fresh = await startBroker({ endpoint, app: LOCAL_APP, kvPersist: kvDir });
  try {
    const fromKv = await fresh.token({ scopes: [SCOPE] });
    assert.equal(fromKv.json.cache, "kv", "a new isolate finds the token in KV");
    assert.equal(fromKv.json.access_token, first.json.access_token);
    assert.equal((await fresh.token({ scopes: [SCOPE] })).json.cache, "memory");
  } finally {
    await fresh.dispose();
  }
  assert.equal(endpoint.tokenRequests, 1, "one IdP request for the whole fleet");

  const forced = await broker.token({ scopes: [SCOPE], forceRefresh: true });
  assert.equal(forced.json.cache, "idp");
  assert.equal(endpoint.tokenRequests, 2);
});

test("KV holds neither token nor scope text: encrypted values under hashed keys", async () => {
  const issued = await broker.token({ scopes: [SCOPE] });
  const kv = await broker.kv();
  const { keys } = await kv.list();
  assert.ok(keys.length >= 1);
  for (const { name } of keys) {
    assert.match(name, /^token:v2:[0-9a-f]{64}$/);
    const raw = await kv.get(name);
    assert.ok(!raw.includes(issued.json.access_token.slice(0, 20)), "no plaintext token");
    assert.ok(!raw.includes("cctoken-demo") && !raw.includes("access_token"), "no plaintext JSON");
    assert.match(raw, /^[A-Za-z0-9+/]+=*$/, "base64(iv || AES-GCM ciphertext)");
  }
});

test("50 parallel cold requests in one isolate make one IdP request", async () => {
  const cold = await startBroker({ endpoint, app: LOCAL_APP });
  try {
    const responses = await Promise.all(Array.from({ length: 50 }, () => cold.token({ scopes: [SCOPE] })));
    assert.ok(responses.every((r) => r.status === 200));
    assert.equal(new Set(responses.map((r) => r.json.access_token)).size, 1);
    assert.equal(endpoint.tokenRequests, 1);
  } finally {
    await cold.dispose();
  }
});

test("authentication: no key, wrong key, a key one byte off, and both rotated keys", async () => {
  for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: `Bearer ${JOBS_KEY.slice(0, -1)}x` }, { authorization: `Basic ${JOBS_KEY}` }]) {
    const { status, headers: responseHeaders, json } = await broker.token({ scopes: [SCOPE] }, headers);
    assert.equal(status, 401, JSON.stringify(headers));
    assert.equal(json.error, "invalid_client");
    assert.match(responseHeaders.get("www-authenticate"), /^Bearer realm="cctoken"/);
    assert.ok(!JSON.stringify(json).includes(JOBS_KEY));
  }
  for (const key of CALLERS.jobs.keys) {
    assert.equal((await broker.token({ scopes: [SCOPE] }, { authorization: `Bearer ${key}` })).status, 200, "rotation: old and new key");
  }
});

test("a caller cannot get another caller's scopes", async () => {
  const denied = await broker.token({ scopes: [REPORTS_SCOPE] });
  assert.equal(denied.status, 403);
  assert.equal(denied.json.error, "invalid_scope");
  const viaForm = await broker.form({ grant_type: "client_credentials", scope: SCOPE, client_id: "reports", client_secret: CALLERS.reports.keys[0] });
  assert.equal(viaForm.status, 403);
  const wrongPair = await broker.form({ grant_type: "client_credentials", scope: SCOPE, client_id: "reports", client_secret: JOBS_KEY });
  assert.equal(wrongPair.status, 401, "a valid key presented under another caller's id");
  assert.equal(endpoint.requests.length, 0);
});

test("the OAuth2 form path, with body credentials and with HTTP Basic", async () => {
  const body = await broker.form({ grant_type: "client_credentials", scope: SCOPE, client_id: "jobs", client_secret: JOBS_KEY });
  assert.equal(body.status, 200, body.text);
  assert.equal(body.json.token_type, "Bearer");
  const basic = Buffer.from(`jobs:${encodeURIComponent(JOBS_KEY)}`).toString("base64");
  const viaBasic = await broker.form({ grant_type: "client_credentials", scope: SCOPE }, { authorization: `Basic ${basic}` });
  assert.equal(viaBasic.status, 200, viaBasic.text);
  const grant = await broker.form({ grant_type: "password", scope: SCOPE, client_id: "jobs", client_secret: JOBS_KEY });
  assert.equal(grant.status, 400);
  assert.equal(grant.json.error, "unsupported_grant_type");
});

test("malformed requests: 400, 405, 404, 413, 415", async () => {
  for (const [body, status, error] of [
    ["not json", 400, "invalid_request"],
    [{}, 400, "invalid_request"],
    [{ scopes: [] }, 400, "invalid_scope"],
    [{ scopes: ["a\r\nx-injected: 1"] }, 400, "invalid_scope"],
    [{ scopes: ["x".repeat(10_000)] }, 400, "invalid_scope"],
    [{ scopes: ["https://graph.microsoft.com"] }, 400, "invalid_scope"],
    ["x".repeat(17 * 1024), 413, "invalid_request"],
  ]) {
    const response = await broker.token(body);
    assert.equal(response.status, status, JSON.stringify(body).slice(0, 40));
    assert.equal(response.json.error, error);
    assert.ok(!response.text.includes(JOBS_KEY));
  }
  const text = await broker.request("/token", { method: "POST", headers: { "content-type": "text/plain", authorization: `Bearer ${JOBS_KEY}` }, body: "{}" });
  assert.equal(text.status, 415);
  const get = await broker.request("/token");
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  assert.equal((await broker.request("/admin", { method: "POST" })).status, 404);
  assert.equal(endpoint.requests.length, 0);
});

test("a caller over its budget gets 429 with Retry-After", async () => {
  const budgeted = await startBroker({ endpoint, app: LOCAL_APP });
  try {
    const key = CALLERS.reports.keys[0];
    const statuses = [];
    let last;
    for (let i = 0; i < 4; i += 1) {
      last = await budgeted.token({ scopes: [REPORTS_SCOPE] }, { authorization: `Bearer ${key}` });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(last.json.error, "slow_down");
    assert.equal(last.headers.get("retry-after"), "20");
    assert.equal((await budgeted.token({ scopes: [SCOPE] })).status, 200, "other callers keep their budget");
  } finally {
    await budgeted.dispose();
  }
});

test("IdP errors are passed on with AADSTS code and correlation id, never the secret", async () => {
  const misconfigured = await startBroker({ endpoint, app: LOCAL_APP, settings: { CLIENT_SECRET: "rotated-away-secret-99" } });
  try {
    const { status, json } = await misconfigured.token({ scopes: [SCOPE] });
    assert.equal(status, 502);
    assert.equal(json.error, "invalid_client");
    assert.match(json.error_description, /^AADSTS7000215: /);
    assert.deepEqual(json.error_codes, [7000215]);
    assert.match(json.correlation_id, /^[0-9a-f-]{36}$/);
    assert.ok(!JSON.stringify(json).includes("rotated-away-secret-99"));
    const { keys } = await (await misconfigured.kv()).list();
    assert.equal(keys.length, 0, "errors are not cached");
  } finally {
    await misconfigured.dispose();
  }
});

test("a KV that throws is logged and the IdP still answers", async () => {
  const broken = await startBroker({ endpoint, app: LOCAL_APP, kvBroken: true });
  try {
    const first = await broken.token({ scopes: [SCOPE] });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.cache, "idp");
    assert.equal((await broken.token({ scopes: [SCOPE] })).json.cache, "memory");
    assert.equal(endpoint.tokenRequests, 1);
  } finally {
    await broken.dispose();
  }
});

test("a certificate credential (CLIENT_CERTIFICATE) signs assertions in the Worker", async () => {
  const signed = await startBroker({
    endpoint,
    app: { clientId: CERT_APP },
    settings: { CLIENT_SECRET: undefined, CLIENT_CERTIFICATE: `${FIXTURES.rsaKey}\n${FIXTURES.rsaCert}` },
  });
  try {
    const response = await signed.token({ scopes: [SCOPE] });
    assert.equal(response.status, 200, response.text);
    assert.equal(new URLSearchParams(endpoint.requests[0].body).get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  } finally {
    await signed.dispose();
  }
});

test("missing settings: 500 server_misconfigured and healthz name the setting, never a value", async () => {
  for (const [settings, setting] of [
    [{ CLIENT_SECRET: undefined }, "CLIENT_SECRET"],
    [{ CACHE_KEY: "dG9vIHNob3J0" }, "CACHE_KEY"],
    [{ BROKER_CLIENTS: "{not json" }, "BROKER_CLIENTS"],
    [{ AUTHORITY: undefined }, "TENANT_ID"],
    [{ ATTEMPT_TIMEOUT_MS: "0" }, "ATTEMPT_TIMEOUT_MS"],
  ]) {
    const incomplete = await startBroker({ endpoint, app: LOCAL_APP, settings });
    try {
      const { status, json } = await incomplete.token({ scopes: [SCOPE] });
      assert.equal(status, 500);
      assert.equal(json.error, "server_misconfigured");
      assert.ok(json.error_description.startsWith(`${setting}: `), json.error_description);
      assert.ok(!json.error_description.includes(LOCAL_APP.clientSecret));
      const health = await incomplete.request("/healthz");
      assert.equal(health.status, 200);
      assert.equal(health.json.configured, false);
      assert.equal(health.json.setting, setting);
    } finally {
      await incomplete.dispose();
    }
  }
  assert.equal(endpoint.requests.length, 0);
});

test("BrokerClient from the npm module gets tokens through the broker over HTTP", async () => {
  const { BrokerClient } = await import("cctoken");
  const served = await startBroker({ endpoint, app: LOCAL_APP, port: 0 });
  try {
    const client = new BrokerClient({ url: served.url.href, callerId: "jobs", key: JOBS_KEY });
    const first = await client.acquireToken({ scopes: [SCOPE] });
    const second = await client.acquireToken({ scopes: [SCOPE] });
    assert.equal(first.fromCache, false);
    assert.equal(second.fromCache, true, "cached in the job until shortly before expiry");
    assert.equal(second.accessToken, first.accessToken);
    assert.equal(endpoint.tokenRequests, 1);
    // forceRefresh reaches the broker (form path: force_refresh=true), which skips its caches;
    // the job then keeps the new token, not the replaced one.
    const forced = await client.acquireToken({ scopes: [SCOPE], forceRefresh: true });
    assert.notEqual(forced.accessToken, first.accessToken);
    assert.equal(forced.fromCache, false);
    assert.equal(endpoint.tokenRequests, 2, "the broker skipped its caches");
    const after = await client.acquireToken({ scopes: [SCOPE] });
    assert.equal(after.accessToken, forced.accessToken);
    assert.equal(after.fromCache, true);
    const denied = await client.acquireToken({ scopes: [REPORTS_SCOPE] }).catch((e) => e);
    assert.equal(denied.code, "invalid_scope");
    assert.equal(denied.status, 403);
  } finally {
    await served.dispose();
  }
});
