// Audit and metrics (issue 15, goal 7): one JSON log line per /token request, whatever its
// outcome, `{"event":"cctoken.token","time","caller","scopes","tier","status","ms",
// "correlation_id","cf_ray"}`, and with an Analytics Engine dataset bound one data point per
// request with the same fields. The correlation id is the request's GUID `client-request-id`
// (else a fresh UUID), echoed in the response. No key, token or secret in any line.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startTokenEndpoint } from "../token-endpoint/server.mjs";
import { canaries, findLeaks, leakIndex } from "../leaks/scan.mjs";
import { FLEET_CALLERS, REPORTS_SCOPE, SCOPE, WRONG_KEY, bearer, guid, sleep, tally, withFleet } from "./fleet.mjs";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint();
});
after(() => endpoint?.close());
beforeEach(() => endpoint.reset());

/** Sends one /token request with its own correlation id and cf-ray; returns what to expect. */
async function audited(script, body, headers, expect) {
  const correlation = guid();
  const ray = `${correlation.replaceAll("-", "").slice(0, 16)}-AMS`;
  const sentAt = Date.now();
  const reply = await script.token(body, { "client-request-id": correlation, "cf-ray": ray, ...headers });
  return { reply, correlation, ray, sentAt, doneAt: Date.now(), ...expect };
}

/** Waits until the fleet logged an audit line for every correlation id (at most 5 s). */
async function linesFor(fleet, sent) {
  const until = Date.now() + 5000;
  for (;;) {
    const lines = fleet.auditLines();
    if (sent.every((s) => lines.some((l) => l.correlation_id === s.correlation)) || Date.now() > until) return lines;
    await sleep(20);
  }
}

