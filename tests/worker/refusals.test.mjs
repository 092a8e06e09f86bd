// A definitive refusal by the identity provider is remembered per scope set for 30 s
// (REFUSAL_MEMORY_MS in the core): a caller granted a scope the IdP refuses cannot send its
// whole budget straight to the IdP and get the app throttled.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { brokerClients, startBroker } from "./broker.mjs";

const KEY = "refusals-key-5e18";
const REFUSED = "api://refused/.default";
const OTHER = "api://accepted/.default";
let endpoint;
let broker;

before(async () => {
  endpoint = await startTokenEndpoint();
  broker = await startBroker({
    endpoint,
    app: LOCAL_APP,
    settings: { BROKER_CLIENTS: brokerClients({ refusals: { keys: [KEY], scopes: [REFUSED, OTHER], ratePerMinute: 100 } }) },
  });
});
after(async () => {
  await broker?.dispose();
  await endpoint?.close();
});
beforeEach(() => endpoint.reset());

const token = (scope) => broker.token({ scopes: [scope] }, { authorization: `Bearer ${KEY}` });

test("the IdP's invalid_scope for a granted scope is answered from memory, not asked again", async () => {
  endpoint.failNext({
    status: 400,
    body: { error: "invalid_scope", error_description: "AADSTS500011: The resource principal named api://refused was not found in the tenant.", error_codes: [500011] },
  });
  const first = await token(REFUSED);
  assert.equal(first.json.error, "invalid_scope", first.text);
  assert.equal(endpoint.tokenRequests, 1);
  for (let i = 0; i < 20; i += 1) {
    const again = await token(REFUSED);
    assert.equal(again.status, first.status);
    assert.equal(again.json.error, "invalid_scope");
    assert.equal(again.json.error_description, first.json.error_description);
  }
  assert.equal(endpoint.tokenRequests, 1, "twenty more requests, none at the IdP");

  const other = await token(OTHER);
  assert.equal(other.status, 200, other.text);
  assert.equal(endpoint.tokenRequests, 2, "other scope sets are not affected");
});

test("a transient failure is not remembered", async () => {
  const scope = OTHER;
  endpoint.failNext({ status: 503, body: "" }, { status: 503, body: "" }, { status: 503, body: "" });
  const fresh = await broker.token({ scopes: [scope], forceRefresh: true }, { authorization: `Bearer ${KEY}` });
  assert.equal(fresh.status, 503, fresh.text);
  const retried = await broker.token({ scopes: [scope], forceRefresh: true }, { authorization: `Bearer ${KEY}` });
  assert.equal(retried.status, 200, retried.text);
});
