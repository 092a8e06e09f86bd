// `cctoken doctor` as people run it: the installed package's bin as a child process against
// the local token endpoint, one test per ✓ / ⚠ / ✗ line, asserting the exact lines, the
// fixes, --json's shape, the exit codes, and that no secret or token is ever printed.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { TOKEN_SIGNATURE_MARKER } from "../token-endpoint/access-token.mjs";
import { CHALLENGE_CLAIMS } from "../token-endpoint/protected-api.mjs";
import { PACKAGE_DIR, localAppEnv, runCli } from "./cli-runner.mjs";

const { runDoctor } = await import(`${PACKAGE_DIR}bin/doctor.mjs`);
const SCOPE = "api://cctoken-demo/.default";
const CERT_APP = "22222222-0000-4000-8000-0000000000c2";
const ROLES = ["Sites.Read.All"];
const fixture = (name) => readFile(new URL(`../fixtures/doctor/${name}`, import.meta.url), "utf8");
let endpoint;
let dir;
let F;

before(async () => {
  F = {
    rsaKey: await fixture("rsa.key.pem"),
    rsaCert: await fixture("rsa.cert.pem"),
    otherKey: await fixture("other-rsa.key.pem"),
    expiredCert: await fixture("expired.cert.pem"),
    expiringCert: await fixture("expiring.cert.pem"),
    ecCert: await fixture("ec.cert.pem"),
    ecNoPublic: await fixture("ec-no-public.key.pem"),
    rsaSha1: (await fixture("rsa.sha1.hex")).trim(),
    rsaSha256: (await fixture("rsa.sha256.hex")).trim(),
  };
  endpoint = await startTokenEndpoint({
    roles: ROLES,
    tenantIds: { [LOCAL_APP.tenantDomain]: LOCAL_APP.tenantId },
    clients: {
      [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret },
      [CERT_APP]: { certificates: [F.rsaCert, F.expiredCert, F.expiringCert, F.ecCert] },
    },
  });
  dir = await mkdtemp(join(tmpdir(), "cctoken-doctor-"));
});
after(async () => {
  await endpoint.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  endpoint.reset();
  endpoint.settings.roles = ROLES;
  endpoint.settings.dateOffsetMs = 0;
});

const localEnv = (extra = {}) => localAppEnv(endpoint, extra);

/** Runs the CLI; asserts that nothing secret reached stdout or stderr, whatever the outcome. */
function cctoken(args, env = localEnv(), nodeArgs = []) {
  return run(args, env, nodeArgs).then((result) => {
    assertNothingSecret(result.stdout + result.stderr);
    return result;
  });
}

/** Runs the CLI: `cctoken token` prints a token, so no secret check here. */
const run = runCli;

function assertNothingSecret(output) {
  assert.ok(!output.includes(LOCAL_APP.clientSecret), "the client secret was printed");
  assert.ok(!output.includes(TOKEN_SIGNATURE_MARKER), "an access token was printed");
  for (const issued of endpoint.requests.map((r) => r.accessToken).filter(Boolean)) {
    assert.ok(!output.includes(issued.split(".")[1]), "an access token's payload was printed");
  }
  assert.ok(!/PRIVATE KEY|MII[A-Za-z0-9+/]{40}/.test(output), "key material was printed");
}

/** The line that starts with `mark` and contains `text` (and the fix under it, if any). */
function line(result, mark, text) {
  const index = result.lines.findIndex((l) => l.startsWith(`${mark} `) && l.includes(text));
  assert.ok(index >= 0, `no "${mark} …${text}…" line in:\n${result.stdout}`);
  const fix = result.lines[index + 1]?.startsWith("  → ") ? result.lines[index + 1].slice(4) : undefined;
  return { text: result.lines[index], fix, index };
}

const marks = (result) => result.lines.filter((l) => /^[✓⚠✗–] /.test(l)).map((l) => l[0]).join("");

async function certificateFile(name, ...parts) {
  const path = join(dir, name);
  await writeFile(path, parts.join("\n"));
  return path;
}

const certArgs = (path) => ["--tenant", LOCAL_APP.tenantId, "--client-id", CERT_APP, "--certificate", path, "--authority-host", endpoint.url];