test("every /token request (200 from each tier, 400, 401, 403, 429) logs exactly one audit line with its caller, scopes, tier and status; data points alike", { timeout: 30_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint, analytics: "recorded" });
  const jobs = { caller: "fleet-jobs", scopes: [SCOPE] };
  // A body that does not parse: refused before or after the key check (caller either way).
  const unparsed = { caller: undefined, scopes: null, tier: null };
  const sent = [
    await audited(fleet.a, { scopes: [SCOPE] }, {}, { ...jobs, tier: "coordinator" }),
    await audited(fleet.a, { scopes: [SCOPE] }, {}, { ...jobs, tier: "memory" }),
    await audited(fleet.b, { scopes: [SCOPE] }, {}, { ...jobs, tier: "kv" }),
    await audited(fleet.b, { scopes: [SCOPE] }, { authorization: `Bearer ${WRONG_KEY}` }, { caller: null, scopes: null, tier: null }),
    await audited(fleet.a, { scopes: [SCOPE] }, { authorization: undefined }, { caller: null, scopes: null, tier: null }),
    await audited(fleet.a, { scopes: [SCOPE] }, bearer("fleet-reports"), { caller: "fleet-reports", scopes: null, tier: null }),
    await audited(fleet.b, "not json", {}, unparsed),
    await audited(fleet.b, { scopes: [REPORTS_SCOPE] }, {}, { caller: "fleet-jobs", scopes: [REPORTS_SCOPE], tier: "coordinator" }),
  ];
  for (let i = 0; i < 15; i += 1) {
    const next = await audited(fleet.a, { scopes: [SCOPE] }, bearer("fleet-metered"), { caller: "fleet-metered", scopes: [SCOPE] });
    next.tier = next.reply.status === 200 ? next.reply.json.cache : null;
    if (next.reply.status !== 200) next.scopes = null;
    sent.push(next);
    if (next.reply.status === 429) break;
  }
  assert.deepEqual(
    sent.map((s) => s.reply.status),
    [200, 200, 200, 401, 401, 403, 400, 200, ...Array(sent.length - 9).fill(200), 429],
  );

  const lines = await linesFor(fleet, sent);
  t.diagnostic(`${lines.length} audit lines; statuses ${JSON.stringify(tally(lines.map((l) => l.status)))}`);
  assert.equal(lines.length, sent.length, "one line per /token request, no more");
  for (const s of sent) {
    const what = `${s.reply.script} ${s.reply.status} (${s.caller})`;
    assert.equal(s.reply.headers.get("client-request-id"), s.correlation, `${what}: the GUID echoed`);
    const mine = lines.filter((l) => l.correlation_id === s.correlation);
    assert.equal(mine.length, 1, `${what}: one line`);
    const [line] = mine;
    assert.deepEqual(Object.keys(line).filter((k) => k !== "raw").sort(), ["caller", "cf_ray", "correlation_id", "event", "ms", "scopes", "status", "tier", "time"], what);
    assert.equal(line.event, "cctoken.token");
    if (s.caller === undefined) assert.ok([null, "fleet-jobs"].includes(line.caller), what);
    else assert.equal(line.caller, s.caller, what);
    // A refusal before the scopes were validated logs none; an authenticated refusal after
    // validation may. A 200 logs exactly the scopes served.
    if (s.reply.status === 200) assert.deepEqual(line.scopes, s.scopes, what);
    else if (s.caller === null) assert.equal(line.scopes, null, what);
    assert.equal(line.tier, s.reply.status === 200 ? s.reply.json.cache : null, what);
    if (s.tier !== undefined) assert.equal(line.tier, s.tier, what);
    assert.equal(line.status, s.reply.status, what);
    assert.equal(line.cf_ray, s.ray, what);
    assert.ok(Number.isFinite(line.ms) && line.ms >= 0 && line.ms <= s.doneAt - s.sentAt + 1000, `${what}: ms ${line.ms}`);
    assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, `${what}: RFC 3339`);
    const time = Date.parse(line.time);
    assert.ok(time >= s.sentAt - 1000 && time <= s.doneAt + 1000, `${what}: time ${line.time}`);
  }

  // The recording AUDIT dataset got one data point per request, with the same fields.
  const line0 = (s) => lines.find((l) => l.correlation_id === s.correlation);
  const points = await fleet.dataPointsAtLeast(sent.length);
  assert.equal(points.length, sent.length, "one data point per /token request");
  for (const s of sent) {
    const what = `data point of ${s.reply.script} ${s.reply.status} (${s.caller})`;
    const mine = points.filter((p) => p.blobs?.[4] === s.correlation);
    assert.equal(mine.length, 1, what);
    const [point] = mine;
    assert.equal(point.blobs.length, 6, what);
    const caller = s.caller === undefined ? line0(s).caller : s.caller;
    assert.equal(point.blobs[0] || null, caller, `${what}: caller`);
    if (s.reply.status === 200) assert.equal(point.blobs[1], s.scopes.join(" "), `${what}: scopes`);
    assert.equal(point.blobs[2] || null, s.reply.status === 200 ? s.reply.json.cache : null, `${what}: tier`);
    assert.equal(typeof point.blobs[3], "string", `${what}: status text`);
    assert.equal(point.blobs[5], s.ray, `${what}: cf-ray`);
    assert.equal(point.doubles[0], s.reply.status, `${what}: status`);
    assert.ok(point.doubles[1] >= 0, `${what}: ms`);
    // Indexed by caller; requests with no authenticated caller share one label of their own.
    if (caller) assert.deepEqual(point.indexes, [caller], `${what}: indexed by caller`);
    else {
      assert.equal(point.indexes.length, 1, what);
      assert.ok(point.indexes[0] && !Object.keys(FLEET_CALLERS).includes(point.indexes[0]), `${what}: index ${point.indexes[0]}`);
    }
  }

  // /healthz and other routes are not /token requests.
  await fleet.a.healthz();
  await sleep(200);
  assert.equal(fleet.auditLines().length, sent.length);
});

test("client-request-id: a GUID is echoed; anything else, or none, gets a fresh UUID v4, also on refusals", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const cases = [
    ["none", {}],
    ["not a GUID", { "client-request-id": "not-a-guid-<script>" }],
    ["a GUID with a suffix", { "client-request-id": `${guid()}x` }],
    ["a refusal without one", { authorization: `Bearer ${WRONG_KEY}` }],
  ];
  const ids = [];
  for (const [what, headers] of cases) {
    const reply = await fleet.a.token({ scopes: [SCOPE] }, headers);
    const id = reply.headers.get("client-request-id");
    assert.match(id ?? "", UUID_V4, `${what}: ${id}`);
    assert.notEqual(id, headers["client-request-id"], what);
    ids.push(id);
  }
  assert.equal(new Set(ids).size, ids.length, "fresh each time");
  const lines = await linesFor(fleet, ids.map((correlation) => ({ correlation })));
  for (const id of ids) assert.equal(lines.filter((l) => l.correlation_id === id).length, 1, `the line carries the id answered (${id})`);
  const upper = guid().toUpperCase();
  const echoed = await fleet.b.token({ scopes: [SCOPE] }, { "client-request-id": upper });
  assert.equal(echoed.headers.get("client-request-id")?.toLowerCase(), upper.toLowerCase(), "a GUID in capitals is still a GUID");
});

