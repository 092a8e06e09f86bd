// Abuse of the broker under workerd (Miniflare): every refusal has its status and OAuth2 error,
// carries no secret in body or headers, and costs the identity provider nothing; budgets hold
// per caller. broker.test.mjs covers the ordinary paths these extend.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { CACHE_KEY, CALLERS, JOBS_KEY, REPORTS_SCOPE, SCOPE, brokerClients, startBroker } from "./broker.mjs";

const REPORTS_KEY = CALLERS.reports.keys[0];
const BROKER_KEYS = Object.values(CALLERS).flatMap((caller) => caller.keys);
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const WWW_AUTHENTICATE = 'Bearer realm="cctoken", Basic realm="cctoken"';
const basic = (id, key) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(key)}`).toString("base64")}`;
/** `key` with the byte at `index` changed. */
const oneByteOff = (key, index) => key.slice(0, index) + String.fromCharCode(key.charCodeAt(index) ^ 1) + key.slice(index + 1);

let endpoint;
let broker;
/** Access tokens the broker has handed out; no refusal may carry one. */
const issued = [];

before(async () => {
  endpoint = await startTokenEndpoint();
  broker = await startBroker({ endpoint, app: LOCAL_APP });
  // A token in the broker's memory and KV, so a refusal that leaked one would show it.
  const warm = await broker.token({ scopes: [SCOPE] });
  assert.equal(warm.status, 200, warm.text);
  issued.push(warm.json.access_token);
});
after(async () => {
  await broker?.dispose();
  await endpoint?.close();
});
beforeEach(() => endpoint.reset());

function secrets() {
  return [
    LOCAL_APP.clientSecret,
    CACHE_KEY,
    Buffer.from(CACHE_KEY, "base64").toString("hex"),
    ...BROKER_KEYS,
    ...BROKER_KEYS.map(sha256),
    ...issued,
  ];
}

/** Neither the body nor any header holds a secret. */
function assertNoSecret(response, what) {
  const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
  for (const secret of secrets()) {
    assert.ok(!response.text.includes(secret), `${what}: the body holds a secret`);
    assert.ok(!headers.includes(secret), `${what}: a header holds a secret`);
  }
}

/** An OAuth2 error reply with `status` and `error`, uncacheable, secret-free. */
function assertRefused(response, status, error, what) {
  assert.equal(response.status, status, `${what}: ${response.text.slice(0, 200)}`);
  assert.equal(response.json?.error, error, what);
  assert.equal(typeof response.json.error_description, "string", what);
  assert.equal(response.headers.get("content-type"), "application/json", what);
  assert.equal(response.headers.get("cache-control"), "no-store", what);
  assertNoSecret(response, what);
}

function assertIdpUntouched(what) {
  assert.deepEqual(
    endpoint.requests.map((r) => `${r.method} ${r.path}`),
    [],
    `${what}: the identity provider saw no request`,
  );
}

