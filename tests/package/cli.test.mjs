// The CLI as shell scripts use it: spawned through the installed package's bin, asserting
// stdout, stderr and exit codes for success and each failure class.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, X509Certificate } from "node:crypto";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { decodeClaims } from "../token-endpoint/access-token.mjs";
import { FIXTURES } from "../node/fixtures.mjs";
import { BIN, localAppEnv, runCli } from "./cli-runner.mjs";

const SCOPE = "api://cctoken-demo/.default";
const CERT_APP = "22222222-0000-4000-8000-0000000000c2";
let endpoint;
let dir;

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: {
      [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret },
      [CERT_APP]: { certificates: [FIXTURES.rsaCert] },
    },
  });
  dir = await mkdtemp(join(tmpdir(), "cctoken-cli-"));
});
after(async () => {
  await endpoint.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => endpoint.reset());

const localEnv = (extra = {}) => localAppEnv(endpoint, extra);

function cctoken(args, env = localEnv(), nodeArgs = []) {
  return runCli(args, env, nodeArgs);
}

test("token prints the bare access token from environment credentials", async () => {
  const { code, stdout, stderr } = await cctoken(["token", "--scope", SCOPE]);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  assert.equal(stdout, `${endpoint.requests[0].accessToken}\n`, "the issued token and a newline, nothing else");
  assert.equal(decodeClaims(stdout.trim()).aud, "api://cctoken-demo");
  assert.equal(endpoint.tokenRequests, 1);
});

test("--json prints the whole result, --decode the token's header and claims", async () => {
  const sent = Date.now();
  const json = await cctoken(["token", "--scope", SCOPE, "--json"]);
  const received = Date.now();
  assert.equal(json.code, 0);
  const result = JSON.parse(json.stdout);
  assert.equal(result.accessToken, endpoint.requests[0].accessToken);
  assert.equal(result.tokenType, "Bearer");
  assert.equal(result.fromCache, false);
  assert.equal(result.tenantId, LOCAL_APP.tenantId);
  assert.deepEqual(result.scopes, [SCOPE]);
  assert.equal(result.correlationId, endpoint.requests[0].headers["client-request-id"]);
  // The local endpoint's tokens live 3599 s, counted from when the CLI sent its request.
  const expiresOn = Date.parse(result.expiresOn);
  assert.ok(expiresOn >= sent + 3_599_000 && expiresOn <= received + 3_599_000, result.expiresOn);
  assert.equal(result.refreshOn, undefined, "an hour-long token has no early refresh point");

  const decoded = await cctoken(["token", "--scope", SCOPE, "--decode"]);
  assert.equal(decoded.code, 0);
  const { header, payload } = JSON.parse(decoded.stdout);
  assert.equal(header.typ, "JWT");
  assert.equal(payload.aud, "api://cctoken-demo");
  assert.equal(payload.appid, LOCAL_APP.clientId);
  // The lifetime picture goes to stderr (stdout stays JSON), uncoloured: stderr is a pipe.
  const issued = new Date(payload.iat * 1000).toISOString().replace(".000Z", "Z");
  assert.match(decoded.stderr, /^token lifetime \(59 min\):\n  ●━+▏░+■\n +▲ now\n/);
  assert.ok(decoded.stderr.includes(`  ● issued         ${issued}  `), decoded.stderr);
  assert.ok(decoded.stderr.includes("  ◆ refresh point  none before the expiry buffer\n"), decoded.stderr);
  assert.match(decoded.stderr, /\n  ■ expiry         \S+Z  in 59 min\n$/);
  assert.ok(!decoded.stderr.includes("\u001b["));
});

test("the time line: exact picture, colour only for a terminal without NO_COLOR", async () => {
  const { renderTimeline, wantsColor, printTokenTimeline } = await import(BIN.replace(/cctoken\.mjs$/, "timeline.mjs"));
  assert.equal(wantsColor({ isTTY: true }, {}), true);
  assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: "1" }), false);
  assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: "" }), true, "an empty NO_COLOR is unset (no-color.org)");
  assert.equal(wantsColor({ isTTY: false }, {}), false);
  assert.equal(wantsColor({}, {}), false);
  const issuedMs = Date.parse("2026-12-03T18:00:00Z");
  const lifetime = { issuedMs, refreshOnMs: issuedMs + 1_800_000, expiryBufferMs: 300_000, expiresOnMs: issuedMs + 3_600_000 };
  const plain = renderTimeline(lifetime, { nowMs: issuedMs + 600_000, color: false });
  assert.equal(
    plain,
    [
      "token lifetime (60 min):",
      "  ●━━━━━━━━━━━━━━━━━━━━━━━◆━━━━━━━━━━━━━━━━━━▏░░░■",
      "          ▲ now",
      "  ● issued         2026-12-03T18:00:00Z  10 min ago",
      "  ◆ refresh point  2026-12-03T18:30:00Z  from here the client fetches a new token in the background",
      "  ░ expiry buffer  2026-12-03T18:55:00Z  cached copy no longer served: a new token is fetched first (5 min before expiry)",
      "  ■ expiry         2026-12-03T19:00:00Z  in 50 min",
    ].join("\n"),
  );
  const coloured = renderTimeline(lifetime, { nowMs: issuedMs + 600_000, color: true });
  assert.ok(coloured.includes("\u001b[32m●━━━━━━━━━━━━━━━━━━━━━━━\u001b[0m\u001b[33m◆━"), coloured);
  assert.ok(coloured.includes("\u001b[31m▏░░░■\u001b[0m"), coloured);
  assert.equal(coloured.replace(/\u001b\[\d+m/g, ""), plain, "colour changes nothing else");
  assert.equal(renderTimeline({ ...lifetime, expiresOnMs: issuedMs }, { nowMs: issuedMs, color: false }), "", "no line without a lifetime");
  // What `token --decode` writes, as a terminal and as a terminal with NO_COLOR.
  const result = { expiresOn: new Date(lifetime.expiresOnMs), refreshOn: new Date(lifetime.refreshOnMs) };
  const written = (isTTY, env) => {
    let text = "";
    printTokenTimeline(result, { iat: issuedMs / 1000 }, { isTTY, write: (t) => (text += t) }, env, issuedMs + 600_000);
    return text;
  };
  assert.equal(written(true, {}), `${coloured}\n`);
  assert.equal(written(true, { NO_COLOR: "1" }), `${plain}\n`);
  assert.equal(written(false, {}), `${plain}\n`);
});