test("no key, token or secret in any log line; a bound Miniflare Analytics Engine dataset breaks nothing", { timeout: 30_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint, analytics: "miniflare" });
  const replies = [];
  const both = [fleet.a, fleet.b];
  for (const script of both) {
    replies.push(await script.token({ scopes: [SCOPE] }));
    replies.push(await script.token({ scopes: [SCOPE], forceRefresh: true }, bearer("fleet-forcer")));
    replies.push(await script.token({ scopes: [SCOPE] }, { authorization: `Bearer ${WRONG_KEY}` }));
    replies.push(await script.form({ grant_type: "client_credentials", scope: SCOPE, client_id: "fleet-jobs", client_secret: WRONG_KEY }));
    replies.push(await script.form({ grant_type: "client_credentials", scope: SCOPE, client_id: "fleet-reports", client_secret: bearer("fleet-reports").authorization.slice(7) }));
    replies.push(await script.token({ scopes: [REPORTS_SCOPE] }, bearer("fleet-reports")));
  }
  assert.deepEqual(replies.map((r) => r.status), [200, 200, 401, 401, 403, 200, 200, 200, 401, 401, 403, 200]);
  const lines = await linesFor(fleet, replies.map((r) => ({ correlation: r.headers.get("client-request-id") })));
  assert.equal(lines.length, replies.length);
  const tokens = [...new Set([...replies.map((r) => r.json?.access_token), ...endpoint.requests.map((r) => r.accessToken)].filter(Boolean))];
  const index = leakIndex([...canaries(), ...tokens.map((token, i) => [`access token ${i + 1}`, token])]);
  assert.deepEqual(findLeaks(fleet.logs(), index), [], "the fleet's whole log");
  for (const line of lines) assert.deepEqual(findLeaks(line.raw, index), [], `audit line ${line.correlation_id}`);
});

test("refusals before any key check (413, 415, a blocked address's 429) log one line each, with no caller", { timeout: 20_000 }, async (t) => {
  const fleet = await withFleet(t, { endpoint });
  const send = async (script, init, expected) => {
    const correlation = guid();
    const reply = await script.request("/token", { method: "POST", ...init, headers: { "client-request-id": correlation, ...bearer("fleet-jobs"), ...init.headers } });
    assert.equal(reply.status, expected, reply.summary);
    return { reply, correlation };
  };
  const sent = [
    await send(fleet.a, { headers: { "content-type": "application/json" }, body: JSON.stringify({ scopes: [SCOPE], pad: "x".repeat(17 * 1024) }) }, 413),
    await send(fleet.b, { headers: { "content-type": "text/plain" }, body: JSON.stringify({ scopes: [SCOPE] }) }, 415),
  ];
  for (let i = 0; i < 10; i += 1) await fleet.a.token({ scopes: [SCOPE] }, { authorization: `Bearer ${WRONG_KEY}`, "cf-connecting-ip": "192.0.2.44" });
  sent.push(await send(fleet.a, { headers: { "content-type": "application/json", "cf-connecting-ip": "192.0.2.44" }, body: JSON.stringify({ scopes: [SCOPE] }) }, 429));
  const lines = await linesFor(fleet, sent);
  assert.equal(lines.length, sent.length + 10, "one line per request, the ten failures included");
  for (const { reply, correlation } of sent) {
    const mine = lines.filter((l) => l.correlation_id === correlation);
    assert.equal(mine.length, 1, `${reply.status}: one line`);
    assert.deepEqual([mine[0].status, mine[0].caller, mine[0].scopes, mine[0].tier], [reply.status, null, null, null], `${reply.status}`);
  }
});