test("credentials missing, wrong, one byte off, another caller's, or doubled: 401 invalid_client", async () => {
  const json = (authorization) => broker.token({ scopes: [SCOPE] }, authorization === undefined ? {} : { authorization });
  const form = (fields, headers) => broker.form({ grant_type: "client_credentials", scope: SCOPE, ...fields }, headers);
  const cases = [
    ["JSON without a key", () => json(undefined)],
    ["JSON with an empty bearer", () => json("Bearer ")],
    ["JSON with a wrong key", () => json("Bearer not-a-broker-key")],
    ["JSON with the first byte off", () => json(`Bearer ${oneByteOff(JOBS_KEY, 0)}`)],
    ["JSON with a middle byte off", () => json(`Bearer ${oneByteOff(JOBS_KEY, 8)}`)],
    ["JSON with the last byte off", () => json(`Bearer ${oneByteOff(JOBS_KEY, JOBS_KEY.length - 1)}`)],
    ["JSON with the key and one byte more", () => json(`Bearer ${JOBS_KEY}x`)],
    ["JSON with the key less its last byte", () => json(`Bearer ${JOBS_KEY.slice(0, -1)}`)],
    ["JSON with the configured hash instead of the key", () => json(`Bearer ${sha256(JOBS_KEY)}`)],
    ["JSON with HTTP Basic", () => json(basic("jobs", JOBS_KEY))],
    ["form without credentials", () => form({})],
    ["form with another caller's key under this id", () => form({ client_id: "jobs", client_secret: REPORTS_KEY })],
    ["form with a key one byte off", () => form({ client_id: "jobs", client_secret: oneByteOff(JOBS_KEY, 3) })],
    ["form with an unknown caller id", () => form({ client_id: "nobody", client_secret: JOBS_KEY })],
    ["form with an id and no key", () => form({ client_id: "jobs" })],
    ["Basic with another caller's key", () => form({}, { authorization: basic("jobs", REPORTS_KEY) })],
    ["Basic and a body secret at once", () => form({ client_secret: JOBS_KEY }, { authorization: basic("jobs", JOBS_KEY) })],
    ["Basic under one id, body id another", () => form({ client_id: "reports" }, { authorization: basic("jobs", JOBS_KEY) })],
    ["form with CR/LF in the caller id", () => form({ client_id: "jobs\r\nx-injected: 1", client_secret: JOBS_KEY })],
  ];
  for (const [what, send] of cases) {
    const response = await send();
    assertRefused(response, 401, "invalid_client", what);
    assert.equal(response.headers.get("www-authenticate"), WWW_AUTHENTICATE, what);
    assert.equal(response.headers.get("x-injected"), null, what);
    assert.ok(!response.text.includes("jobs") && !response.text.includes("nobody"), `${what}: ids are not echoed`);
  }
  assertIdpUntouched("rejected credentials");
});

test("a valid key gets only its own caller's grants: 403 invalid_scope", async () => {
  const otherScope = await broker.token({ scopes: [SCOPE] }, { authorization: `Bearer ${REPORTS_KEY}` });
  assertRefused(otherScope, 403, "invalid_scope", "reports' key for jobs' scope");
  assert.equal(otherScope.json.error_description, `caller reports is not granted ${SCOPE}`);
  const hostCase = await broker.token({ scopes: ["API://REPORTS/.default"] });
  assertRefused(hostCase, 403, "invalid_scope", "jobs' key for reports' scope in upper case");
  const viaBasic = await broker.form({ grant_type: "client_credentials", scope: REPORTS_SCOPE }, { authorization: basic("jobs", JOBS_KEY) });
  assertRefused(viaBasic, 403, "invalid_scope", "jobs over HTTP Basic for reports' scope");
  assertIdpUntouched("scopes not granted");
});

test("bodies over 16 KiB: 413 before authentication; 16 KiB exactly is served", async () => {
  const padded = (size) => {
    const body = JSON.stringify({ scopes: [SCOPE] });
    return body.slice(0, -1) + " ".repeat(size - body.length) + "}";
  };
  assert.equal(padded(16 * 1024).length, 16 * 1024);
  const exact = await broker.token(padded(16 * 1024));
  assert.equal(exact.status, 200, exact.text);
  assert.equal(exact.json.cache, "memory");
  for (const [what, send] of [
    ["JSON with a key", () => broker.token(padded(16 * 1024 + 1))],
    ["JSON without a key", () => broker.token(padded(17 * 1024), {})],
    ["form without credentials", () => broker.form({ grant_type: "client_credentials", scope: SCOPE, pad: "x".repeat(17 * 1024) })],
    ["an unsupported content type", () => broker.request("/token", { method: "POST", headers: { "content-type": "text/plain" }, body: "x".repeat(17 * 1024) })],
  ]) {
    assertRefused(await send(), 413, "invalid_request", what);
  }
  assertIdpUntouched("oversized bodies");
});

