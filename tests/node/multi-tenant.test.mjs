// Multi-tenant daemons: one client (one app registration) serving many customer tenants, the
// tenant per request (`tenantId`, or a whole `authority`). Against the local endpoint, which
// issues each tenant's tokens with its own `tid` and checks assertions' `aud` against the
// tenant's token endpoint: requests per tenant are counted, and no tenant's token is ever
// served for another, through the core or through the JS fast path.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "./fixtures.mjs";

const SCOPE = "api://cctoken-demo/.default";
const OWN = LOCAL_APP.tenantId;
const A = "aaaaaaaa-0000-4000-8000-00000000000a";
const B = "contoso-b.onmicrosoft.com";
let endpoint;

before(async () => {
  endpoint = await startTokenEndpoint({
    tenants: [OWN, A, B],
    clients: { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret, certificates: [FIXTURES.rsaCert] } },
  });
});
after(() => endpoint.close());
beforeEach(() => endpoint.reset());

const newClient = (overrides = {}) =>
  new ConfidentialClient({
    clientId: LOCAL_APP.clientId,
    authority: endpoint.authority,
    credential: { clientSecret: LOCAL_APP.clientSecret },
    ...overrides,
  });

/** Token requests the endpoint received for `tenant`'s token endpoint. */
const requestsFor = (tenant) => endpoint.requests.filter((r) => r.path === `/${tenant}/oauth2/v2.0/token`).length;
/** The `tid` of an issued access token (a JWT; decoded, not verified). */
const tidOf = (token) => JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).tid;
const claimsOf = (jwt) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));

test("each tenant's token comes from its own endpoint, once, with the same form", async () => {
  const client = newClient();
  const own = await client.acquireTokenForClient({ scopes: [SCOPE] });
  const a = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: A });
  const b = await client.acquireTokenForClient({ scopes: [SCOPE], authority: `${endpoint.url}/${B}` });
  assert.deepEqual([tidOf(own.accessToken), tidOf(a.accessToken), tidOf(b.accessToken)], [OWN, A, B]);
  assert.deepEqual([own.tenantId, a.tenantId, b.tenantId], [OWN, A, B]);
  const bodies = endpoint.requests.map((r) => r.body);
  assert.equal(new Set(bodies).size, 1, "one form for every tenant");
  const form = new URLSearchParams({ client_id: LOCAL_APP.clientId, scope: SCOPE, client_secret: LOCAL_APP.clientSecret, grant_type: "client_credentials" });
  // Compared without printing: the body holds the secret.
  assert.ok(bodies[0] === form.toString(), "client_id, scope, client_secret, grant_type in that order");

  for (let round = 0; round < 3; round += 1) {
    for (const [request, tid] of [
      [{ scopes: [SCOPE] }, OWN],
      [{ scopes: [SCOPE], tenantId: A }, A],
      [{ scopes: [SCOPE], tenantId: A.toUpperCase() }, A],
      [{ scopes: [SCOPE], tenantId: B }, B],
      [{ scopes: [SCOPE], authority: `${endpoint.url}/${A}` }, A],
      [{ scopes: [SCOPE], tenantId: OWN }, OWN],
    ]) {
      const hit = await client.acquireTokenForClient(request);
      assert.equal(hit.fromCache, true);
      assert.equal(tidOf(hit.accessToken), tid, JSON.stringify(request));
    }
  }
  assert.deepEqual([requestsFor(OWN), requestsFor(A), requestsFor(B)], [1, 1, 1]);
});

test("concurrent cold requests share one request per tenant", async () => {
  const client = newClient();
  const tenants = [undefined, A, B];
  const calls = [];
  for (let i = 0; i < 30; i += 1) {
    const tenantId = tenants[i % 3];
    calls.push(client.acquireTokenForClient(tenantId ? { scopes: [SCOPE], tenantId } : { scopes: [SCOPE] }).then((r) => [tenantId ?? OWN, tidOf(r.accessToken)]));
  }
  for (const [asked, got] of await Promise.all(calls)) assert.equal(got, asked);
  assert.deepEqual([requestsFor(OWN), requestsFor(A), requestsFor(B)], [1, 1, 1]);
});

