// examples/acquire_token.rs, the plain Rust path (a native host over a blocking HTTP client),
// run as a user runs it: `cargo run --example acquire_token` with the settings in the
// environment, against the local token endpoint on 127.0.0.1. Each test checks what the
// endpoint received, so none passes without a real token exchange.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCOPE = "api://cctoken-example/.default";
const CARGO_ARGS = ["run", "--quiet", "--example", "acquire_token"];

let endpoint;

before(async () => {
  // Compiling first keeps the build out of the timed runs below.
  await run("cargo", ["build", "--quiet", "--example", "acquire_token"], { cwd: ROOT, timeout: 600_000 });
  endpoint = await startTokenEndpoint();
});
after(() => endpoint?.close());

/** Runs the example with `settings` in its environment; resolves to its exit code and output. */
async function runExample(settings = {}) {
  const env = {
    ...process.env,
    // No proxy may stand between the example and the endpoint on loopback.
    http_proxy: "",
    HTTP_PROXY: "",
    ALL_PROXY: "",
    all_proxy: "",
    NO_PROXY: "127.0.0.1",
    no_proxy: "127.0.0.1",
    AZURE_TENANT_ID: LOCAL_APP.tenantId,
    AZURE_CLIENT_ID: LOCAL_APP.clientId,
    AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret,
    AZURE_AUTHORITY_HOST: endpoint.url,
    CCTOKEN_SCOPE: SCOPE,
    ...settings,
  };
  try {
    const { stdout, stderr } = await run("cargo", CARGO_ARGS, { cwd: ROOT, env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (typeof error.code !== "number") throw error;
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

const tokenRequests = () => endpoint.requests.filter((r) => r.path.includes("/oauth2/v2.0/token"));

test("a plain Rust program gets a token from the endpoint, then the same one from memory", async () => {
  const before = tokenRequests().length;
  const { code, stdout, stderr } = await runExample();
  assert.equal(code, 0, stderr);
  console.log(stdout.trim());
  const calls = stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(calls.map((c) => c.source), ["idp", "cache"]);

  const sent = tokenRequests().slice(before);
  assert.equal(sent.length, 1, "one token request for two calls");
  assert.equal(sent[0].status, 200);
  const form = new URLSearchParams(sent[0].body);
  assert.equal(form.get("grant_type"), "client_credentials");
  assert.equal(form.get("client_id"), LOCAL_APP.clientId);
  assert.equal(form.get("scope"), SCOPE);
  assert.ok(sent[0].headers["client-request-id"], "a correlation id");
  // The token the endpoint issued is the one the program holds (it prints only its length).
  for (const call of calls) {
    assert.equal(call.tokenType, "Bearer");
    assert.equal(call.tokenChars, sent[0].accessToken.length);
    assert.ok(Math.abs(call.expiresOn - (Date.now() + 3599_000)) < 60_000, `expiresOn ${call.expiresOn}`);
  }
});

test("a 503 with Retry-After is waited out (the host's Sleep) and the next attempt succeeds", async () => {
  endpoint.failNext({ status: 503, headers: { "retry-after": "1" }, body: { error: "temporarily_unavailable" } });
  const before = tokenRequests().length;
  const started = Date.now();
  const { code, stdout, stderr } = await runExample();
  assert.equal(code, 0, stderr);
  const sent = tokenRequests().slice(before);
  assert.deepEqual(sent.map((r) => r.status), [503, 200]);
  assert.ok(Date.now() - started >= 1000, "waited the second the endpoint asked for");
  assert.equal(JSON.parse(stdout.trim().split("\n")[0]).source, "idp");
});

test("a reply larger than the request's limit is cut off, not read to the end", async () => {
  endpoint.failNext({ bodyBytes: 20 * 1024 * 1024 });
  const before = tokenRequests().length;
  const { code, stderr } = await runExample();
  assert.equal(code, 1);
  assert.match(stderr, /larger than \d+ bytes/);
  const [sent] = tokenRequests().slice(before);
  assert.equal(sent.completed, false, "the program stopped reading");
});

test("a refused secret ends with Entra's error, naming no secret", async () => {
  const wrongSecret = "wrong-secret-value-4242";
  const before = tokenRequests().length;
  const { code, stdout, stderr } = await runExample({ AZURE_CLIENT_SECRET: wrongSecret });
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.match(stderr, /invalid_client/);
  assert.ok(!stderr.includes(wrongSecret));
  assert.equal(tokenRequests().length - before, 1, "a refusal is not retried");
});

test("a missing setting is named before anything is sent", async () => {
  const before = tokenRequests().length;
  const { code, stderr } = await runExample({ CCTOKEN_SCOPE: "" });
  assert.equal(code, 1);
  assert.match(stderr, /CCTOKEN_SCOPE is not set/);
  assert.equal(tokenRequests().length, before);
});
