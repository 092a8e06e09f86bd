// The npm module, loaded with require(), against the local token endpoint.
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { ClientCredentialError, ConfidentialClient } = require("cctoken");

let endpoint;
let LOCAL_APP;

before(async () => {
  const server = await import("../token-endpoint/server.mjs");
  LOCAL_APP = server.LOCAL_APP;
  endpoint = await server.startTokenEndpoint();
});
after(() => endpoint.close());

test("require('cctoken') acquires a token, then serves it from the cache", async () => {
  const client = new ConfidentialClient({
    clientId: LOCAL_APP.clientId,
    authority: endpoint.authority,
    credential: { clientSecret: LOCAL_APP.clientSecret },
  });
  const first = await client.acquireTokenForClient({ scopes: ["https://graph.microsoft.com/.default"] });
  const second = await client.acquireTokenForClient({ scopes: ["https://graph.microsoft.com/.default"] });
  assert.equal(first.fromCache, false);
  assert.equal(second.fromCache, true);
  assert.equal(first.accessToken, endpoint.requests[0].accessToken);
  assert.equal(second.accessToken, first.accessToken);
  assert.equal(endpoint.tokenRequests, 1);
});

test("require('cctoken') throws typed errors for bad options", () => {
  assert.throws(
    () => new ConfidentialClient({ clientId: "x", credential: { clientSecret: "s" } }),
    { name: "ClientCredentialError", code: "invalid_config", field: "authority" },
  );
  assert.throws(() => new ConfidentialClient({}), (error) => {
    assert.ok(error instanceof ClientCredentialError);
    assert.equal(error.code, "invalid_config");
    assert.equal(error.field, "clientId");
    return true;
  });
});