test("the JS fast path answers tenant requests per tenant, never one tenant's token for another", async () => {
  const client = newClient();
  const a = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: A });
  const first = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: A });
  // The fast path hands every repeat the same frozen result: this is it answering.
  assert.equal(await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: A }), first);
  // Another tenant, and the client's own, are not tenant A's hit.
  const b = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: B });
  assert.equal(tidOf(b.accessToken), B);
  assert.equal(b.fromCache, false);
  const own = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(tidOf(own.accessToken), OWN);
  assert.equal(tidOf((await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: B })).accessToken), B);
  // Requests shaped like tenant A's key in other ways are the core's to answer or refuse.
  const shaped = [
    { scopes: ["", A, SCOPE] },
    { scopes: [`\n${A}`, SCOPE] },
    { scopes: [SCOPE], tenantId: `${A}\n` },
    { scopes: [SCOPE], tenantId: "" },
  ];
  for (const request of shaped) {
    const outcome = await client.acquireTokenForClient(request).catch((e) => e);
    assert.notEqual(outcome.accessToken, a.accessToken, JSON.stringify(request));
    assert.ok(outcome instanceof Error, `${JSON.stringify(request)} is refused`);
  }
  assert.deepEqual([requestsFor(OWN), requestsFor(A), requestsFor(B)], [1, 1, 1]);
});

test("getAuthorizationHeader and callApi take the tenant too", async () => {
  const client = newClient();
  const header = await client.getAuthorizationHeader({ scopes: [SCOPE], tenantId: B });
  assert.equal(tidOf(header.slice("Bearer ".length)), B);
  // The endpoint records any request; its answer (404) is the API's, handed back as it is.
  const response = await client.callApi(`${endpoint.url}/api/customers`, { scopes: [SCOPE], tenantId: A });
  assert.equal(response.status, 404);
  const apiCall = endpoint.requests.find((r) => r.path === "/api/customers");
  assert.equal(tidOf(apiCall.headers.authorization.slice("Bearer ".length)), A);
  assert.deepEqual([requestsFor(OWN), requestsFor(A), requestsFor(B)], [0, 1, 1]);
});

test("callApi's 403 for a missing permission names the admin-consent URL of the request's tenant", async () => {
  const fetch = async (url, init) =>
    String(url).startsWith("https://graph.example/")
      ? new Response(JSON.stringify({ error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." } }), { status: 403 })
      : globalThis.fetch(url, init);
  const client = newClient({ fetch });
  const error = await client.callApi("https://graph.example/v1.0/users", { scopes: [SCOPE], tenantId: B }).catch((e) => e);
  assert.equal(error.code, "insufficient_privileges", error.message);
  assert.ok(error.hint.includes(`${endpoint.url}/${B}/adminconsent?client_id=${LOCAL_APP.clientId}`), error.hint);
  assert.deepEqual([requestsFor(OWN), requestsFor(B)], [0, 1]);
});

test("a certificate's assertion names the tenant's own token endpoint as its audience", async () => {
  const client = newClient({ credential: { certificate: { privateKeyPem: FIXTURES.rsaKey, certificatePem: FIXTURES.rsaCert } } });
  const b = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: B });
  assert.equal(tidOf(b.accessToken), B);
  const own = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(tidOf(own.accessToken), OWN);
  const audiences = endpoint.requests.map((r) => claimsOf(new URLSearchParams(r.body).get("client_assertion")).aud);
  assert.deepEqual(audiences, [`${endpoint.url}/${B}/oauth2/v2.0/token`, `${endpoint.url}/${OWN}/oauth2/v2.0/token`]);
  assert.deepEqual(endpoint.requests.map((r) => r.status), [200, 200]);
});

test("serializeCache and deserializeCache keep tenants apart", async () => {
  const client = newClient();
  await client.acquireTokenForClient({ scopes: [SCOPE] });
  await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: A });
  await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: B });
  const blob = client.serializeCache();
  assert.equal(JSON.parse(blob).version, 2);
  const restored = newClient();
  assert.equal(restored.deserializeCache(blob), 3);
  for (const [request, tid] of [
    [{ scopes: [SCOPE], tenantId: B }, B],
    [{ scopes: [SCOPE], tenantId: A }, A],
    [{ scopes: [SCOPE] }, OWN],
  ]) {
    const hit = await restored.acquireTokenForClient(request);
    assert.equal(hit.fromCache, true);
    assert.equal(tidOf(hit.accessToken), tid);
  }
  assert.equal(endpoint.tokenRequests, 3);
});

