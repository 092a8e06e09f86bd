// A polluted Object.prototype (what a vulnerable deep merge elsewhere in an app leaves behind)
// must change nothing: options, credentials, request fields and environment variables are read
// as own properties only. Each test pollutes, acts, and restores the prototype in `finally`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import process from "node:process";
import { BrokerClient, ConfidentialClient } from "cctoken";
import { LOCAL_APP } from "../token-endpoint/server.mjs";
import { useLocalEndpoint } from "./local-endpoint.mjs";

const SCOPE = "api://cctoken-demo/.default";
const local = useLocalEndpoint();
let decoy;

before(async () => {
  decoy = await startRecorder();
});
after(() => decoy.close());

/** Sets `values` on Object.prototype as a plain assignment would (enumerable), runs `body`, then removes them. */
async function withPollutedPrototype(values, body) {
  const added = [];
  try {
    for (const [name, value] of Object.entries(values)) {
      assert.ok(!(name in Object.prototype), `Object.prototype.${name} is already set`);
      Object.prototype[name] = value;
      added.push(name);
    }
    return await body();
  } finally {
    for (const name of added) delete Object.prototype[name];
  }
}

test("inherited options and request fields are ignored: the token request reaches the endpoint with the real secret", async () => {
  const pollutedFetchCalls = [];
  const pollutedFetch = (...args) => {
    pollutedFetchCalls.push(args);
    return Promise.reject(new Error("the polluted fetch was called"));
  };
  const { first, second, header } = await withPollutedPrototype(
    {
      fetch: pollutedFetch,
      clientSecret: "polluted-secret",
      clientAssertion: "polluted.assertion.jwt",
      certificate: { privateKeyPem: "polluted" },
      tokenEndpoint: `${decoy.url}/token`,
      clientAuthMethod: "client_secret_basic",
      extraQueryParameters: { polluted: "1" },
      expiryBufferSeconds: 86_400,
      scopes: ["api://polluted/.default"],
      forceRefresh: true,
      claims: '{"polluted":true}',
      correlationId: "polluted",
      extraBodyParameters: { polluted: "1" },
    },
    async () => {
      const client = local.newClient();
      const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
      const second = await client.acquireTokenForClient({ scopes: [SCOPE] });
      const header = await client.getAuthorizationHeader({ scopes: [SCOPE] });
      return { first, second, header };
    },
  );
  assert.equal(pollutedFetchCalls.length, 0, "the polluted fetch was never called");
  assert.equal(decoy.requests.length, 0, "nothing went to the polluted token endpoint");
  assert.equal(local.endpoint.tokenRequests, 1, "one request: no forced refresh, no 24-hour expiry buffer");
  const [sent] = local.endpoint.requests;
  assert.equal(sent.path, `/${LOCAL_APP.tenantId}/oauth2/v2.0/token`);
  assert.equal(sent.headers.authorization, undefined);
  assert.notEqual(sent.headers["client-request-id"], "polluted");
  // The fields in order, with the secret swapped for a placeholder, so a failure prints no secret.
  const form = new URLSearchParams(sent.body);
  assert.ok(form.get("client_secret") === LOCAL_APP.clientSecret, "the real secret was sent");
  form.set("client_secret", "<the secret>");
  assert.deepEqual([...form], [
    ["client_id", LOCAL_APP.clientId],
    ["scope", SCOPE],
    ["client_secret", "<the secret>"],
    ["grant_type", "client_credentials"],
  ], "no inherited claims or body parameters");
  assert.equal(first.fromCache, false);
  assert.deepEqual(first.scopes, [SCOPE]);
  assert.equal(second.fromCache, true);
  assert.ok(header === `Bearer ${first.accessToken}`, "the header carries the token");
});

test("an inherited abortSignal or signal does not cancel a call", async () => {
  const sent = [];
  const fetch = async (url, init) => {
    sent.push(init.body);
    return Response.json({ access_token: "own", token_type: "Bearer", expires_in: 3600 });
  };
  const result = await withPollutedPrototype({ abortSignal: AbortSignal.abort(), signal: AbortSignal.abort() }, () =>
    local.newClient({ fetch }).acquireTokenForClient({ scopes: [SCOPE] }));
  assert.equal(result.accessToken, "own");
  assert.equal(sent.length, 1);
});

test("an inherited credential is not used when the options have none", async () => {
  const error = await withPollutedPrototype({ credential: { clientSecret: "polluted-secret" } }, () => {
    try {
      new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: local.endpoint.authority });
      return undefined;
    } catch (error) {
      return error;
    }
  });
  assert.equal(error?.code, "invalid_config");
  assert.equal(error.field, "credential");
});

test("BrokerClient ignores an inherited fetch", async () => {
  let pollutedCalls = 0;
  const broker = await startRecorder({ access_token: "brokered", token_type: "Bearer", expires_in: 3600 });
  try {
    const result = await withPollutedPrototype({ fetch: () => (pollutedCalls += 1) }, () =>
      new BrokerClient({ url: broker.url, callerId: "jobs", key: "broker-key" }).acquireToken({ scopes: [SCOPE] }));
    assert.equal(result.accessToken, "brokered");
    assert.equal(pollutedCalls, 0);
    assert.equal(broker.requests.length, 1);
    assert.equal(broker.requests[0].headers.authorization, `Basic ${btoa("jobs:broker-key")}`);
  } finally {
    await broker.close();
  }
});

test("fromEnvironment does not read an inherited value as an environment variable", async () => {
  const names = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE"];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  Object.assign(process.env, { AZURE_TENANT_ID: LOCAL_APP.tenantId, AZURE_CLIENT_ID: LOCAL_APP.clientId, AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret });
  const urls = [];
  const fetch = async (url) => {
    urls.push(String(url));
    return Response.json({ access_token: "t", token_type: "Bearer", expires_in: 3600 });
  };
  try {
    // AZURE_AUTHORITY_HOST is unset, so the public cloud is used; an inherited value would
    // send the app's secret to a host of the polluter's choosing.
    const client = await withPollutedPrototype({ AZURE_AUTHORITY_HOST: decoy.url }, () => ConfidentialClient.fromEnvironment({ fetch }));
    await client.acquireTokenForClient({ scopes: [SCOPE] });
    assert.deepEqual(urls, [`https://login.microsoftonline.com/${LOCAL_APP.tenantId}/oauth2/v2.0/token`]);
  } finally {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
});

/** A 127.0.0.1 server that records requests and answers `reply` (or 500). */
async function startRecorder(reply) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      requests.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(reply ? 200 : 500, { "content-type": "application/json" });
      res.end(JSON.stringify(reply ?? { error: "server_error" }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
