// Broken settings under workerd (Miniflare): anyone can read GET /healthz and the 500 on
// /token, so they name the setting (and, for BROKER_CLIENTS, the caller entry's index) with
// fixed text, never a caller id, a granted scope, a hash or a secret's text; what exactly is
// wrong goes to the Worker's log, still without secret values.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "../node/fixtures.mjs";
import { CACHE_KEY, SCOPE, SUITE_KEYS, startBroker } from "./broker.mjs";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
/** Caller ids and scopes an unauthenticated reader must not learn. */
const PAYROLL = "payroll-canary-caller";
const PAYROLL_SCOPE = "api://payroll-canary-scope/.default";
const PAYROLL_KEY = SUITE_KEYS.payroll[0];
const AUDIT = "audit-canary-caller";
const AUDIT_SCOPE = "api://audit-canary-scope/.default";
const AUDIT_KEY = SUITE_KEYS.audit[0];
const EMPTY_KEY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const UNUSABLE_ENTRY = "this caller's entry is not usable; the Worker's log (`wrangler tail`) says why";

let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint();
});
after(async () => {
  await endpoint?.close();
});

const payroll = (extra = {}) => ({ keySha256: [sha256(PAYROLL_KEY)], scopes: [PAYROLL_SCOPE], ...extra });
const audit = (extra = {}) => ({ keySha256: [sha256(AUDIT_KEY)], scopes: [AUDIT_SCOPE], ...extra });
/** JSON text with members in the order given, repeats included (an object literal keeps one). */
const members = (...pairs) => `{${pairs.map(([id, value]) => `${JSON.stringify(id)}: ${JSON.stringify(value)}`).join(", ")}}`;

/** Starts a broker with `settings`, asks /healthz and /token, and returns both and the log. */
async function misconfigured(settings, logPattern) {
  const broker = await startBroker({ endpoint, app: LOCAL_APP, settings, captureLogs: true });
  try {
    const health = await broker.request("/healthz");
    const token = await broker.token({ scopes: [SCOPE] }, { authorization: `Bearer ${PAYROLL_KEY}` });
    const log = await broker.logMatching(logPattern);
    return { health, token, log };
  } finally {
    await broker.dispose();
  }
}

/** Neither text holds any of `forbidden`. */
function assertWithout(texts, forbidden, what) {
  for (const text of texts) {
    for (const value of forbidden) assert.ok(!text.includes(value), `${what}: ${JSON.stringify(value)} in ${text}`);
  }
}

test("malformed BROKER_CLIENTS: the index in public, caller ids, scopes and details in the log only", async () => {
  const cases = [
    ["a key hash with signs in it", members([AUDIT, audit()], [PAYROLL, payroll({ keySha256: ["+f".repeat(32)] })]), 1, `caller "${PAYROLL}": keySha256[0] is not 64 hex digits`],
    ["a repeated caller id", members([PAYROLL, payroll()], [AUDIT, audit()], [PAYROLL, payroll({ ratePerMinute: 5 })]), 2, `caller id "${PAYROLL}" appears again (first at index 0)`],
    ["the SHA-256 of the empty key", members([AUDIT, audit()], [PAYROLL, payroll({ keySha256: [sha256(PAYROLL_KEY), EMPTY_KEY_SHA256] })]), 1, `caller "${PAYROLL}": keySha256[1] is the SHA-256 of the empty string`],
    ["a scope the endpoint's rules refuse", members([PAYROLL, payroll({ scopes: [PAYROLL_SCOPE, "payroll-canary-Read"] })]), 0, `caller "${PAYROLL}": scopes[1]: `],
    ["a key hash two callers list", members([PAYROLL, payroll()], [AUDIT, audit({ keySha256: [sha256(AUDIT_KEY), sha256(PAYROLL_KEY)] })]), 1, `callers "${PAYROLL}" and "${AUDIT}" list the same key hash`],
    ["an unknown member", members([PAYROLL, payroll({ [sha256(PAYROLL_KEY)]: 1 })]), 0, `caller "${PAYROLL}" has an unknown member: `],
    ["a rate that is a hash", members([PAYROLL, payroll({ ratePerMinute: sha256(PAYROLL_KEY) })]), 0, `caller "${PAYROLL}": ratePerMinute must be`],
  ];
  const hashes = [sha256(PAYROLL_KEY), sha256(AUDIT_KEY), EMPTY_KEY_SHA256, "+f".repeat(32)];
  for (const [what, clients, index, detail] of cases) {
    const { health, token, log } = await misconfigured({ BROKER_CLIENTS: clients }, /broker misconfigured: BROKER_CLIENTS\[\d+\]: .*/);
    assert.equal(health.status, 200, what);
    assert.deepEqual(health.json, { version: health.json.version, configured: false, setting: "BROKER_CLIENTS", index, problem: UNUSABLE_ENTRY, coordination: health.json.coordination }, what);
    assert.equal(token.status, 500, what);
    assert.deepEqual(token.json, { error: "server_misconfigured", error_description: `BROKER_CLIENTS[${index}]: ${UNUSABLE_ENTRY}` }, what);
    assertWithout([health.text, token.text], [PAYROLL, AUDIT, "canary", PAYROLL_SCOPE, AUDIT_SCOPE, ...hashes], what);
    assert.ok(log.includes(`broker misconfigured: BROKER_CLIENTS[${index}]: ${detail}`), `${what}: ${log}`);
    assertWithout([log], [...hashes, PAYROLL_KEY, AUDIT_KEY, CACHE_KEY, LOCAL_APP.clientSecret], `${what}, log`);
  }
});

