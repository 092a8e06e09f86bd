// The broker's KV tier, read from outside: each value is opened here with Node's WebCrypto and
// the suite's CACHE_KEY, so the tests see the seal itself (AES-256-GCM, a fresh IV per write,
// the KV key as associated data), not merely that the stored text looks scrambled.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { CALLERS, REPORTS_SCOPE, SCOPE, WRONG_CACHE_KEY, kvKeyFor as kvKeyOf, openKvValue, startBroker } from "./broker.mjs";

const IV_BYTES = 12;
const TAG_BYTES = 16;
const BUFFER_S = 300;
const REPORTS = { authorization: `Bearer ${CALLERS.reports.keys[0]}` };
let endpoint;
let kvDir;
let broker;

before(async () => {
  endpoint = await startTokenEndpoint();
});
after(async () => {
  await endpoint?.close();
});
beforeEach(async (t) => {
  endpoint.reset();
  endpoint.settings.tokenLifetimeSeconds = 3599;
  // Each test gets its own KV and broker.
  kvDir = await mkdtemp(join(tmpdir(), "cctoken-kv-seal-"));
  broker = await startBroker({ endpoint, app: LOCAL_APP, kvPersist: kvDir, captureLogs: true });
  t.after(async () => {
    await broker.dispose();
    await rm(kvDir, { recursive: true, force: true });
  });
});

const kvKeyFor = (scope) => kvKeyOf(endpoint, LOCAL_APP.clientId, scope);
const open = openKvValue;

const entries = async (kv = broker.kv()) => (await (await kv).list()).keys;

test("a KV value is AES-256-GCM over the token JSON, with CACHE_KEY and the KV key as associated data", async () => {
  const sent = Date.now();
  const issued = await broker.token({ scopes: [SCOPE] });
  assert.equal(issued.json.cache, "idp", issued.text);
  const keys = await entries();
  assert.deepEqual(keys.map((k) => k.name), [kvKeyFor(SCOPE)]);
  const value = await (await broker.kv()).get(kvKeyFor(SCOPE));
  assert.equal(value, Buffer.from(value, "base64").toString("base64"), "canonical base64");

  const json = await open(value, kvKeyFor(SCOPE));
  const stored = JSON.parse(json);
  // Since issue 15 an entry also says when it was sealed (fleet mode trusts it for 30 s after).
  // The members, in any order: nothing more is stored.
  assert.deepEqual(Object.keys(stored).sort(), ["access_token", "expires_on_ms", "ext_expires_on_ms", "refresh_on_ms", "sealed_at_ms", "token_type"]);
  assert.ok(Number.isInteger(stored.sealed_at_ms) && stored.sealed_at_ms >= sent - 1000 && stored.sealed_at_ms <= Date.now(), `sealed_at_ms ${stored.sealed_at_ms}, request sent at ${sent}`);
  assert.equal(stored.access_token, issued.json.access_token);
  assert.equal(stored.token_type, "Bearer");
  assert.equal(Math.floor(stored.expires_on_ms / 1000), issued.json.expires_on);
  assert.equal(stored.ext_expires_on_ms, stored.expires_on_ms, "ext_expires_in 3599 like expires_in");
  assert.equal(stored.refresh_on_ms, null, "no refresh_in, and under two hours");
  assert.equal(Buffer.from(value, "base64").length, IV_BYTES + Buffer.byteLength(json) + TAG_BYTES, "iv || ciphertext || 128-bit tag");

  await assert.rejects(open(value, kvKeyFor(SCOPE), WRONG_CACHE_KEY), "only CACHE_KEY opens it");
  await assert.rejects(open(value, kvKeyFor(REPORTS_SCOPE)), "only under its own KV key");
  const tampered = Buffer.from(value, "base64");
  tampered[IV_BYTES] ^= 1;
  await assert.rejects(open(tampered.toString("base64"), kvKeyFor(SCOPE)), "a changed byte does not open");
});

