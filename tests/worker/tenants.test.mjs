// Multi-tenant brokers: a caller may name a `tenant` in the JSON body (or the form) when
// BROKER_CLIENTS grants it that tenant (`tenants`); a caller without `tenants` gets the app's
// own tenant only. Each tenant's token is cached under its own KV entry and acquired by its
// own token coordinator. Against the local endpoint, which issues each tenant's tokens with
// its own `tid`: requests per tenant are counted, and no tenant's token reaches another.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { SCOPE, kvKeyFor, openKvValue, startBroker } from "./broker.mjs";
import { auditLines, withFleet } from "./fleet.mjs";

const OWN = LOCAL_APP.tenantId;
const A = "aaaaaaaa-0000-4000-8000-00000000000a";
const B = "contoso-b.onmicrosoft.com";
const SAAS_KEY = "saas-tenants-key-canary-6b1f";
const JOBS_KEY = "jobs-tenants-key-canary-93e0";
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
/** "saas" may name tenants A and B (B written in another case); "jobs" has no `tenants`. */
const BROKER_CLIENTS = JSON.stringify({
  saas: { keySha256: [sha256(SAAS_KEY)], scopes: [SCOPE], tenants: [A, B.toUpperCase()] },
  jobs: { keySha256: [sha256(JOBS_KEY)], scopes: [SCOPE] },
});
const SAAS = { authorization: `Bearer ${SAAS_KEY}` };
const JOBS = { authorization: `Bearer ${JOBS_KEY}` };

let endpoint;
let broker;
let kvDir;
before(async () => {
  endpoint = await startTokenEndpoint({ tenants: [OWN, A, B] });
});
after(() => endpoint?.close());
beforeEach(async (t) => {
  endpoint.reset();
  kvDir = await mkdtemp(join(tmpdir(), "cctoken-kv-tenants-"));
  broker = await startBroker({ endpoint, app: LOCAL_APP, kvPersist: kvDir, captureLogs: true, settings: { BROKER_CLIENTS } });
  t.after(async () => {
    await broker.dispose();
    await rm(kvDir, { recursive: true, force: true });
  });
});

