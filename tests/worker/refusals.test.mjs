// A definitive refusal by the identity provider is remembered per scope set for 30 s
// (REFUSAL_MEMORY_MS in the core): a caller granted a scope the IdP refuses cannot send its
// whole budget straight to the IdP and get the app throttled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useBroker } from "./broker.mjs";

const KEY = "refusals-key-5e18";
const REFUSED = "api://refused/.default";
const OTHER = "api://accepted/.default";
const local = useBroker({ callers: { refusals: { keys: [KEY], scopes: [REFUSED, OTHER], ratePerMinute: 100 } } });

const token = (scope) => local.broker.token({ scopes: [scope] }, { authorization: `Bearer ${KEY}` });

test("the IdP's invalid_scope for a granted scope is answered from memory, not asked again", async () => {
  local.endpoint.failNext({
    status: 400,
    body: { error: "invalid_scope", error_description: "AADSTS500011: The resource principal named api://refused was not found in the tenant.", error_codes: [500011] },
  });
  const first = await token(REFUSED);
  assert.equal(first.json.error, "invalid_scope", first.text);
  assert.equal(local.endpoint.tokenRequests, 1);
  for (let i = 0; i < 20; i += 1) {
    const again = await token(REFUSED);
    assert.equal(again.status, first.status);
    assert.equal(again.json.error, "invalid_scope");
    assert.equal(again.json.error_description, first.json.error_description);
  }
  assert.equal(local.endpoint.tokenRequests, 1, "twenty more requests, none at the IdP");

  const other = await token(OTHER);
  assert.equal(other.status, 200, other.text);
  assert.equal(local.endpoint.tokenRequests, 2, "other scope sets are not affected");
});

test("a transient failure is not remembered", async () => {
  const scope = OTHER;
  local.endpoint.failNext({ status: 503, body: "" }, { status: 503, body: "" }, { status: 503, body: "" });
  const fresh = await local.broker.token({ scopes: [scope], forceRefresh: true }, { authorization: `Bearer ${KEY}` });
  assert.equal(fresh.status, 503, fresh.text);
  const retried = await local.broker.token({ scopes: [scope], forceRefresh: true }, { authorization: `Bearer ${KEY}` });
  assert.equal(retried.status, 200, retried.text);
});
