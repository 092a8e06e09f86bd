// Scripted faults answer only requests the local endpoint has validated (client
// authentication, grant, scope), so every "accepted and cached" fault case elsewhere is also a
// case of a correct request; `beforeValidation: true` is the explicit way out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useLocalEndpoint } from "./local-endpoint.mjs";

const SCOPE = "api://cctoken-fault-order/.default";
const local = useLocalEndpoint({ maxRetries: 1 });
const { newClient } = local;
const wrongSecret = { credential: { clientSecret: "wrong-secret-value-4242" } };

const outcome = (client) =>
  client.acquireTokenForClient({ scopes: [SCOPE] }).then(
    (result) => ({ token: result.accessToken }),
    (error) => ({ code: error.code, status: error.status, aadsts: error.aadsts }),
  );

test("a request the endpoint refuses gets its error, and the queued fault waits for a valid one", async () => {
  local.endpoint.failNext({ status: 503, body: "" });
  assert.deepEqual(await outcome(newClient(wrongSecret)), { code: "invalid_client", status: 401, aadsts: [7000215] });
  assert.equal(local.endpoint.requests[0].fault, undefined, "no fault played for the refused request");
  const good = await outcome(newClient());
  assert.deepEqual(local.endpoint.requests.map((r) => r.status), [401, 503, 200]);
  assert.equal(local.endpoint.requests[1].fault, "503");
  assert.equal(good.token, local.endpoint.requests[2].accessToken);
});

test("a scripted token reaches only an authenticated request", async () => {
  local.endpoint.failNext({ token: { expires_in: "3599" } });
  assert.deepEqual(await outcome(newClient(wrongSecret)), { code: "invalid_client", status: 401, aadsts: [7000215] });
  const good = await outcome(newClient());
  assert.equal(local.endpoint.requests[1].fault, "200, token");
  assert.equal(good.token, local.endpoint.requests[1].accessToken);
  assert.equal(local.endpoint.issued, 0, "the scripted token is the fault's, not an issued one");
});

test("failAll plays for valid requests only", async () => {
  local.endpoint.failAll({ status: 500, body: "" });
  assert.deepEqual(await outcome(newClient(wrongSecret)), { code: "invalid_client", status: 401, aadsts: [7000215] });
  assert.deepEqual(await outcome(newClient()), { code: "server_error", status: 500, aadsts: [] });
  assert.deepEqual(local.endpoint.requests.map((r) => r.status), [401, 500, 500]);
});

test("beforeValidation: true plays the fault for a request the endpoint would refuse", async () => {
  local.endpoint.failNext({ beforeValidation: true, status: 503, body: "" });
  const refused = await outcome(newClient({ ...wrongSecret, maxRetries: 0 }));
  assert.deepEqual(refused, { code: "temporarily_unavailable", status: 503, aadsts: [] });
  assert.equal(local.endpoint.requests[0].fault, "503, before validation");
});