test("flags: --tenant, --client-id with --client-secret-env or --certificate", async () => {
  const bySecret = await cctoken(
    ["token", "--scope", SCOPE, "--tenant", LOCAL_APP.tenantDomain, "--client-id", LOCAL_APP.clientId, "--client-secret-env", "MY_SECRET", "--authority-host", endpoint.url],
    { PATH: process.env.PATH, MY_SECRET: LOCAL_APP.clientSecret },
  );
  assert.equal(bySecret.code, 0, bySecret.stderr);
  const pem = join(dir, "app.pem");
  await writeFile(pem, `${FIXTURES.rsaKey}\n${FIXTURES.rsaCert}`);
  const byCertificate = await cctoken(
    ["token", "--scope", SCOPE, "--tenant", LOCAL_APP.tenantId, "--client-id", CERT_APP, "--certificate", pem, "--authority-host", endpoint.url],
    { PATH: process.env.PATH },
  );
  assert.equal(byCertificate.code, 0, byCertificate.stderr);
  assert.deepEqual(endpoint.requests.map((r) => r.status), [200, 200]);
});

test("--config reads appsettings.json and MSAL Python configs", async () => {
  const appsettings = join(dir, "appsettings.json");
  await writeFile(appsettings, `{
  // ASP.NET configuration, comments and trailing commas included
  "AzureAd": {
    "Instance": "${endpoint.url}/",
    "TenantId": "${LOCAL_APP.tenantId}",
    "ClientId": "${LOCAL_APP.clientId}",
    "ClientSecret": "${LOCAL_APP.clientSecret}",
  },
}`);
  const fromAppsettings = await cctoken(["token", "--scope", SCOPE, "--config", appsettings], { PATH: process.env.PATH });
  assert.equal(fromAppsettings.code, 0, fromAppsettings.stderr);

  const key = join(dir, "server.pem");
  await writeFile(key, FIXTURES.rsaKey);
  const msal = join(dir, "msal.json");
  await writeFile(msal, JSON.stringify({
    authority: `${endpoint.url}/${LOCAL_APP.tenantId}`,
    client_id: CERT_APP,
    scope: [SCOPE],
    private_key_file: key,
    thumbprint: createHash("sha1").update(new X509Certificate(FIXTURES.rsaCert).raw).digest("hex"),
  }));
  const fromMsal = await cctoken(["token", "--config", msal], { PATH: process.env.PATH });
  assert.equal(fromMsal.code, 0, fromMsal.stderr);
  assert.deepEqual(endpoint.requests.map((r) => r.status), [200, 200]);
});