test("every write draws a fresh IV", async () => {
  const kv = await broker.kv();
  const ivs = [];
  const tokens = [];
  for (let i = 0; i < 4; i += 1) {
    const issued = await broker.token({ scopes: [SCOPE], forceRefresh: true });
    assert.equal(issued.json.cache, "idp", issued.text);
    const value = await kv.get(kvKeyFor(SCOPE));
    ivs.push(Buffer.from(value, "base64").subarray(0, IV_BYTES).toString("hex"));
    tokens.push(JSON.parse(await open(value, kvKeyFor(SCOPE))).access_token);
    assert.equal(tokens[i], issued.json.access_token, "each write holds the token just fetched");
  }
  assert.equal(endpoint.tokenRequests, 4);
  assert.equal(new Set(ivs).size, 4, `IVs ${ivs.join(", ")}`);
  assert.ok(!ivs.includes("0".repeat(2 * IV_BYTES)));

  // The same access token written twice is sealed under another IV each time.
  endpoint.reset();
  const fixed = { access_token: tokens[0], expires_in: 3599, ext_expires_in: 3599 };
  endpoint.failNext({ token: fixed }, { token: fixed });
  const sealed = [];
  for (let i = 0; i < 2; i += 1) {
    const issued = await broker.token({ scopes: [SCOPE], forceRefresh: true });
    assert.equal(issued.json.access_token, tokens[0]);
    sealed.push(await kv.get(kvKeyFor(SCOPE)));
  }
  assert.notEqual(sealed[0].slice(0, 16), sealed[1].slice(0, 16), "another IV");
  assert.notEqual(Buffer.from(sealed[0], "base64").subarray(IV_BYTES, IV_BYTES + 16).toString("hex"), Buffer.from(sealed[1], "base64").subarray(IV_BYTES, IV_BYTES + 16).toString("hex"), "another keystream");
});

test("a value copied under another KV key does not open there: a miss, logged, and the IdP asked", async () => {
  const jobs = await broker.token({ scopes: [SCOPE] });
  const reports = await broker.token({ scopes: [REPORTS_SCOPE] }, REPORTS);
  assert.equal(endpoint.tokenRequests, 2);
  const kv = await broker.kv();
  // A KV writer swaps the jobs' token in where the reports' token belongs.
  await kv.put(kvKeyFor(REPORTS_SCOPE), await kv.get(kvKeyFor(SCOPE)));

  const fresh = await startBroker({ endpoint, app: LOCAL_APP, kvPersist: kvDir, captureLogs: true });
  try {
    const served = await fresh.token({ scopes: [REPORTS_SCOPE] }, REPORTS);
    assert.equal(served.status, 200, served.text);
    assert.equal(served.json.cache, "idp", "the copied value was a miss");
    assert.notEqual(served.json.access_token, jobs.json.access_token, "never the other scope's token");
    assert.notEqual(served.json.access_token, reports.json.access_token);
    assert.equal(endpoint.tokenRequests, 3);
    assert.match(fresh.logs(), /KV read failed, asking the identity provider instead: /);
    // The IdP's answer replaced the copy, sealed for its own key.
    assert.equal(JSON.parse(await open(await kv.get(kvKeyFor(REPORTS_SCOPE)), kvKeyFor(REPORTS_SCOPE))).access_token, served.json.access_token);
    // The jobs' entry, where it belongs, still opens in the fresh isolate.
    const fromKv = await fresh.token({ scopes: [SCOPE] });
    assert.equal(fromKv.json.cache, "kv");
    assert.equal(fromKv.json.access_token, jobs.json.access_token);
    assert.equal(endpoint.tokenRequests, 3);
  } finally {
    await fresh.dispose();
  }
});

