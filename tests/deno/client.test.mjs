// The npm module in Deno 2, imported by its bare name through node_modules and the
// package's "deno" export condition, against the local token endpoint.
import { assert, assertEquals, assertMatch } from "./assert.mjs";
import { ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";

const GRAPH = "https://graph.microsoft.com/.default";

Deno.test("acquires a token, then serves it from the cache", async () => {
  const endpoint = await startTokenEndpoint();
  try {
    const client = new ConfidentialClient({
      clientId: LOCAL_APP.clientId,
      authority: endpoint.authority,
      credential: { clientSecret: LOCAL_APP.clientSecret },
    });
    const first = await client.acquireTokenForClient({ scopes: [GRAPH] });
    const second = await client.acquireTokenForClient({ scopes: [GRAPH] });
    assertEquals(first.fromCache, false);
    assertEquals(first.tokenType, "Bearer");
    assert(first.expiresOn instanceof Date);
    assertEquals(second.fromCache, true);
    assertEquals(second.accessToken, first.accessToken);
    assertEquals(endpoint.tokenRequests, 1);
    assertEquals(
      endpoint.requests[0].body,
      `client_id=${LOCAL_APP.clientId}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default` +
        "&client_secret=local-dev-secret%7Eonly-valid-on-127.0.0.1&grant_type=client_credentials",
    );
  } finally {
    await endpoint.close();
  }
});

Deno.test("errors carry code and field", async () => {
  let thrown;
  try {
    new ConfidentialClient({ clientId: "x", authority: "http://example.com/t", credential: { clientSecret: "s" } });
  } catch (error) {
    thrown = error;
  }
  assertEquals(thrown?.code, "invalid_authority");
  assertEquals(thrown?.field, "authority");

  const endpoint = await startTokenEndpoint();
  try {
    const client = new ConfidentialClient({
      clientId: LOCAL_APP.clientId,
      authority: endpoint.authority,
      credential: { clientSecret: "wrong" },
    });
    const error = await client.acquireTokenForClient({ scopes: [GRAPH] }).catch((e) => e);
    assertEquals(error.code, "invalid_client");
    assertEquals(error.aadsts, [7000215]);
    assertMatch(error.message, /AADSTS7000215/);
  } finally {
    await endpoint.close();
  }
});