test("an identity-provider refusal exits 3 with AADSTS, correlation id and hint, and no secret", async () => {
  const secret = "definitely-wrong-secret-77";
  const { code, stdout, stderr } = await cctoken(["token", "--scope", SCOPE], localEnv({ AZURE_CLIENT_SECRET: secret }));
  assert.equal(code, 3);
  assert.equal(stdout, "");
  assert.match(stderr, /^cctoken: invalid_client: AADSTS7000215: /);
  assert.match(stderr, /\(hint: the client secret is wrong/);
  assert.match(stderr, /\n {2}AADSTS: 7000215\n/);
  assert.match(stderr, /\n {2}correlation id: [0-9a-f-]{36}\n/);
  assert.ok(!stderr.includes(secret) && !stdout.includes(secret));
});

test("configuration mistakes exit 2, unreachable endpoints exit 4", async () => {
  const missing = await cctoken(["token", "--scope", SCOPE], { PATH: process.env.PATH });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /AZURE_TENANT_ID is not set/);
  const noScope = await cctoken(["token"]);
  assert.equal(noScope.code, 2);
  assert.match(noScope.stderr, /at least one --scope/);
  const badScope = await cctoken(["token", "--scope", "https://graph.microsoft.com"]);
  assert.equal(badScope.code, 2);
  assert.match(badScope.stderr, /hint: request "https:\/\/graph\.microsoft\.com\/\.default"/);
  const unknown = await cctoken(["token", "--scopes", SCOPE]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--scopes/);
  const command = await cctoken(["tokens"]);
  assert.equal(command.code, 2);
  // Names every object inherits are not commands either.
  for (const inherited of ["toString", "constructor", "__proto__"]) {
    const run = await cctoken([inherited, "--scope", SCOPE]);
    assert.equal(run.code, 2, inherited);
    assert.match(run.stderr, new RegExp(`unknown command "${inherited}"`));
    assert.equal(run.stdout, "", inherited);
  }
  // An environment variable inherited from a polluted Object.prototype is not set.
  const polluted = await cctoken(
    ["token", "--scope", SCOPE, "--tenant", LOCAL_APP.tenantId, "--client-id", LOCAL_APP.clientId, "--client-secret-env", "CCTOKEN_TEST_SECRET", "--authority-host", endpoint.url],
    localEnv(),
    ["--import", `data:text/javascript,Object.prototype.CCTOKEN_TEST_SECRET = "polluted"`],
  );
  assert.equal(polluted.code, 2, polluted.stderr);
  assert.match(polluted.stderr, /environment variable CCTOKEN_TEST_SECRET \(from --client-secret-env\) is not set/);
  assert.equal(endpoint.tokenRequests, 0);

  const stopped = await startTokenEndpoint();
  const url = stopped.url;
  await stopped.close();
  const unreachable = await cctoken(["token", "--scope", SCOPE, "--json"], localEnv({ AZURE_AUTHORITY_HOST: url }));
  assert.equal(unreachable.code, 4);
  assert.match(unreachable.stderr, /network_error: could not reach the token endpoint/);
});

