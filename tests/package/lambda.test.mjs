// The README's AWS Lambda handler (lambda-handler.mjs), invoked the way Lambda does: the module
// loaded once per execution environment, its handler called per invocation. One token request
// serves them all.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";

const SCOPE = "api://cctoken-demo/.default";
const endpoint = await startTokenEndpoint();
const seen = [];
const api = createServer((req, res) => {
  seen.push(req.headers.authorization);
  res.writeHead(200, { "content-type": "text/plain" }).end("report");
});
await new Promise((resolve) => api.listen(0, "127.0.0.1", resolve));
after(async () => {
  await new Promise((resolve) => api.close(resolve));
  await endpoint.close();
});

test("a module-scope client from the environment: three invocations, one token request", async () => {
  // What the function's configuration puts in its environment.
  Object.assign(process.env, {
    AZURE_TENANT_ID: LOCAL_APP.tenantId,
    AZURE_CLIENT_ID: LOCAL_APP.clientId,
    AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret,
    AZURE_AUTHORITY_HOST: new URL(endpoint.authority).origin,
    API_URL: `http://127.0.0.1:${api.address().port}/reports`,
    API_SCOPE: SCOPE,
  });
  const { handler } = await import("./lambda-handler.mjs");
  const results = [];
  for (let i = 0; i < 3; i++) results.push(await handler({}, {}));
  assert.deepEqual(results, Array(3).fill({ statusCode: 200, body: "report" }));
  assert.equal(endpoint.tokenRequests, 1);
  assert.deepEqual(seen, Array(3).fill(`Bearer ${endpoint.requests[0].accessToken}`));
  assert.equal(
    endpoint.requests[0].body,
    new URLSearchParams({ client_id: LOCAL_APP.clientId, scope: SCOPE, client_secret: LOCAL_APP.clientSecret, grant_type: "client_credentials" }).toString(),
  );
});