test("BROKER_CLIENTS that is no object of callers: fixed text, the JSON error's position in the log", async () => {
  for (const clients of [`{"${PAYROLL}": ${JSON.stringify(payroll())}`, JSON.stringify([sha256(PAYROLL_KEY)]), "{}"]) {
    const { health, token, log } = await misconfigured({ BROKER_CLIENTS: clients }, /broker misconfigured: BROKER_CLIENTS: /);
    assert.equal(health.json.setting, "BROKER_CLIENTS");
    assert.equal(health.json.index, undefined);
    assert.match(token.json.error_description, /^BROKER_CLIENTS: must be a JSON object of callers: /);
    assertWithout([health.text, token.text, log], [PAYROLL, PAYROLL_SCOPE, sha256(PAYROLL_KEY)], clients.slice(0, 30));
  }
});

test("an unreadable CLIENT_CERTIFICATE or CLIENT_SECRET: fixed text in public, no key text anywhere", async () => {
  // A BEGIN line with four dashes: a parser that takes the label up to the next five dashes
  // runs through the key's base64 body.
  const fourDashes = FIXTURES.rsaKey.replace(/^-----BEGIN ([A-Z ]+)-----/, "----BEGIN $1----");
  const body = FIXTURES.rsaKey.split("\n").filter((line) => line && !line.startsWith("-----"));
  const windows = body.flatMap((line) => [line.slice(0, 16), line.slice(-16)]);
  // The BEGIN line of the issue: five dashes before, four after the label.
  const fourClosing = FIXTURES.rsaKey.replace(/^(-----BEGIN [A-Z ]+)-----/, "$1----");
  for (const [settings, setting] of [
    [{ CLIENT_SECRET: undefined, CLIENT_CERTIFICATE: `${fourDashes}\n${FIXTURES.rsaCert}` }, "CLIENT_CERTIFICATE"],
    [{ CLIENT_SECRET: undefined, CLIENT_CERTIFICATE: `${fourClosing}\n${FIXTURES.rsaCert}` }, "CLIENT_CERTIFICATE"],
    [{ CLIENT_SECRET: undefined, CLIENT_CERTIFICATE: body.join("\n") }, "CLIENT_CERTIFICATE"],
  ]) {
    const { health, token, log } = await misconfigured(settings, new RegExp(`broker misconfigured: ${setting}: `));
    assert.equal(health.json.setting, setting);
    assert.equal(health.json.problem, "this setting is not usable; the Worker's log (`wrangler tail`) says why");
    assert.equal(token.json.error_description, `${setting}: ${health.json.problem}`);
    assertWithout([health.text, token.text, log], windows, setting);
  }
});

test("a key without its certificate under an Entra authority: CLIENT_CERTIFICATE is named, and why is logged", async () => {
  const { health, log } = await misconfigured(
    { CLIENT_SECRET: undefined, CLIENT_CERTIFICATE: FIXTURES.rsaKey },
    /broker misconfigured: CLIENT_CERTIFICATE: /,
  );
  assert.equal(health.json.setting, "CLIENT_CERTIFICATE");
  assert.match(log, /broker misconfigured: CLIENT_CERTIFICATE: Entra ID needs to know which uploaded certificate signed/);
  const body = FIXTURES.rsaKey.split("\n").filter((line) => line && !line.startsWith("-----"));
  assertWithout([health.text, log], body.map((line) => line.slice(0, 16)), "key-only PEM");
});

test("malformed secrets in BROKER_CLIENTS and CACHE_KEY: named, never shown, in public or in the log", async () => {
  // A raw key where its hash belongs, and CACHE_KEYs that are not 32 bytes of base64: hex of the
  // right bytes, 31 bytes, text. Any 16 characters of them showing would fail the leak scan too.
  const keyBytes = Buffer.from(CACHE_KEY, "base64");
  const cases = [
    [{ BROKER_CLIENTS: members([PAYROLL, payroll({ keySha256: [PAYROLL_KEY] })]) }, /broker misconfigured: BROKER_CLIENTS\[0\]: /, "BROKER_CLIENTS", [PAYROLL_KEY, encodeURIComponent(PAYROLL_KEY)]],
    [{ CACHE_KEY: keyBytes.toString("hex") }, /broker misconfigured: CACHE_KEY: /, "CACHE_KEY", [keyBytes.toString("hex")]],
    [{ CACHE_KEY: keyBytes.subarray(1).toString("base64") }, /broker misconfigured: CACHE_KEY: /, "CACHE_KEY", [keyBytes.subarray(1).toString("base64")]],
    [{ CACHE_KEY: keyBytes.toString("latin1") }, /broker misconfigured: CACHE_KEY: /, "CACHE_KEY", [keyBytes.toString("latin1")]],
  ];
  for (const [settings, logPattern, setting, secrets] of cases) {
    const { health, token, log } = await misconfigured(settings, logPattern);
    assert.equal(health.json.setting, setting);
    assert.equal(token.status, 500);
    const windows = secrets.flatMap((secret) => Array.from({ length: secret.length - 15 }, (_, at) => secret.slice(at, at + 16)));
    assertWithout([health.text, token.text, log], windows, `${setting}: ${JSON.stringify(Object.keys(settings))}`);
  }
});
