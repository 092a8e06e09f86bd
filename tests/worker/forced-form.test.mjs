// forceRefresh on the OAuth2 form path: `force_refresh=true` (what BrokerClient sends) reaches
// the identity provider again and replaces the token for everyone; any other value is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useBroker } from "./broker.mjs";

const KEY = "forced-form-key-0c3b";
const SCOPE = "api://forced-form/.default";
const local = useBroker({ callers: { forms: { keys: [KEY], scopes: [SCOPE] } } });

const basic = { authorization: `Basic ${Buffer.from(`forms:${KEY}`).toString("base64")}` };
const form = (extra = {}) => local.broker.form({ grant_type: "client_credentials", scope: SCOPE, ...extra }, basic);

test("force_refresh=true on the form path fetches a new token that plain requests then get", async () => {
  const first = await form();
  assert.equal(first.status, 200, first.text);
  assert.equal((await form({ force_refresh: "false" })).json.access_token, first.json.access_token);
  assert.equal(local.endpoint.tokenRequests, 1);

  const forced = await form({ force_refresh: "true" });
  assert.equal(forced.status, 200, forced.text);
  assert.equal(forced.json.cache, "idp");
  assert.equal(local.endpoint.tokenRequests, 2);
  assert.notEqual(forced.json.access_token, first.json.access_token);
  assert.equal((await form()).json.access_token, forced.json.access_token, "the new token replaced the old");
  assert.equal(local.endpoint.tokenRequests, 2);
});

test("force_refresh other than true or false: 400 invalid_request, nothing sent", async () => {
  const before = local.endpoint.tokenRequests;
  for (const value of ["1", "TRUE", "yes", ""]) {
    const response = await form({ force_refresh: value });
    assert.equal(response.status, 400, value);
    assert.equal(response.json.error, "invalid_request");
    assert.match(response.json.error_description, /force_refresh must be true or false/);
  }
  assert.equal(local.endpoint.tokenRequests, before);
});
