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

test("one error class: made by the exported class, with `transient`, recognised by the ESM entry's copy", async () => {
  const esm = await import("cctoken");
  const invalid = (() => {
    try {
      new ConfidentialClient({});
    } catch (error) {
      return error;
    }
  })();
  assert.equal(Object.getPrototypeOf(invalid), ClientCredentialError.prototype);
  assert.equal(invalid.transient, false, "a configuration mistake is not worth retrying");
  assert.ok(invalid instanceof esm.ClientCredentialError);
  const unreachable = new ConfidentialClient({
    clientId: LOCAL_APP.clientId,
    authority: endpoint.authority,
    credential: { clientSecret: LOCAL_APP.clientSecret },
    maxRetries: 0,
    fetch: async () => {
      throw new TypeError("fetch failed");
    },
  });
  const network = await unreachable.acquireTokenForClient({ scopes: ["https://graph.microsoft.com/.default"] }).catch((error) => error);
  assert.equal(network.code, "network_error");
  assert.equal(network.transient, true);
  const refusedByEsm = await new esm.ConfidentialClient({
    clientId: LOCAL_APP.clientId,
    authority: endpoint.authority,
    credential: { clientSecret: "wrong" },
  })
    .acquireTokenForClient({ scopes: ["https://graph.microsoft.com/.default"] })
    .catch((error) => error);
  assert.equal(refusedByEsm.code, "invalid_client");
  assert.equal(refusedByEsm.transient, false);
  assert.ok(refusedByEsm instanceof ClientCredentialError, "the CommonJS class recognises the ESM entry's errors");
  // require() and import share one glue (require of ES modules): one wasm instance, one class.
  assert.equal(ClientCredentialError, esm.ClientCredentialError, "one glue, one class");
  assert.equal(invalid instanceof esm.ClientCredentialError && refusedByEsm instanceof ClientCredentialError, true);
});