test("a body without a declared length is abandoned once past 16 KiB", async () => {
  // 16 MiB offered in 1 KiB chunks; a broker that read it all before refusing would pull
  // every chunk. workerd may reset the connection instead of delivering the early 413 to a
  // client that is still sending; either way the broker must stop reading.
  const total = 16 * 1024 * 1024;
  const chunk = new Uint8Array(1024).fill(0x20);
  let pulled = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const outcome = await broker.mf
    .dispatchFetch("http://broker.local/token", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${JOBS_KEY}` },
      body,
      duplex: "half",
    })
    .then(
      async (response) => ({ status: response.status, text: await response.text() }),
      (error) => ({ failed: error.cause?.code ?? error.code ?? String(error) }),
    );
  if (outcome.failed === undefined) {
    assert.equal(outcome.status, 413, outcome.text);
    assert.equal(JSON.parse(outcome.text).error, "invalid_request");
  } else {
    assert.match(outcome.failed, /^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/);
  }
  assert.ok(pulled < 4 * 1024 * 1024, `the broker kept reading: ${pulled} bytes pulled`);
  assert.equal((await broker.token({ scopes: [SCOPE] })).status, 200, "the isolate still serves");
  assertIdpUntouched("a chunked flood");
});

test("deeply nested JSON: 400 invalid_request with a key, 401 without, and the isolate survives", async () => {
  const depth = 7_000;
  const bodies = [
    ["nested arrays as scopes", `{"scopes":${"[".repeat(depth)}${"]".repeat(depth)}}`],
    ["nested objects as forceRefresh", `{"scopes":["${SCOPE}"],"forceRefresh":${'{"a":'.repeat(2_500)}1${"}".repeat(2_500)}}`],
    ["nested arrays alone", "[".repeat(16_000)],
    ["an unknown member holding nesting", `{"scopes":["${SCOPE}"],"x":${"[".repeat(depth)}${"]".repeat(depth)}}`],
  ];
  for (const [what, body] of bodies) {
    assert.ok(body.length <= 16 * 1024, what);
    assertRefused(await broker.token(body), 400, "invalid_request", what);
    assertRefused(await broker.token(body, {}), 401, "invalid_client", `${what}, no key`);
  }
  assert.equal((await broker.request("/healthz")).json.configured, true);
  assert.equal((await broker.token({ scopes: [SCOPE] })).json.cache, "memory", "the same isolate still serves from memory");
  assertIdpUntouched("nested JSON");
});

test("wrong methods: 405 with Allow; unknown paths: 404", async () => {
  const authorized = { authorization: `Bearer ${JOBS_KEY}`, "content-type": "application/json" };
  const body = JSON.stringify({ scopes: [SCOPE] });
  for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    const init = { method, headers: authorized, ...(["PUT", "PATCH", "DELETE"].includes(method) ? { body } : {}) };
    const response = await broker.request("/token", init);
    assertRefused(response, 405, "invalid_request", `${method} /token`);
    assert.equal(response.headers.get("allow"), "POST");
  }
  const head = await broker.request("/token", { method: "HEAD", headers: authorized });
  assert.equal(head.status, 405);
  assert.equal(head.headers.get("allow"), "POST");
  for (const method of ["POST", "PUT", "DELETE"]) {
    const response = await broker.request("/healthz", { method, headers: authorized, body });
    assertRefused(response, 405, "invalid_request", `${method} /healthz`);
    assert.equal(response.headers.get("allow"), "GET");
  }
  for (const path of ["/", "/token/", "/TOKEN", "/token.json", "/tokens", "/healthz/", "/admin", "/token/../admin", "/.env"]) {
    const response = await broker.request(path, { method: "POST", headers: authorized, body });
    assertRefused(response, 404, "not_found", `POST ${path}`);
  }
  assertIdpUntouched("wrong methods and paths");
});

test("unsupported content types: 415 whatever the credentials; media types are case-blind", async () => {
  // Bytes, so that fetch adds no content type of its own.
  const body = new TextEncoder().encode(JSON.stringify({ scopes: [SCOPE] }));
  for (const contentType of [undefined, "text/plain", "multipart/form-data; boundary=x", "application/xml", "application/jsonx", "application/json-patch+json", "json"]) {
    for (const authorization of [`Bearer ${JOBS_KEY}`, undefined]) {
      const headers = { ...(contentType ? { "content-type": contentType } : {}), ...(authorization ? { authorization } : {}) };
      const response = await broker.request("/token", { method: "POST", headers, body });
      assertRefused(response, 415, "invalid_request", `content-type ${contentType}, ${authorization ? "key" : "no key"}`);
    }
  }
  const upper = await broker.request("/token", { method: "POST", headers: { "content-type": "APPLICATION/JSON; Charset=UTF-8", authorization: `Bearer ${JOBS_KEY}` }, body });
  assert.equal(upper.status, 200, upper.text);
  assertIdpUntouched("content types");
});

test("CR/LF and other line breaks in scopes: 400 invalid_scope, no header added, nothing echoed", async () => {
  const injections = [
    `${SCOPE}\r\nx-injected: 1`,
    "\r\nx-injected: 1",
    `${SCOPE}\nset-cookie: session=stolen`,
    `${SCOPE}\rx-injected: 1`,
    `${SCOPE}\u2028x-injected: 1`,
    `${SCOPE}\u0085x-injected: 1`,
    `${SCOPE}\u0000`,
  ];
  for (const scope of injections) {
    const what = JSON.stringify(scope);
    for (const response of [
      await broker.token({ scopes: [scope] }),
      await broker.form({ grant_type: "client_credentials", scope, client_id: "jobs", client_secret: JOBS_KEY }),
    ]) {
      assertRefused(response, 400, "invalid_scope", what);
      assert.equal(response.headers.get("x-injected"), null, what);
      assert.equal(response.headers.get("set-cookie"), null, what);
      assert.ok(!response.text.includes("injected") && !response.text.includes("stolen"), `${what} is echoed`);
    }
  }
  assertIdpUntouched("injected scopes");
});

test("10,000-character scopes and too many scopes: 400 invalid_scope, not echoed", async () => {
  const long = `api://${"a".repeat(10_000)}/.default`;
  for (const response of [
    await broker.token({ scopes: [long] }),
    await broker.form({ grant_type: "client_credentials", scope: long, client_id: "jobs", client_secret: JOBS_KEY }),
  ]) {
    assertRefused(response, 400, "invalid_scope", "a 10,000-character scope");
    assert.equal(response.json.error_description, `scopes[0] is ${long.length} characters long; at most 1024 are accepted`);
  }
  const many = Array.from({ length: 500 }, (_, i) => `api://r${i}/.default`);
  const tooMany = await broker.token({ scopes: many });
  assertRefused(tooMany, 400, "invalid_scope", "500 scopes");
  assert.equal(tooMany.json.error_description, "too many scopes: at most 64 may be requested at once");
  assertIdpUntouched("long and many scopes");
});

test("budgets: 429 with Retry-After past a caller's budget; other callers and failed guesses spend none of it", async () => {
  const budgeted = await startBroker({ endpoint, app: LOCAL_APP });
  try {
    const reports = (body = { scopes: [REPORTS_SCOPE] }) => budgeted.token(body, { authorization: `Bearer ${REPORTS_KEY}` });
    // Someone who knows the id but not the key cannot spend the caller's budget.
    for (let i = 0; i < 10; i += 1) {
      const guess = await budgeted.form({ grant_type: "client_credentials", scope: REPORTS_SCOPE, client_id: "reports", client_secret: `guess-${i}` });
      assertRefused(guess, 401, "invalid_client", `guess ${i}`);
    }
    const served = [await reports(), await reports(), await reports()];
    assert.deepEqual(served.map((r) => [r.status, r.json.cache]), [[200, "idp"], [200, "memory"], [200, "memory"]]);
    issued.push(served[0].json.access_token);

    const over = await reports();
    assertRefused(over, 429, "slow_down", "the fourth request in a minute at 3/min");
    assert.equal(over.headers.get("retry-after"), "20");
    assert.equal(over.json.error_description, "caller reports is over its budget of 3 requests per minute");
    assertRefused(await reports("not json"), 429, "slow_down", "the budget is checked before the body");
    const overForm = await budgeted.form({ grant_type: "client_credentials", scope: REPORTS_SCOPE }, { authorization: basic("reports", REPORTS_KEY) });
    assertRefused(overForm, 429, "slow_down", "the same budget on the form path");
    assert.match(overForm.headers.get("retry-after"), /^\d+$/);

    const others = await budgeted.token({ scopes: [SCOPE] });
    assert.equal(others.status, 200, "other callers keep their budget");
    issued.push(others.json.access_token);
    assert.equal(endpoint.tokenRequests, 2, "one IdP request per scope set; none for refusals");
  } finally {
    await budgeted.dispose();
  }
});

test("forced refreshes: six per caller per minute, then 429; plain requests and other callers still served", async () => {
  const forcing = await startBroker({ endpoint, app: LOCAL_APP });
  try {
    for (let i = 0; i < 6; i += 1) {
      const forced = await forcing.token({ scopes: [SCOPE], forceRefresh: true });
      assert.equal(forced.status, 200, forced.text);
      assert.equal(forced.json.cache, "idp");
      issued.push(forced.json.access_token);
    }
    assert.equal(endpoint.tokenRequests, 6);
    const over = await forcing.token({ scopes: [SCOPE], forceRefresh: true });
    assertRefused(over, 429, "slow_down", "a seventh forced refresh");
    const retryAfter = Number(over.headers.get("retry-after"));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 10, `Retry-After ${retryAfter}`);
    assert.equal(
      over.json.error_description,
      "caller jobs is over its budget of 6 forced refreshes per minute; requests without forceRefresh are still served",
    );
    assert.equal(endpoint.tokenRequests, 6, "the refused refresh did not reach the IdP");

    const plain = await forcing.token({ scopes: [SCOPE] });
    assert.equal(plain.json.cache, "memory");
    assert.equal(plain.json.access_token, issued.at(-1), "the last forced token is the one served");
    const other = await forcing.token({ scopes: [REPORTS_SCOPE], forceRefresh: true }, { authorization: `Bearer ${REPORTS_KEY}` });
    assert.equal(other.status, 200, "another caller's forced refresh");
    issued.push(other.json.access_token);
    assert.equal(endpoint.tokenRequests, 7);
  } finally {
    await forcing.dispose();
  }
});