test("a healthy secret setup: every check ✓ in order, the time line, exit 0", async () => {
  const result = await cctoken(["doctor", "--scope", SCOPE, "--call", `${endpoint.url}/api/me?sig=not-for-printing`]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(result.stderr, "");
  const host = endpoint.url;
  const tokenEndpoint = `${host}/${LOCAL_APP.tenantId}/oauth2/v2.0/token`;
  assert.deepEqual(result.lines.slice(0, 12), [
    `✓ settings from the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST); credential: client secret; client ${LOCAL_APP.clientId}`,
    `    token endpoint ${tokenEndpoint}`,
    "– certificate: not used (the credential is a client secret)",
    `✓ tenant ${LOCAL_APP.tenantId} exists; token endpoint ${tokenEndpoint}`,
    result.lines[4],
    "✓ token acquired for api://cctoken-demo/.default (expires in 59 min)",
    "✓ aud api://cctoken-demo is the requested resource",
    `✓ tid ${LOCAL_APP.tenantId} is the tenant`,
    `✓ appid ${LOCAL_APP.clientId} is the client id`,
    "✓ roles Sites.Read.All",
    result.lines[10],
    `✓ GET ${host}/api/me answered 200: the API accepted the token`,
  ]);
  assert.match(result.lines[4], /^✓ the local clock is \d+ s (ahead of|behind) the server's$/);
  assert.match(result.lines[10], /^✓ issued \S+Z, expires \S+Z \(in 59 min\)$/);
  assert.ok(!result.stdout.includes("not-for-printing"), "a URL's query is never printed");
  // The picture, without colour: stdout is a pipe.
  assert.match(result.stdout, /\ntoken lifetime \(59 min\):\n  ●━+▏░+■\n +▲ now\n/);
  assert.ok(!result.stdout.includes("\u001b["), "no escape codes when stdout is not a terminal");
  // Discovery, one token request, the API call: nothing more.
  assert.deepEqual(
    endpoint.requests.map((r) => `${r.method} ${r.path.split("?")[0]} ${r.status}`),
    [`GET /${LOCAL_APP.tenantId}/v2.0/.well-known/openid-configuration 200`, `POST /${LOCAL_APP.tenantId}/oauth2/v2.0/token 200`, "GET /api/me 200"],
  );
  assert.equal(endpoint.requests[2].headers.authorization, `Bearer ${endpoint.requests[1].accessToken}`, "the API got the token just issued");
});

test("certificate: subject, thumbprints as openssl computes them, expiry, the key belongs to it", async () => {
  const pem = await certificateFile("rsa.pem", F.rsaKey, F.rsaCert);
  const result = await cctoken(["doctor", "--scope", SCOPE, ...certArgs(pem)], { PATH: process.env.PATH });
  assert.equal(result.code, 0, result.stdout);
  const certificate = line(result, "✓", "certificate CN=cctoken doctor RSA");
  const b64 = (hex) => Buffer.from(hex, "hex").toString("base64url");
  assert.deepEqual(result.lines.slice(certificate.index + 1, certificate.index + 3), [
    `    SHA-1 thumbprint ${F.rsaSha1} (x5t ${b64(F.rsaSha1)})`,
    `    SHA-256 thumbprint ${F.rsaSha256} (x5t#S256 ${b64(F.rsaSha256)})`,
  ]);
  line(result, "✓", "the certificate is valid until 2036-01-01T00:00:00Z");
  line(result, "✓", "the private key (RSA-2048) belongs to the certificate");
  assert.match(result.lines[0], /credential: certificate/);
  assert.match(result.lines[0], /settings from the command line \(--tenant, --client-id, --certificate /);
  line(result, "✓", "token acquired");
});

test("a key that is not the certificate's: ✗ naming AADSTS700027, exit 2", async () => {
  const pem = await certificateFile("mismatch.pem", F.otherKey, F.rsaCert);
  const result = await cctoken(["doctor", "--scope", SCOPE, ...certArgs(pem)], { PATH: process.env.PATH });
  const mismatch = line(result, "✗", "does not belong to the certificate");
  assert.match(mismatch.fix, /AADSTS700027/);
  assert.match(mismatch.fix, /openssl pkey -in key.pem -pubout/);
  // Entra would refuse it as well; the first ✗ (configuration) decides the exit code.
  line(result, "✗", "no token");
  assert.equal(result.code, 2);
});

test("an EC key without its public part is compared through its JWK", async () => {
  const pem = await certificateFile("ec.pem", F.ecNoPublic, F.ecCert);
  const result = await cctoken(["doctor", "--scope", SCOPE, ...certArgs(pem)], { PATH: process.env.PATH });
  line(result, "✓", "the private key (EC P-256) belongs to the certificate");
  const other = await certificateFile("ec-other.pem", F.ecNoPublic, F.rsaCert);
  const mismatch = await cctoken(["doctor", "--scope", SCOPE, ...certArgs(other)], { PATH: process.env.PATH });
  line(mismatch, "✗", "the private key (EC P-256) does not belong to the certificate (RSA-2048)");
});

test("an expired certificate: ✗ with how to renew, exit 2", async () => {
  const pem = await certificateFile("expired.pem", F.rsaKey, F.expiredCert);
  const result = await cctoken(["doctor", "--scope", SCOPE, ...certArgs(pem)], { PATH: process.env.PATH });
  const expired = line(result, "✗", "the certificate expired on 2025-01-01T00:00:00Z (");
  assert.match(expired.fix, /^create a new certificate, upload it to the app registration/);
  assert.equal(result.code, 2);
});

test("a certificate under 30 days from expiry: ⚠ (the CLI's clock set to 2026-12-02)", async () => {
  // The fixture ends 2026-12-13: the child's clock is moved, not the fixture regenerated.
  const clock = `const shift = ${Date.parse("2026-12-02T23:00:00Z")} - Date.now(); const R = Date;
    globalThis.Date = class extends R { constructor(...a) { super(...(a.length ? a : [R.now() + shift])); } static now() { return R.now() + shift; } };`;
  const pem = await certificateFile("expiring.pem", F.rsaKey, F.expiringCert);
  const result = await cctoken(["doctor", "--scope", SCOPE, ...certArgs(pem)], { PATH: process.env.PATH }, [
    `--import=data:text/javascript,${encodeURIComponent(clock)}`,
  ]);
  const expiring = line(result, "⚠", "the certificate is valid until 2026-12-13T00:00:00Z (10 days left)");
  assert.match(expiring.fix, /^create a new certificate/);
});

test("a clock 7 minutes off the server's Date: ⚠ naming AADSTS700024, exit 0", async () => {
  endpoint.settings.dateOffsetMs = -7 * 60_000;
  const result = await cctoken(["doctor", "--scope", SCOPE]);
  const clock = line(result, "⚠", "the local clock is");
  assert.match(clock.text, /^⚠ the local clock is 4[12]\d s ahead of the server's$/);
  assert.match(clock.fix, /AADSTS700024/);
  assert.equal(result.code, 0);
});

test("a token without roles: ⚠ with the admin-consent URL, exit 0", async () => {
  endpoint.settings.roles = undefined;
  const result = await cctoken(["doctor", "--scope", SCOPE]);
  const roles = line(result, "⚠", "the token has no roles");
  assert.match(roles.text, /Insufficient privileges to complete the operation/);
  assert.equal(
    roles.fix,
    `an administrator must grant the app's application permissions (API permissions → Grant admin consent), or open ${endpoint.url}/${LOCAL_APP.tenantId}/adminconsent?client_id=${LOCAL_APP.clientId}`,
  );
  assert.equal(result.code, 0);
});

test("a tenant that does not exist: ✗ AADSTS90002 from discovery and the token, exit 2", async () => {
  const result = await cctoken(["doctor", "--scope", SCOPE], localEnv({ AZURE_TENANT_ID: "nope.onmicrosoft.com" }));
  const tenant = line(result, "✗", "tenant nope.onmicrosoft.com was not found at");
  assert.match(tenant.text, /\(AADSTS90002\)$/);
  assert.ok(tenant.fix.length > 20, tenant.fix);
  const token = line(result, "✗", "no token:");
  assert.equal(result.lines[token.index + 1], "    AADSTS: 90002");
  assert.match(result.lines[token.index + 2], /^ {4}correlation id: [0-9a-f-]{36}$/);
  assert.equal(result.code, 2);
});

test("a tenant named by its domain is resolved to its id, and tid compared with it", async () => {
  const result = await cctoken(["doctor", "--scope", SCOPE], localEnv({ AZURE_TENANT_ID: LOCAL_APP.tenantDomain }));
  line(result, "✓", `tenant ${LOCAL_APP.tenantDomain} exists as ${LOCAL_APP.tenantId}`);
  line(result, "✓", `tid ${LOCAL_APP.tenantId} is the tenant`);
  assert.equal(result.code, 0);
});

test("a refused token: the error, AADSTS, correlation id and hint as `token` prints them, exit 3", async () => {
  const result = await cctoken(["doctor", "--scope", SCOPE, "--call", `${endpoint.url}/api/me`], localEnv({ AZURE_CLIENT_SECRET: "wrong-secret-value" }));
  const token = line(result, "✗", "no token: invalid_client:");
  assert.equal(result.lines[token.index + 1], "    AADSTS: 7000215");
  assert.match(result.lines[token.index + 2], /^ {4}correlation id: [0-9a-f-]{36}$/);
  assert.match(result.lines[token.index + 3], /^ {4}trace id: [0-9a-f-]{36}$/);
  assert.ok(result.lines.slice(token.index).some((l) => l.startsWith("  → ")), "the hint is the fix");
  assert.ok(!result.stdout.includes("wrong-secret-value"));
  line(result, "–", "call: skipped");
  assert.equal(result.code, 3);
});

test("--call: a claims challenge and Authorization_RequestDenied say what they mean, exit 3", async () => {
  const challenged = await cctoken(["doctor", "--scope", SCOPE, "--call", `${endpoint.url}/api/claims-challenge`]);
  const challenge = line(challenged, "✗", "answered 401 with a claims challenge");
  assert.equal(challenged.lines[challenge.index + 1], `    claims: ${CHALLENGE_CLAIMS}`);
  assert.equal(challenged.code, 3);
  const denied = await cctoken(["doctor", "--scope", SCOPE, "--call", `${endpoint.url}/api/forbidden`]);
  const forbidden = line(denied, "✗", "answered 403 Authorization_RequestDenied");
  assert.equal(
    forbidden.fix,
    `add the application permission (app role) to the app registration, then have an administrator grant it: ${endpoint.url}/${LOCAL_APP.tenantId}/adminconsent?client_id=${LOCAL_APP.clientId}`,
  );
  assert.equal(denied.code, 3);
});

test("an unreachable authority: ✗ network for the tenant and the token, exit 4", async () => {
  const closed = await startTokenEndpoint();
  const url = closed.url;
  await closed.close();
  const result = await cctoken(["doctor", "--scope", SCOPE], localEnv({ AZURE_AUTHORITY_HOST: url }));
  line(result, "✗", `could not reach ${url}/${LOCAL_APP.tenantId}/v2.0/.well-known/openid-configuration`);
  line(result, "–", "clock: skipped");
  line(result, "✗", "no token: network");
  assert.equal(result.code, 4);
});

test("--call to an API that cannot be reached: ✗ network, exit 4", async () => {
  const closed = await startTokenEndpoint();
  const url = `${closed.url}/api/me`;
  await closed.close();
  const result = await cctoken(["doctor", "--scope", SCOPE, "--call", url]);
  const call = line(result, "✗", `GET ${url} failed: `);
  assert.equal(call.fix, "check the URL, the network and any proxy between here and the API");
  assert.equal(result.code, 4);
});

test("help: cctoken --help lists doctor, doctor --help its options", async () => {
  const main = await cctoken(["--help"]);
  assert.match(main.stdout, /\n {2}doctor {8}check the app's setup/);
  const help = await cctoken(["doctor", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: cctoken doctor /);
  assert.match(help.stdout, /--call <url>/);
  assert.equal(endpoint.requests.length, 0, "help sends nothing");
});

test("settings that cannot be used: one ✗ and exit 2", async () => {
  const result = await cctoken(["doctor"], { PATH: process.env.PATH, AZURE_TENANT_ID: LOCAL_APP.tenantId });
  assert.equal(marks(result), "✗");
  line(result, "✗", "the settings from the environment (AZURE_TENANT_ID) cannot be used");
  assert.equal(result.code, 2);
  const usage = await cctoken(["doctor", "--no-such-flag"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--no-such-flag/);
});

test("--json: {findings, lifetime, exitCode}, the same checks, the exit code", async () => {
  endpoint.settings.roles = undefined;
  const sent = Date.now();
  const result = await cctoken(["doctor", "--scope", SCOPE, "--json"]);
  const received = Date.now();
  const report = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(report), ["findings", "lifetime", "exitCode"]);
  assert.equal(report.exitCode, 0);
  assert.equal(result.code, 0);
  assert.deepEqual(
    report.findings.map((f) => `${f.check}:${f.status}`),
    ["settings:ok", "certificate:skipped", "tenant:ok", "clock:ok", "token:ok", "audience:ok", "token-tenant:ok", "token-client:ok", "roles:warn", "token-lifetime:ok"],
  );
  for (const f of report.findings) {
    assert.ok(Object.keys(f).every((k) => ["check", "status", "summary", "details", "fix", "exit"].includes(k)), Object.keys(f).join());
    assert.equal(typeof f.summary, "string");
    assert.equal(f.fix !== undefined, f.status === "warn" || f.status === "fail");
  }
  const { issuedMs, refreshOnMs, expiryBufferMs, expiresOnMs } = report.lifetime;
  assert.equal(refreshOnMs, null);
  assert.equal(expiryBufferMs, 300_000);
  assert.ok(expiresOnMs >= sent + 3_599_000 && expiresOnMs <= received + 3_599_000);
  assert.equal(issuedMs % 1000, 0);
  const failed = await cctoken(["doctor", "--json"], localEnv({ AZURE_TENANT_ID: "nope.onmicrosoft.com" }));
  const failure = JSON.parse(failed.stdout);
  assert.equal(failure.exitCode, 2);
  assert.equal(failed.code, 2);
  assert.deepEqual(failure.findings.find((f) => f.check === "tenant").exit, "configuration");
  assert.equal(failure.lifetime, null);
});

test("an authority without an OpenID configuration (not Entra): the tenant check is skipped, not failed", async () => {
  const other = await startTokenEndpoint({ openIdConfiguration: false, roles: ROLES });
  try {
    const result = await cctoken(["doctor", "--scope", SCOPE], localEnv({ AZURE_AUTHORITY_HOST: other.url }));
    line(result, "–", "tenant: skipped: ");
    line(result, "✓", "token acquired");
    assert.equal(result.code, 0);
  } finally {
    await other.close();
  }
});

test("a generic token endpoint: Entra-only checks are skipped with a line each", async () => {
  // The CLI's settings always name an Entra authority; the library's generic endpoint is
  // given to the doctor the way the CLI gives its clients.
  let out = "";
  const stdout = { write: (text) => (out += text), isTTY: false };
  const client = new ConfidentialClient({ clientId: LOCAL_APP.clientId, tokenEndpoint: endpoint.genericTokenEndpoint, credential: { clientSecret: LOCAL_APP.clientSecret } });
  const code = await runDoctor(["--scope", "api://cctoken-demo/.default"], { clientFrom: () => ({ client }), environmentVariable: () => undefined, stdout });
  assertNothingSecret(out);
  const lines = out.split("\n");
  assert.equal(code, 0, out);
  assert.ok(lines.includes("– tenant: skipped: a generic token endpoint has no Entra tenant or OpenID configuration to check"), out);
  assert.ok(lines.includes("– claims aud, tid, appid/azp, roles: skipped: Entra ID conventions, not a generic endpoint's"), out);
  assert.ok(lines.some((l) => /^✓ the local clock is \d+ s/.test(l)), out);
  assert.ok(lines.some((l) => l.startsWith("✓ token acquired")), out);
  assert.ok(!lines.some((l) => l.startsWith("✓ aud") || l.startsWith("✓ roles")), out);
});

test("colour: the time line is coloured for a terminal, not with NO_COLOR set", async () => {
  const run = async (isTTY, env) => {
    let out = "";
    const client = new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret } });
    const code = await runDoctor(["--scope", SCOPE], { clientFrom: () => ({ client }), environmentVariable: () => undefined, stdout: { isTTY, write: (t) => (out += t) }, env });
    assert.equal(code, 0, out);
    assertNothingSecret(out);
    return out;
  };
  const coloured = await run(true, {});
  assert.match(coloured, /\u001b\[32m●━+\u001b\[0m\u001b\[31m▏░+■\u001b\[0m/);
  assert.ok(coloured.split("\n")[0].startsWith("✓ settings"), "findings themselves carry no colour");
  const plain = await run(true, { NO_COLOR: "1" });
  assert.ok(!plain.includes("\u001b["), plain);
  assert.match(plain, /\n  ●━+▏░+■\n/);
});

test("the token check always asks the identity provider, even when the client holds a token", async () => {
  const client = new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret } });
  await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(endpoint.tokenRequests, 1);
  let out = "";
  const code = await runDoctor(["--scope", SCOPE], { clientFrom: () => ({ client }), environmentVariable: () => undefined, stdout: { write: (t) => (out += t) } });
  assert.equal(code, 0, out);
  assert.equal(endpoint.tokenRequests, 2, "a cached token would not show that the credential works");
  assertNothingSecret(out);
});

/** A port nothing listens on (a server started and stopped). */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("--call never prints a URL's password or query: refused URLs are ✗ configuration, exit 2, and not fetched", async () => {
  const port = new URL(endpoint.url).port;
  const refusals = [
    [`http://alice:Pa55w0rd-canary@127.0.0.1:${port}/api/me?sig=QUERY-canary`, "--call: the URL has a user name or password in it (not shown); the doctor calls with the token only"],
    ["http://[::1/api/me?sig=QUERY-canary", "--call: the URL cannot be parsed (it is not shown: it may carry a key)"],
    [`ftp://127.0.0.1:${port}/api/me?sig=QUERY-canary`, "--call: only http and https URLs can be called"],
    ["http://api.example.invalid/api/me?sig=QUERY-canary", "--call: http://api.example.invalid/api/me uses plain http: the token would cross the network in clear"],
  ];
  for (const [url, summary] of refusals) {
    endpoint.reset();
    const result = await cctoken(["doctor", "--scope", SCOPE, "--call", url]);
    assert.equal(result.code, 2, result.stdout);
    assert.equal(line(result, "✗", "--call: ").text, `✗ ${summary}`);
    assert.ok(!/canary/.test(result.stdout + result.stderr), result.stdout + result.stderr);
    assert.ok(!endpoint.requests.some((r) => r.path.startsWith("/api/")), "a refused URL is never called");
  }
});

test("--call to an API that cannot be reached names the cause's code only, never the URL's query", async () => {
  const url = `http://127.0.0.1:${await closedPort()}/api/me`;
  const result = await cctoken(["doctor", "--scope", SCOPE, "--call", `${url}?sig=QUERY-canary`]);
  assert.equal(line(result, "✗", "GET ").text, `✗ GET ${url} failed: ECONNREFUSED`);
  assert.ok(!result.stdout.includes("canary"));
  assert.equal(result.code, 4);
});

/** A protected API on 127.0.0.1 whose every request is answered by `answer(req, res)`. */
async function startApi(answer) {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push(req.url);
    answer(req, res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const inProcess = async (args, extra = {}) => {
  const client = new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret } });
  let out = "";
  const code = await runDoctor(args, { clientFrom: () => ({ client }), environmentVariable: () => undefined, stdout: { write: (t) => (out += t) }, ...extra });
  assertNothingSecret(out);
  return { code, out, lines: out.split("\n") };
};

// The timeout options: on a regression these would hang; they fail instead.
test("--call gives up on an API that never answers (the doctor's timeout, shortened here), exit 4", { timeout: 30_000 }, async () => {
  const api = await startApi(() => {}); // never answers
  try {
    const result = await inProcess(["--scope", SCOPE, "--call", `${api.url}/hang?sig=QUERY-canary`], { requestTimeoutMs: 1000 });
    assert.equal(line(result, "✗", "GET ").text, `✗ GET ${api.url}/hang failed: no answer within 1 s`);
    assert.equal(result.code, 4);
    assert.ok(!result.out.includes("canary"));
  } finally {
    await api.close();
  }
});

test("--call does not follow a redirect: ⚠ saying where it points (host and path), the token sent once", async () => {
  const api = await startApi((req, res) => {
    res.writeHead(302, { location: req.url.startsWith("/relative") ? "/login?next=QUERY-canary" : "https://other.example/login?next=QUERY-canary" });
    res.end();
  });
  try {
    const away = await cctoken(["doctor", "--scope", SCOPE, "--call", `${api.url}/moved`]);
    const warning = line(away, "⚠", "GET ");
    assert.equal(warning.text, `⚠ GET ${api.url}/moved answered 302: the API redirected to https://other.example/login instead of answering`);
    assert.equal(warning.fix, "call the URL the API answers at: the doctor does not follow redirects, so the token is never sent on to another host");
    assert.equal(away.code, 0);
    const here = await cctoken(["doctor", "--scope", SCOPE, "--call", `${api.url}/relative`]);
    assert.equal(line(here, "⚠", "GET ").text, `⚠ GET ${api.url}/relative answered 302: the API redirected to ${api.url}/login instead of answering`);
    assert.ok(!(away.stdout + here.stdout).includes("canary"));
    assert.deepEqual(api.requests, ["/moved", "/relative"], "the redirect was not followed");
  } finally {
    await api.close();
  }
});

test("--call reads at most 64 KiB of a 403's body: a body that never ends does not hang the doctor", { timeout: 30_000 }, async () => {
  const api = await startApi((req, res) => {
    res.writeHead(403, { "content-type": "application/json" });
    res.write(`{"error":{"code":"Authorization_RequestDenied","message":"${"x".repeat(70 * 1024)}`); // …and never ends
  });
  try {
    const result = await inProcess(["--scope", SCOPE, "--call", `${api.url}/forbidden`]);
    line(result, "✗", `GET ${api.url}/forbidden answered 403`);
    assert.equal(result.code, 3);
  } finally {
    await api.close();
  }
});

test("a network ✗ names the proxy in effect, as `cctoken token` does, never its password", async () => {
  const proxyPort = await closedPort();
  const closed = await startTokenEndpoint();
  const url = closed.url;
  await closed.close();
  const result = await cctoken(["doctor", "--scope", SCOPE], localEnv({ AZURE_AUTHORITY_HOST: url, HTTP_PROXY: `http://proxy-user:Proxy-canary@127.0.0.1:${proxyPort}` }));
  const tenant = line(result, "✗", "could not reach ");
  assert.equal(result.lines[tenant.index + 1], `    proxy: HTTP_PROXY=http://127.0.0.1:${proxyPort}`);
  assert.ok(!result.stdout.includes("canary"));
  assert.equal(result.code, 4);
});

test("the doctor's token is kept in the token cache (CCTOKEN_CACHE_DIR) for `cctoken token`, unless --no-cache", async () => {
  for (const noCache of [false, true]) {
    const cacheDir = await mkdtemp(join(tmpdir(), "cctoken-doctor-cache-"));
    try {
      const env = localEnv({ CCTOKEN_CACHE_DIR: cacheDir });
      endpoint.reset();
      const doctor = await cctoken(["doctor", "--scope", SCOPE, ...(noCache ? ["--no-cache"] : [])], env);
      assert.equal(doctor.code, 0, doctor.stdout);
      assert.equal(endpoint.tokenRequests, 1);
      const token = await run(["token", "--scope", SCOPE], env);
      assert.equal(token.code, 0, token.stderr);
      assert.equal(endpoint.tokenRequests, noCache ? 2 : 1, noCache ? "--no-cache: nothing was kept" : "the doctor's token was served from the cache");
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  }
});