const requestsFor = (tenant) => endpoint.requests.filter((r) => r.path === `/${tenant}/oauth2/v2.0/token`).length;
const tidOf = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")).tid;
/** The reply without its access token, for assertion messages (the leak scan reads them). */
const summary = (reply) => (reply.json?.access_token ? JSON.stringify({ ...reply.json, access_token: "<redacted>" }) : reply.text);
/** The audit lines once `count` arrived (the Worker's output reaches this process a moment after its reply). */
async function auditLinesAtLeast(count, ms = 5000) {
  const until = Date.now() + ms;
  while (auditLines(broker.logs()).length < count && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
  return auditLines(broker.logs());
}
/** The KV key of `tenant`'s token, as the broker names it. */
const kvKeyOfTenant = (tenant) => kvKeyFor({ authority: `${endpoint.url}/${tenant}` }, LOCAL_APP.clientId, SCOPE);

test("a granted tenant gets its own token, once, then from memory; each tenant apart", async () => {
  for (const [body, tid] of [
    [{ scopes: [SCOPE], tenant: A }, A],
    [{ scopes: [SCOPE], tenant: B }, B],
    [{ scopes: [SCOPE] }, OWN],
    [{ scopes: [SCOPE], tenant: A.toUpperCase() }, A],
    [{ scopes: [SCOPE], tenant: B }, B],
  ]) {
    const reply = await broker.token(body, SAAS);
    assert.equal(reply.status, 200, summary(reply));
    assert.equal(tidOf(reply.json.access_token), tid, JSON.stringify(body));
  }
  assert.deepEqual([requestsFor(OWN), requestsFor(A), requestsFor(B)], [1, 1, 1]);
  // The form takes `tenant` too, for OAuth2 clients pointed at the broker.
  const form = await broker.form({ grant_type: "client_credentials", scope: SCOPE, client_id: "saas", client_secret: SAAS_KEY, tenant: B });
  assert.equal(form.status, 200, summary(form));
  assert.equal(tidOf(form.json.access_token), B);
  assert.equal(form.json.cache, "memory");
  assert.equal(endpoint.tokenRequests, 3);
  // The audit line names another tenant (as admitted, lowercase), and no tenant for the app's own.
  const tenants = (await auditLinesAtLeast(6)).map((line) => line.tenant ?? null);
  assert.deepEqual(tenants, [A, B, null, A, B, B]);
});

test("a tenant not granted is 403 tenant_not_granted; a caller without tenants has the app's tenant only", async () => {
  const saasOther = await broker.token({ scopes: [SCOPE], tenant: "fabrikam.onmicrosoft.com" }, SAAS);
  assert.equal(saasOther.status, 403);
  assert.deepEqual(saasOther.json, {
    error: "tenant_not_granted",
    error_description: "caller saas is not granted tenant fabrikam.onmicrosoft.com: add it to the caller's tenants in BROKER_CLIENTS",
  });
  const jobsA = await broker.token({ scopes: [SCOPE], tenant: A }, JOBS);
  assert.equal(jobsA.status, 403);
  assert.equal(jobsA.json.error, "tenant_not_granted");
  assert.ok(!jobsA.text.includes(JOBS_KEY) && !jobsA.text.includes(LOCAL_APP.clientSecret), "no secret in the body");
  const jobsForm = await broker.form({ grant_type: "client_credentials", scope: SCOPE, client_id: "jobs", client_secret: JOBS_KEY, tenant: B });
  assert.equal(jobsForm.status, 403);
  assert.equal(endpoint.tokenRequests, 0, "nothing asked for a tenant not granted");
  // The app's own tenant, left out or named (in any case), is every caller's.
  for (const body of [{ scopes: [SCOPE] }, { scopes: [SCOPE], tenant: OWN.toUpperCase() }]) {
    const reply = await broker.token(body, JOBS);
    assert.equal(reply.status, 200, summary(reply));
    assert.equal(tidOf(reply.json.access_token), OWN);
  }
  assert.deepEqual([requestsFor(OWN), requestsFor(A), requestsFor(B)], [1, 0, 0]);
});

test("a malformed tenant is 400 invalid_request, not quoted back", async () => {
  // '.' and '..' would be normalised out of the token endpoint's path by fetch; a tenant is a
  // GUID or a DNS name of at most 253 characters.
  for (const tenant of ["common", "organizations", "a/b", "", "x y", "Zq9/../token", ".", "..", "Zq9..contoso.com", "-Zq9.contoso.com", `Zq9${"a".repeat(5000)}`]) {
    const reply = await broker.token({ scopes: [SCOPE], tenant }, SAAS);
    assert.equal(reply.status, 400, `${JSON.stringify(tenant)}: ${reply.text}`);
    assert.equal(reply.json.error, "invalid_request");
    assert.match(reply.json.error_description, /^tenant must be a tenant id/);
    assert.ok(!reply.text.includes("Zq9"), reply.text);
  }
  const notText = await broker.token({ scopes: [SCOPE], tenant: 7 }, SAAS);
  assert.equal(notText.status, 400);
  assert.equal(endpoint.tokenRequests, 0);
});

test("a caller's tenants entry that is no tenant ('..') is a configuration error, not quoted", async () => {
  const clients = JSON.stringify({ saas: { keySha256: [sha256(SAAS_KEY)], scopes: [SCOPE], tenants: [A, ".."] } });
  const misconfigured = await startBroker({ endpoint, app: LOCAL_APP, captureLogs: true, settings: { BROKER_CLIENTS: clients } });
  try {
    const health = await misconfigured.request("/healthz");
    assert.equal(health.json.configured, false);
    assert.deepEqual([health.json.setting, health.json.index], ["BROKER_CLIENTS", 0]);
    const reply = await misconfigured.token({ scopes: [SCOPE], tenant: A }, SAAS);
    assert.equal(reply.status, 500);
    assert.equal(reply.json.error, "server_misconfigured");
    assert.match(reply.json.error_description, /^BROKER_CLIENTS\[0\]: /);
    const log = await misconfigured.logMatching(/broker misconfigured: BROKER_CLIENTS\[\d+\]: .*/);
    assert.ok(log.includes("tenants[1] is not a tenant"), log);
    assert.equal(endpoint.tokenRequests, 0);
  } finally {
    await misconfigured.dispose();
  }
});

test("each tenant's token has its own KV entry, sealed for its own key", async () => {
  const a = await broker.token({ scopes: [SCOPE], tenant: A }, SAAS);
  const own = await broker.token({ scopes: [SCOPE] }, SAAS);
  const kv = await broker.kv();
  const names = (await kv.list()).keys.map((k) => k.name).sort();
  assert.deepEqual(names, [kvKeyOfTenant(A), kvKeyOfTenant(OWN)].sort());
  for (const [tenant, reply] of [[A, a], [OWN, own]]) {
    const stored = JSON.parse(await openKvValue(await kv.get(kvKeyOfTenant(tenant)), kvKeyOfTenant(tenant)));
    assert.equal(stored.access_token, reply.json.access_token);
    assert.equal(tidOf(stored.access_token), tenant);
  }
  // A fresh isolate over the same KV finds each tenant's token under its own entry.
  const second = await startBroker({ endpoint, app: LOCAL_APP, kvPersist: kvDir, settings: { BROKER_CLIENTS } });
  try {
    const fromKv = await second.token({ scopes: [SCOPE], tenant: A }, SAAS);
    assert.equal(fromKv.json.cache, "kv", summary(fromKv));
    assert.equal(tidOf(fromKv.json.access_token), A);
    const b = await second.token({ scopes: [SCOPE], tenant: B }, SAAS);
    assert.equal(b.json.cache, "idp", summary(b));
    assert.equal(tidOf(b.json.access_token), B);
  } finally {
    await second.dispose();
  }
  assert.deepEqual([requestsFor(OWN), requestsFor(A), requestsFor(B)], [1, 1, 1]);
});

test("in a fleet, each tenant's token is acquired by its own coordinator, for that tenant", { timeout: 30_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint, settings: { BROKER_CLIENTS } });
  const replies = await Promise.all(
    [A, B, undefined, A, B, undefined].map((tenant, i) =>
      (i % 2 ? fleet.b : fleet.a).token(tenant ? { scopes: [SCOPE], tenant } : { scopes: [SCOPE] }, SAAS).then((reply) => [tenant ?? OWN, reply]),
    ),
  );
  for (const [tenant, reply] of replies) {
    assert.equal(reply.status, 200, reply.summary);
    assert.equal(tidOf(reply.json.access_token), tenant, reply.summary);
  }
  assert.deepEqual([requestsFor(OWN), requestsFor(A), requestsFor(B)], [1, 1, 1], "one IdP request per tenant for the fleet");
  // The other script, cold for tenant B, gets B's token (from KV or B's coordinator), never A's.
  const again = await fleet.b.token({ scopes: [SCOPE], tenant: B }, SAAS);
  assert.equal(tidOf(again.json.access_token), B);
  assert.equal(endpoint.tokenRequests, 3);
});