test("throttled exits 4 with the wait, and sends nothing more", async () => {
  endpoint.failNext({ status: 429, headers: { "retry-after": "120" }, body: { error: "temporarily_unavailable" } });
  const { code, stdout, stderr } = await cctoken(["token", "--scope", SCOPE]);
  assert.equal(code, 4, stderr);
  assert.equal(stdout, "");
  assert.match(stderr, /^cctoken: throttled: /);
  assert.equal(endpoint.tokenRequests, 1, "a wait past the deadline is not retried");
});

test("an identity provider failing with 5xx exits 4 (worth retrying), a refusal sent with 5xx exits 3", async () => {
  // Retries wait between attempts; the child's timers are cut to 50 ms as for the timeout below.
  const fastTimers = `const t = globalThis.setTimeout; globalThis.setTimeout = (f, ms, ...a) => t(f, Math.min(Number(ms) || 0, 50), ...a);`;
  const fast = ["--import", `data:text/javascript,${encodeURIComponent(fastTimers)}`];
  endpoint.failAll({ status: 503, body: { error: "temporarily_unavailable", error_description: "AADSTS90033: A transient error has occurred." } });
  const unavailable = await cctoken(["token", "--scope", SCOPE], localEnv(), fast);
  assert.equal(unavailable.code, 4, unavailable.stderr);
  assert.match(unavailable.stderr, /^cctoken: temporarily_unavailable: /);
  endpoint.reset();
  endpoint.failAll({ status: 502, body: { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." } });
  const refused = await cctoken(["token", "--scope", SCOPE], localEnv(), fast);
  assert.equal(refused.code, 3, refused.stderr);
  assert.equal(endpoint.tokenRequests, 1, "a refusal is not retried");
});

test("timeout exits 4 after the attempts the retry budget allows", async () => {
  endpoint.failAll({ hang: true });
  // The endpoint never answers; the CLI's timers (10 s per attempt, 30 s in all) are cut to
  // 50 ms inside the child, so the real timeout path runs without the test waiting 30 s.
  const fastTimers = `const t = globalThis.setTimeout; globalThis.setTimeout = (f, ms, ...a) => t(f, Math.min(Number(ms) || 0, 50), ...a);`;
  const { code, stdout, stderr } = await cctoken(["token", "--scope", SCOPE], localEnv(), ["--import", `data:text/javascript,${encodeURIComponent(fastTimers)}`]);
  assert.equal(code, 4, stderr);
  assert.equal(stdout, "");
  assert.match(stderr, /^cctoken: timeout: /);
  assert.equal(endpoint.tokenRequests, 3, "the first attempt and two retries");
});

test("consent-url and --help", async () => {
  const url = await cctoken(["consent-url", "--tenant", "contoso.onmicrosoft.com", "--client-id", LOCAL_APP.clientId]);
  assert.equal(url.code, 0);
  assert.equal(url.stdout, `https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=${LOCAL_APP.clientId}\n`);
  for (const args of [["--help"], ["token", "--help"], ["consent-url", "--help"]]) {
    const help = await cctoken(args);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: cctoken/);
  }
  assert.match((await cctoken(["--help"])).stdout, /HTTPS_PROXY, HTTP_PROXY and NO_PROXY/);
  const missing = await cctoken(["consent-url", "--tenant", "t"]);
  assert.equal(missing.code, 2);
});
