// The npm module, imported as ESM, against the local token endpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClientCredentialError, ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { useLocalEndpoint } from "./local-endpoint.mjs";
import { decodeClaims } from "../token-endpoint/access-token.mjs";

const GRAPH = "https://graph.microsoft.com/.default";
const local = useLocalEndpoint();
const { newClient } = local;

test("sends the exact client-credentials request and returns the issued token", async () => {
  const before = Date.now();
  const result = await newClient().acquireTokenForClient({ scopes: [GRAPH] });

  assert.equal(local.endpoint.requests.length, 1);
  const [sent] = local.endpoint.requests;
  assert.equal(sent.method, "POST");
  assert.equal(sent.path, `/${LOCAL_APP.tenantId}/oauth2/v2.0/token`);
  assert.equal(sent.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(sent.headers.accept, "application/json");
  assert.equal(sent.headers["client-request-id"], result.correlationId);
  assert.match(result.correlationId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(sent.headers["return-client-request-id"], "true");
  assert.equal(sent.headers["x-client-sku"], "cctoken");
  assert.match(sent.headers["x-client-ver"], /^\d+\.\d+\.\d+$/);
  assert.equal(
    sent.body,
    `client_id=${LOCAL_APP.clientId}` +
      "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" +
      "&client_secret=local-dev-secret%7Eonly-valid-on-127.0.0.1" +
      "&grant_type=client_credentials",
  );
  assert.equal(sent.status, 200);

  assert.deepEqual(Object.keys(result).sort(), [
    "accessToken", "correlationId", "expiresOn", "extExpiresOn", "fromCache", "refreshOn", "scopes", "tenantId", "tokenType",
  ]);
  assert.deepEqual(result.scopes, [GRAPH]);
  assert.equal(result.tenantId, LOCAL_APP.tenantId);
  assert.equal(result.refreshOn, undefined, "a 1-hour token gets no proactive refresh point");
  assert.equal(result.extExpiresOn.getTime(), result.expiresOn.getTime());
  assert.equal(result.tokenType, "Bearer");
  assert.equal(result.fromCache, false);
  assert.equal(result.accessToken, sent.accessToken, "the token the endpoint issued");
  assert.equal(decodeClaims(result.accessToken).aud, "https://graph.microsoft.com");
  assert.equal(decodeClaims(result.accessToken).appid, LOCAL_APP.clientId);
  assert.ok(result.expiresOn instanceof Date);
  const lifetime = result.expiresOn.getTime() - before;
  assert.ok(lifetime > 3590_000 && lifetime <= 3600_000, `lifetime ${lifetime} ms`);
});

test("serves the second call from the cache without a request", async () => {
  const client = newClient();
  const first = await client.acquireTokenForClient({ scopes: [GRAPH] });
  const second = await client.acquireTokenForClient({ scopes: [GRAPH] });
  assert.equal(local.endpoint.tokenRequests, 1);
  assert.equal(second.fromCache, true);
  assert.equal(first.accessToken, local.endpoint.requests[0].accessToken);
  assert.equal(second.accessToken, first.accessToken);
  assert.equal(second.expiresOn.getTime(), first.expiresOn.getTime());
});

test("results are frozen, and repeated hits share one answer", async () => {
  const client = newClient();
  const first = await client.acquireTokenForClient({ scopes: [GRAPH] });
  const second = await client.acquireTokenForClient({ scopes: [GRAPH] });
  const third = await client.acquireTokenForClient({ scopes: [GRAPH] });
  for (const result of [first, second]) {
    assert.ok(Object.isFrozen(result) && Object.isFrozen(result.scopes));
    assert.throws(() => { result.accessToken = "changed"; }, TypeError);
    assert.throws(() => result.scopes.push("other"), TypeError);
  }
  assert.equal(third, second, "a hit allocates nothing per call");
  assert.deepEqual({ ...second, correlationId: undefined }, { ...first, fromCache: true, correlationId: undefined });
  assert.equal(local.endpoint.tokenRequests, 1);
});

test("a forced refresh never joins a plain fetch in flight; a plain call joins a forced one", async () => {
  // A plain fetch may be answered from a shared store with the very token a forced refresh
  // is meant to replace, so the forced call gets a fetch of its own.
  const client = newClient();
  const plain = client.acquireTokenForClient({ scopes: [GRAPH] });
  const forced = client.acquireTokenForClient({ scopes: [GRAPH], forceRefresh: true });
  const [first, second] = await Promise.all([plain, forced]);
  assert.equal(local.endpoint.tokenRequests, 2);
  assert.notEqual(second.accessToken, first.accessToken);
  // The other way round, a plain call that finds nothing cached is happy with the forced
  // call's newer token.
  client.clearCache();
  const again = client.acquireTokenForClient({ scopes: [GRAPH], forceRefresh: true });
  const joined = client.acquireTokenForClient({ scopes: [GRAPH] });
  const [third, fourth] = await Promise.all([again, joined]);
  assert.equal(local.endpoint.tokenRequests, 3);
  assert.equal(fourth.accessToken, third.accessToken);
  const after = await client.acquireTokenForClient({ scopes: [GRAPH] });
  assert.equal(after.accessToken, third.accessToken);
  assert.equal(after.fromCache, true);
  assert.equal(local.endpoint.tokenRequests, 3);
});

test("caches per scope set and clearCache forgets", async () => {
  const client = newClient();
  await client.acquireTokenForClient({ scopes: [GRAPH] });
  const other = await client.acquireTokenForClient({ scopes: ["api://cctoken-demo/.default"] });
  assert.equal(other.fromCache, false);
  assert.equal(decodeClaims(other.accessToken).aud, "api://cctoken-demo");
  assert.equal(local.endpoint.tokenRequests, 2);
  client.clearCache();
  const again = await client.acquireTokenForClient({ scopes: [GRAPH] });
  assert.equal(again.fromCache, false);
  assert.equal(local.endpoint.tokenRequests, 3);
});

test("a wrong secret rejects with Entra's error details and without the secret", async () => {
  const client = newClient({ credential: { clientSecret: "wrong-secret-value-4242" } });
  const error = await client.acquireTokenForClient({ scopes: [GRAPH] }).then(
    () => assert.fail("expected a rejection"),
    (e) => e,
  );
  assert.ok(error instanceof Error);
  assert.ok(error instanceof ClientCredentialError);
  assert.ok(!(new Error("other") instanceof ClientCredentialError));
  assert.equal(error.name, "ClientCredentialError");
  assert.equal(error.code, "invalid_client");
  assert.equal(error.status, 401);
  assert.deepEqual(error.aadsts, [7000215]);
  assert.match(error.message, /^invalid_client: AADSTS7000215: Invalid client secret provided\./);
  assert.match(error.correlationId, /^[0-9a-f-]{36}$/);
  assert.match(error.traceId, /^[0-9a-f-]{36}$/);
  assert.ok(!JSON.stringify({ ...error, message: error.message, stack: error.stack }).includes("wrong-secret-value-4242"));
});

test("a scope Entra refuses comes back as invalid_scope with AADSTS70011 and a hint", async () => {
  // Aimed at the Entra path through tokenEndpoint, so the client's own Entra checks step aside.
  const error = await newClient({ authority: undefined, tokenEndpoint: `${local.endpoint.authority}/oauth2/v2.0/token` })
    .acquireTokenForClient({ scopes: ["User.Read"] })
    .catch((e) => e);
  assert.equal(error.code, "invalid_scope");
  assert.equal(error.status, 400);
  assert.deepEqual(error.aadsts, [70011]);
  assert.match(error.description, /^AADSTS70011: /);
  assert.match(error.hint, /\/\.default/);
  assert.match(error.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
});

test("bad options throw a ClientCredentialError naming the field, never a wasm trap", () => {
  const valid = {
    clientId: LOCAL_APP.clientId,
    authority: local.endpoint.authority,
    credential: { clientSecret: LOCAL_APP.clientSecret },
  };
  const cases = [
    [undefined, "invalid_config", "options"],
    [{ ...valid, clientId: undefined }, "invalid_config", "clientId"],
    [{ ...valid, clientId: 42 }, "invalid_config", "clientId"],
    [{ ...valid, clientId: "" }, "invalid_config", "clientId"],
    [{ ...valid, authority: undefined }, "invalid_config", "authority"],
    [{ ...valid, authority: "http://login.microsoftonline.com/x" }, "invalid_authority", "authority"],
    [{ ...valid, authority: "https://login.microsoftonline.com/common" }, "invalid_authority", "authority"],
    [{ ...valid, credential: undefined }, "invalid_config", "credential"],
    [{ ...valid, credential: {} }, "invalid_config", "credential"],
    [{ ...valid, credential: { clientSecret: 5 } }, "invalid_config", "credential.clientSecret"],
    [{ ...valid, credential: { clientSecret: "" } }, "invalid_config", "credential.clientSecret"],
    [{ ...valid, fetch: "not a function" }, "invalid_config", "fetch"],
  ];
  for (const [options, code, field] of cases) {
    assert.throws(
      () => new ConfidentialClient(options),
      (error) => {
        assert.equal(error.name, "ClientCredentialError", JSON.stringify(options));
        assert.equal(error.code, code, JSON.stringify(options));
        assert.equal(error.field, field, JSON.stringify(options));
        assert.doesNotMatch(error.message, /unreachable|RuntimeError/);
        assert.ok(!error.message.includes(LOCAL_APP.clientSecret));
        return true;
      },
    );
  }
});

test("bad requests reject with invalid_scope before any request is sent", async () => {
  const client = newClient();
  for (const request of [undefined, {}, { scopes: [] }, { scopes: "x" }, { scopes: [""] }, { scopes: [1] }, { scopes: ["a b"] }]) {
    const error = await client.acquireTokenForClient(request).catch((e) => e);
    assert.equal(error.code, "invalid_scope", JSON.stringify(request));
    assert.equal(error.field, "scopes");
  }
  assert.equal(local.endpoint.requests.length, 0);
});

test("an unreachable endpoint rejects with network_error", async () => {
  const stopped = await startTokenEndpoint();
  const authority = stopped.authority;
  await stopped.close();
  const error = await newClient({ authority })
    .acquireTokenForClient({ scopes: [GRAPH] })
    .catch((e) => e);
  assert.equal(error.code, "network_error");
  assert.match(error.message, /could not reach the token endpoint http:\/\/127\.0\.0\.1:\d+\//);
});

test("a custom fetch function is used instead of the global one", async () => {
  const seen = [];
  const client = newClient({
    fetch: (url, init) => {
      seen.push({ url, method: init.method });
      return fetch(url, init);
    },
  });
  const result = await client.acquireTokenForClient({ scopes: [GRAPH] });
  assert.equal(result.fromCache, false);
  assert.deepEqual(seen, [{ url: `${local.endpoint.authority}/oauth2/v2.0/token`, method: "POST" }]);
});