test("a broker with another CACHE_KEY reads the entries as misses, logs it and asks the IdP", async () => {
  const first = await broker.token({ scopes: [SCOPE] });
  assert.equal(first.json.cache, "idp");
  const other = await startBroker({ endpoint, app: LOCAL_APP, kvPersist: kvDir, captureLogs: true, settings: { CACHE_KEY: WRONG_CACHE_KEY } });
  try {
    const served = await other.token({ scopes: [SCOPE] });
    assert.equal(served.status, 200, served.text);
    assert.equal(served.json.cache, "idp");
    assert.notEqual(served.json.access_token, first.json.access_token);
    assert.equal(endpoint.tokenRequests, 2);
    const logged = other.logs();
    assert.equal(logged.match(/KV read failed, asking the identity provider instead: /g)?.length, 1, logged);
    assert.ok(!logged.includes(WRONG_CACHE_KEY) && !logged.includes(Buffer.from(WRONG_CACHE_KEY, "base64").toString("hex")));
    // It wrote its own token, sealed with its own key: the first broker's key no longer opens it.
    const value = await (await broker.kv()).get(kvKeyFor(SCOPE));
    assert.equal(JSON.parse(await open(value, kvKeyFor(SCOPE), WRONG_CACHE_KEY)).access_token, served.json.access_token);
    await assert.rejects(open(value, kvKeyFor(SCOPE)));
  } finally {
    await other.dispose();
  }
});

test("the KV TTL is the token's expiry minus the 5-minute buffer", async () => {
  const issued = await broker.token({ scopes: [SCOPE] });
  const [entry] = await entries();
  const stored = JSON.parse(await open(await (await broker.kv()).get(entry.name), entry.name));
  // expirationTtl = floor((expires_on_ms - now - buffer) / 1000) and KV adds floor(now / 1000):
  // within a second of expiry minus buffer, never past it by more than KV's rounding.
  const target = Math.floor(stored.expires_on_ms / 1000) - BUFFER_S;
  assert.ok(entry.expiration >= target - 1 && entry.expiration <= target + 1, `expiration ${entry.expiration}, expiry minus buffer ${target}`);
  assert.equal(Math.floor(stored.expires_on_ms / 1000), issued.json.expires_on);
});

test("a token with 2 to 6 minutes left is kept in KV for 60 s; under 2 minutes it is not written", async () => {
  // 330 s: 30 s past the buffer, so KV's 60 s minimum applies.
  endpoint.settings.tokenLifetimeSeconds = 330;
  const sent = Date.now();
  const short = await broker.token({ scopes: [SCOPE] });
  const answered = Date.now();
  assert.equal(short.status, 200, short.text);
  const [entry] = await entries();
  assert.equal(entry.name, kvKeyFor(SCOPE));
  assert.ok(entry.expiration >= Math.floor(sent / 1000) + 60 && entry.expiration <= Math.floor(answered / 1000) + 60, `expiration ${entry.expiration}, sent ${sent}`);

  // 119 s: served once (the IdP's answer), never written.
  endpoint.settings.tokenLifetimeSeconds = 119;
  const brief = await broker.token({ scopes: [REPORTS_SCOPE] }, REPORTS);
  assert.equal(brief.status, 200, brief.text);
  assert.equal(brief.json.cache, "idp");
  assert.deepEqual((await entries()).map((k) => k.name), [kvKeyFor(SCOPE)]);
  assert.ok(!broker.logs().includes("KV write failed"), "not written, rather than failed");
  assert.equal(endpoint.tokenRequests, 2);
});

test("a memory hit reads nothing from KV", async () => {
  const counting = await startBroker({ endpoint, app: LOCAL_APP, kvCounting: true });
  try {
    assert.deepEqual(counting.kvCalls(), { get: 0, put: 0 });
    const first = await counting.token({ scopes: [SCOPE] });
    assert.equal(first.json.cache, "idp", first.text);
    assert.deepEqual(counting.kvCalls(), { get: 1, put: 1 }, "a miss: one read, one write");
    for (let i = 0; i < 3; i += 1) assert.equal((await counting.token({ scopes: [SCOPE] })).json.cache, "memory");
    assert.deepEqual(counting.kvCalls(), { get: 1, put: 1 }, "memory hits touch no KV");
    assert.equal(endpoint.tokenRequests, 1);
    // The counting proxy passes calls on: what it holds opens to the served token.
    const value = await (await counting.kv()).get(kvKeyFor(SCOPE));
    assert.equal(JSON.parse(await open(value, kvKeyFor(SCOPE))).access_token, first.json.access_token);
  } finally {
    await counting.dispose();
  }
});