test("a request's tenant is held to the client's rules, with typed errors and nothing sent", async () => {
  const client = newClient();
  const refused = async (request, code, field, says) => {
    const error = await client.acquireTokenForClient({ scopes: [SCOPE], ...request }).catch((e) => e);
    assert.equal(error.code, code, `${JSON.stringify(request)}: ${error.message}`);
    assert.equal(error.field, field);
    assert.ok(error.message.includes(says), error.message);
  };
  await refused({ tenantId: "common" }, "invalid_authority", "tenantId", "cannot be used for client credentials");
  await refused({ tenantId: "organizations" }, "invalid_authority", "tenantId", "cannot be used for client credentials");
  await refused({ authority: `${endpoint.url}/${A}/extra` }, "invalid_authority", "authority", "one tenant segment");
  await refused({ authority: `https://login.microsoftonline.us/${A}` }, "invalid_authority", "authority", "allowedAuthorityHosts");
  await refused({ authority: `http://example.com/${A}` }, "invalid_authority", "authority", "must use https");
  await refused({ tenantId: A, authority: `${endpoint.url}/${A}` }, "invalid_config", "tenantId", "not both");
  await refused({ tenantId: 7 }, "invalid_config", "tenantId", "must be a string");
  // A tenant is a GUID or a DNS name: '..' would be normalised out of the URL by fetch
  // (`/../oauth2/v2.0/token` is `/oauth2/v2.0/token`), so the request would reach another
  // endpoint than its cache key, assertion aud and tenantId name.
  for (const tenant of [".", "..", "a..b", ".contoso.com", "contoso.com.", "-a.b", "b2c_1_policy"]) {
    await refused({ tenantId: tenant }, "invalid_authority", "tenantId", "the tenant in tenantId");
    await refused({ authority: `${endpoint.url}/${tenant}` }, "invalid_authority", "authority", "the tenant in authority");
  }
  const huge = "a".repeat(5000);
  await refused({ tenantId: huge }, "invalid_authority", "tenantId", "at most 253");
  const long = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: huge }).catch((e) => e);
  assert.ok(long.message.length < 400 && !long.message.includes("aaaaaaaaaa"), "bounded, the value not echoed");
  for (const call of [(r) => client.getAuthorizationHeader(r), (r) => client.callApi(`${endpoint.url}/api`, r)]) {
    const error = await call({ scopes: [SCOPE], tenantId: ".." }).catch((e) => e);
    assert.equal(error.code, "invalid_authority", error.message);
    assert.equal(error.field, "tenantId");
  }
  assert.throws(() => newClient({ authority: `${endpoint.url}/..` }), { code: "invalid_authority", field: "authority" });
  assert.throws(() => new ConfidentialClient({ clientId: LOCAL_APP.clientId, tenantId: "..", credential: { clientSecret: LOCAL_APP.clientSecret } }), { code: "invalid_authority", field: "tenantId" });
  const generic = newClient({ authority: undefined, tokenEndpoint: endpoint.genericTokenEndpoint });
  const error = await generic.acquireTokenForClient({ scopes: ["read"], tenantId: A }).catch((e) => e);
  assert.equal(error.code, "invalid_authority");
  assert.match(error.message, /tokenEndpoint, a generic OAuth2 server without tenants/);
  assert.throws(() => newClient({ allowedAuthorityHosts: ["https://login.microsoftonline.us/tenant"] }), { code: "invalid_authority", field: "allowedAuthorityHosts" });
  assert.equal(endpoint.requests.length, 0);
});
