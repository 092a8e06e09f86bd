// The npm module's BrokerClient with the tenant per request, against the real broker under
// workerd (Miniflare) over HTTP, and the local endpoint behind it (which issues each tenant's
// tokens with its own `tid`). What the job sends is seen through the client's `fetch` option:
// the exact form, and how many requests reach the broker per tenant.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { SCOPE, startBroker } from "./broker.mjs";

const OWN = LOCAL_APP.tenantId;
const A = "aaaaaaaa-0000-4000-8000-00000000000a";
const B = "contoso-b.onmicrosoft.com";
/** Exists at the endpoint, but no caller is granted it. */
const C = "cccccccc-0000-4000-8000-00000000000c";
const SAAS_KEY = "saas-broker-client-key-canary-51d3";
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const BROKER_CLIENTS = JSON.stringify({
  saas: { keySha256: [sha256(SAAS_KEY)], scopes: [SCOPE], tenants: [A, B] },
});

let endpoint;
let broker;
before(async () => {
  endpoint = await startTokenEndpoint({ tenants: [OWN, A, B, C] });
  broker = await startBroker({ endpoint, app: LOCAL_APP, port: 0, settings: { BROKER_CLIENTS } });
});
after(async () => {
  await broker?.dispose();
  await endpoint?.close();
});
beforeEach(() => endpoint.reset());

/** A BrokerClient for "saas" whose requests to the broker are recorded (their forms). */
async function saasClient() {
  const { BrokerClient } = await import("cctoken");
  const forms = [];
  const fetch = (input, init) => {
    forms.push(String(init.body));
    return globalThis.fetch(input, init);
  };
  const client = new BrokerClient({ url: broker.url.href, callerId: "saas", key: SAAS_KEY, fetch });
  /** Requests that reached the broker naming `tenant` (null: none). */
  const sentFor = (tenant) => forms.filter((form) => new URLSearchParams(form).get("tenant") === tenant).length;
  return { client, forms, sentFor };
}

const requestsFor = (tenant) => endpoint.requests.filter((r) => r.path === `/${tenant}/oauth2/v2.0/token`).length;
const tidOf = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")).tid;

test("acquireToken({ tenant }) gets that tenant's token through the broker, cached in the job per tenant", async () => {
  const { client, forms } = await saasClient();
  const a = await client.acquireToken({ scopes: [SCOPE], tenant: A.toUpperCase() });
  const b = await client.acquireToken({ scopes: [SCOPE], tenant: B });
  const own = await client.acquireToken({ scopes: [SCOPE] });
  assert.deepEqual([tidOf(a.accessToken), tidOf(b.accessToken), tidOf(own.accessToken)], [A, B, OWN]);
  assert.deepEqual([a.tenantId, b.tenantId], [A, B], "lowercased, as sent");
  const scope = new URLSearchParams({ scope: SCOPE }).toString();
  assert.deepEqual(forms, [
    `${scope}&grant_type=client_credentials&tenant=${A}`,
    `${scope}&grant_type=client_credentials&tenant=${B}`,
    `${scope}&grant_type=client_credentials`,
  ]);
  assert.deepEqual([requestsFor(A), requestsFor(B), requestsFor(OWN)], [1, 1, 1]);

  // Repeats are the job's memory hits, each of its own tenant's token.
  for (const [request, token] of [
    [{ scopes: [SCOPE], tenant: A }, a],
    [{ scopes: [SCOPE], tenant: B.toUpperCase() }, b],
    [{ scopes: [SCOPE] }, own],
  ]) {
    const hit = await client.acquireToken(request);
    assert.equal(hit.fromCache, true, JSON.stringify(request));
    assert.ok(hit.accessToken === token.accessToken, `${JSON.stringify(request)} served its own tenant's token`);
  }
  assert.equal(forms.length, 3);

  // A forced refresh of one tenant sends both fields and replaces that tenant's token only.
  const forced = await client.acquireToken({ scopes: [SCOPE], tenant: A, forceRefresh: true });
  assert.equal(forms[3], `${scope}&grant_type=client_credentials&tenant=${A}&force_refresh=true`);
  assert.equal(tidOf(forced.accessToken), A);
  assert.ok(forced.accessToken !== a.accessToken, "a new token for A");
  assert.equal(requestsFor(A), 2, "the broker skipped its caches");
  assert.ok((await client.acquireToken({ scopes: [SCOPE], tenant: B })).accessToken === b.accessToken, "B's token stays");
  client.free();
});

test("concurrent requests: one to the broker per tenant", async () => {
  const { client, forms, sentFor } = await saasClient();
  const results = await Promise.all(
    [A, B, A.toUpperCase(), undefined, B, undefined].map((tenant) => client.acquireToken({ scopes: [SCOPE], ...(tenant ? { tenant } : {}) })),
  );
  assert.deepEqual(results.map((r) => tidOf(r.accessToken)), [A, B, A, OWN, B, OWN]);
  assert.deepEqual([sentFor(A), sentFor(B), sentFor(null), forms.length], [1, 1, 1, 3]);
  client.free();
});

test("a tenant not granted is a non-transient tenant_not_granted error; a malformed one never leaves the job", async () => {
  const { client, forms, sentFor } = await saasClient();
  const refused = await client.acquireToken({ scopes: [SCOPE], tenant: C }).catch((e) => e);
  assert.equal(refused.code, "tenant_not_granted");
  assert.equal(refused.status, 403);
  assert.equal(refused.transient, false, "not retried (the CLI's exit code would be 3)");
  assert.equal(refused.message, `tenant_not_granted: caller saas is not granted tenant ${C}: add it to the caller's tenants in BROKER_CLIENTS`);
  assert.equal(sentFor(C), 1, "one request, no retry");
  // Remembered for that tenant (like a scope not granted); the others go on.
  assert.equal((await client.acquireToken({ scopes: [SCOPE], tenant: C }).catch((e) => e)).code, "tenant_not_granted");
  assert.equal(sentFor(C), 1);
  assert.equal(tidOf((await client.acquireToken({ scopes: [SCOPE], tenant: A })).accessToken), A);
  assert.equal(requestsFor(C), 0, "the broker never asked the identity provider for C");

  for (const tenant of ["common", "Organizations", "consumers", "", "contoso.com/x", "a b", ".", "..", "a..b", "a".repeat(5000)]) {
    const error = await client.acquireToken({ scopes: [SCOPE], tenant }).catch((e) => e);
    assert.deepEqual([error.code, error.field], ["invalid_authority", "tenant"], JSON.stringify(tenant));
    assert.match(error.message, /^invalid_authority: tenant must be a tenant id \(a GUID\) or a verified domain/);
  }
  const misnamed = await client.acquireToken({ scopes: [SCOPE], tenantId: A }).catch((e) => e);
  assert.equal(misnamed.code, "invalid_config");
  assert.match(misnamed.message, /unknown acquireToken field "tenantId": did you mean "tenant"\?/);
  assert.equal(forms.length, 2, "nothing malformed was sent");
  client.free();
});
