// Token lifetimes end to end: the ten-year cap on `expires_in` (no Date overflow, and the
// capped token is cached), and the 7,200 s boundary of the "refresh at half the lifetime" rule
// for replies without `refresh_in` (README "How tokens are cached and fetched").
import { test } from "node:test";
import assert from "node:assert/strict";
import { useLocalEndpoint } from "./local-endpoint.mjs";

const SCOPE = "api://cctoken-lifetimes/.default";
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const local = useLocalEndpoint({ maxRetries: 0 });
const { newClient } = local;

/** Acquires once; returns the result and the window [sent, received] its times count from. */
async function timed(client) {
  const sent = Date.now();
  const result = await client.acquireTokenForClient({ scopes: [SCOPE] });
  return { result, sent, received: Date.now() };
}

/** `date` lies `offsetMs` after a moment in [sent, received]. */
function assertAt(date, offsetMs, { sent, received }, what) {
  assert.ok(date instanceof Date, what);
  const at = date.getTime() - offsetMs;
  assert.ok(at >= sent && at <= received, `${what}: ${date.toISOString()} is not ${offsetMs} ms after the request`);
}

test("expires_in beyond ten years is capped at ten years, and the token is cached", async () => {
  for (const expiresIn of [10 ** 12, Number.MAX_SAFE_INTEGER, "315360001"]) {
    local.endpoint.reset();
    local.endpoint.failNext({ token: { expires_in: expiresIn, ext_expires_in: expiresIn } });
    const client = newClient();
    const call = await timed(client);
    const what = `expires_in ${expiresIn}`;
    assert.equal(call.result.accessToken, local.endpoint.requests[0].accessToken, what);
    assertAt(call.result.expiresOn, TEN_YEARS_MS, call, `${what}: expiresOn`);
    assertAt(call.result.extExpiresOn, TEN_YEARS_MS, call, `${what}: extExpiresOn`);
    assertAt(call.result.refreshOn, TEN_YEARS_MS / 2, call, `${what}: refreshOn at half the capped lifetime`);
    const again = await client.acquireTokenForClient({ scopes: [SCOPE] });
    assert.equal(again.fromCache, true, what);
    assert.equal(again.accessToken, call.result.accessToken, what);
    assert.equal(local.endpoint.tokenRequests, 1, what);
    const restored = newClient();
    assert.equal(restored.deserializeCache(client.serializeCache()), 1, `${what}: the capped token survives serialization`);
  }
});

test("without refresh_in, tokens living 7,200 s or more refresh at half their lifetime; shorter ones never early", async () => {
  for (const [lifetime, refreshAfterMs] of [[7199, undefined], [7200, 3600_000], [7201, 3600_500], [86_400, 43_200_000]]) {
    local.endpoint.reset();
    local.endpoint.settings.tokenLifetimeSeconds = lifetime;
    const call = await timed(newClient());
    assertAt(call.result.expiresOn, lifetime * 1000, call, `${lifetime} s: expiresOn`);
    if (refreshAfterMs === undefined) assert.equal(call.result.refreshOn, undefined, `${lifetime} s: no refresh point`);
    else assertAt(call.result.refreshOn, refreshAfterMs, call, `${lifetime} s: refreshOn`);
  }
});

test("refresh_in, when sent, decides refreshOn whatever the lifetime", async () => {
  local.endpoint.settings.tokenLifetimeSeconds = 7200;
  local.endpoint.settings.refreshInSeconds = 600;
  const call = await timed(newClient());
  assertAt(call.result.refreshOn, 600_000, call, "refreshOn from refresh_in");
});