test("a tenant's coordinator refreshes that tenant's token from its alarm, with nobody asking", { timeout: 45_000 }, async (t) => {
  endpoint.settings.tokenLifetimeSeconds = 360;
  endpoint.settings.refreshInSeconds = 12;
  t.after(() => {
    endpoint.settings.tokenLifetimeSeconds = 3599;
    endpoint.settings.refreshInSeconds = undefined;
  });
  const fleet = await withFleet(t, { endpoint, settings: { BROKER_CLIENTS } });
  const first = await fleet.a.token({ scopes: [SCOPE], tenant: B }, SAAS);
  assert.equal(first.status, 200, first.summary);
  // The alarm is set before the refresh point (12 s); bounded wait for its request.
  const until = Date.now() + 30_000;
  while (endpoint.tokenRequests < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 250));
  assert.deepEqual(
    endpoint.requests.map((r) => r.path),
    [`/${B}/oauth2/v2.0/token`, `/${B}/oauth2/v2.0/token`],
    "the first request and the alarm's refresh, both for tenant B",
  );
  const refreshed = await fleet.b.token({ scopes: [SCOPE], tenant: B }, SAAS);
  assert.equal(tidOf(refreshed.json.access_token), B);
  assert.ok(refreshed.json.access_token === endpoint.requests[1].accessToken, "the refreshed token is served");
});