test("forceRefreshPerMinute sets a caller's forced-refresh budget; 0 refuses them", async () => {
  const settings = {
    BROKER_CLIENTS: brokerClients({
      jobs: { ...CALLERS.jobs, forceRefreshPerMinute: 0 },
      reports: { ...CALLERS.reports, ratePerMinute: 600, forceRefreshPerMinute: 8 },
    }),
  };
  const configured = await startBroker({ endpoint, app: LOCAL_APP, settings });
  try {
    const refused = await configured.token({ scopes: [SCOPE], forceRefresh: true });
    assertRefused(refused, 429, "slow_down", "forced refresh with a budget of 0");
    assert.equal(refused.headers.get("retry-after"), "60");
    assert.equal(endpoint.tokenRequests, 0);
    assert.equal((await configured.token({ scopes: [SCOPE] })).json.cache, "idp", "plain requests still served");
    const reports = { authorization: `Bearer ${REPORTS_KEY}` };
    for (let i = 0; i < 8; i += 1) {
      const forced = await configured.token({ scopes: [REPORTS_SCOPE], forceRefresh: true }, reports);
      assert.equal(forced.status, 200, `forced refresh ${i + 1} of 8`);
      issued.push(forced.json.access_token);
    }
    assertRefused(await configured.token({ scopes: [REPORTS_SCOPE], forceRefresh: true }, reports), 429, "slow_down", "a ninth");
    assert.equal(endpoint.tokenRequests, 9);
  } finally {
    await configured.dispose();
  }
});

test("healthz shows no secret", async () => {
  const health = await broker.request("/healthz");
  assert.equal(health.status, 200);
  assert.deepEqual(Object.keys(health.json).sort(), ["configured", "coordination", "version"]);
  assert.match(health.json.coordination, /^off: the COORDINATOR Durable Object binding is missing/, "this suite binds no coordinator");
  assertNoSecret(health, "healthz");
});
