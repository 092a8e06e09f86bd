// The Worker token broker under workerd (Miniflare) with KV, against the local token endpoint.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { decodeClaims } from "../token-endpoint/access-token.mjs";
import { BROKER_KEY, startBroker } from "./broker.mjs";

const SCOPE = "api://cctoken-demo/.default";
let endpoint;
let broker;

before(async () => {
  endpoint = await startTokenEndpoint();
  broker = await startBroker({ endpoint, app: LOCAL_APP });
});
after(async () => {
  await broker?.dispose();
  await endpoint?.close();
});
beforeEach(() => endpoint.reset());

test("rejects callers without the broker key, before any IdP request", async () => {
  for (const headers of [{}, { authorization: "Bearer wrong-key" }, { authorization: `Basic ${BROKER_KEY}` }, { authorization: `Bearer ${BROKER_KEY}x` }]) {
    const { status, headers: responseHeaders, json } = await broker.token({ scopes: [SCOPE] }, headers);
    assert.equal(status, 401, JSON.stringify(headers));
    assert.equal(json.error, "invalid_client");
    assert.equal(responseHeaders.get("www-authenticate"), 'Bearer realm="cctoken"');
    assert.ok(!JSON.stringify(json).includes(BROKER_KEY));
  }
  assert.equal(endpoint.requests.length, 0);
});

test("first request goes to the IdP, the identical second one is served from KV", async () => {
  const first = await broker.token({ scopes: [SCOPE] });
  assert.equal(first.status, 200);
  assert.equal(first.json.cache, "idp");
  assert.equal(first.json.token_type, "Bearer");
  assert.ok(first.json.expires_in > 3590 && first.json.expires_in <= 3599, `${first.json.expires_in}`);
  assert.equal(first.headers.get("cache-control"), "no-store");
  assert.equal(decodeClaims(first.json.access_token).aud, "api://cctoken-demo");
  assert.equal(endpoint.tokenRequests, 1);
  assert.equal(
    endpoint.requests[0].body,
    `client_id=${LOCAL_APP.clientId}&scope=api%3A%2F%2Fcctoken-demo%2F.default` +
      "&client_secret=local-dev-secret%7Eonly-valid-on-127.0.0.1&grant_type=client_credentials",
  );

  const second = await broker.token({ scopes: [SCOPE] });
  assert.equal(second.status, 200);
  assert.equal(second.json.cache, "kv");
  assert.equal(second.json.access_token, first.json.access_token);
  assert.equal(second.json.expires_on, first.json.expires_on);
  assert.equal(endpoint.tokenRequests, 1, "the second request must not reach the IdP");

  const kv = await broker.kv();
  const { keys } = await kv.list();
  assert.equal(keys.length, 1);
  assert.match(keys[0].name, /^token:v1:[0-9a-f]{64}$/);
  assert.ok(!keys[0].name.includes("cctoken-demo"), "scope text must not appear in KV keys");
});

test("malformed bodies and scopes get OAuth2 errors without an IdP request", async () => {
  const cases = [
    ["not json", 400, "invalid_request"],
    [{}, 400, "invalid_request"],
    [{ scopes: "x" }, 400, "invalid_request"],
    [{ scopes: [] }, 400, "invalid_scope"],
    [{ scopes: ["a\r\nx-injected: 1"] }, 400, "invalid_scope"],
    ["x".repeat(17 * 1024), 413, "invalid_request"],
  ];
  for (const [body, status, error] of cases) {
    const response = await broker.token(body);
    assert.equal(response.status, status, JSON.stringify(body).slice(0, 40));
    assert.equal(response.json.error, error);
    assert.equal(typeof response.json.error_description, "string");
  }
  assert.equal(endpoint.requests.length, 0);
});

test("wrong method and unknown paths", async () => {
  const get = await broker.mf.dispatchFetch("http://broker.local/token");
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  assert.equal((await get.json()).error, "invalid_request");
  const unknown = await broker.mf.dispatchFetch("http://broker.local/admin", { method: "POST" });
  assert.equal(unknown.status, 404);
  await unknown.arrayBuffer();
});

test("IdP errors are passed on with their AADSTS code, without the secret", async () => {
  const misconfigured = await startBroker({
    endpoint,
    app: LOCAL_APP,
    settings: { CLIENT_SECRET: "rotated-away-secret-99" },
  });
  try {
    const { status, json } = await misconfigured.token({ scopes: [SCOPE] });
    assert.equal(status, 502);
    assert.equal(json.error, "invalid_client");
    assert.match(json.error_description, /^AADSTS7000215: /);
    assert.ok(!JSON.stringify(json).includes("rotated-away-secret-99"));
    assert.equal(endpoint.tokenRequests, 1);
    const { keys } = await (await misconfigured.kv()).list();
    assert.equal(keys.length, 0, "errors must not be cached");
  } finally {
    await misconfigured.dispose();
  }
});

test("missing settings answer 500 server_misconfigured naming the setting, not a value", async () => {
  const incomplete = await startBroker({
    endpoint,
    app: LOCAL_APP,
    settings: { CLIENT_SECRET: undefined },
  });
  try {
    const { status, json } = await incomplete.token({ scopes: [SCOPE] });
    assert.equal(status, 500);
    assert.equal(json.error, "server_misconfigured");
    assert.match(json.error_description, /CLIENT_SECRET/);
    assert.ok(!json.error_description.includes(BROKER_KEY));
    assert.equal(endpoint.requests.length, 0);
  } finally {
    await incomplete.dispose();
  }
});
