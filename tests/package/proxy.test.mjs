// The CLI behind a proxy on Node (20 and 22), whose fetch ignores HTTPS_PROXY: every token
// request goes through a real local forward proxy (CONNECT to an https endpoint, or an
// absolute-form request to an http one), NO_PROXY sends it direct, proxy failures are exit 4
// and the proxy's password is never printed. Also the README's Node snippet for library users,
// and the CLI's NO_PROXY matching and abort handling on their own.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import {
  BIN, CA_FILE, PACKAGE_DIR, PROXY_PASSWORD, PROXY_USER, TLS,
  closedPort, run, startProxy, startRefusingProxy, withCredentials,
} from "./proxy-harness.mjs";

const { bypassesProxy, createProxyFetch, parseNoProxy, proxySettings } = await import(`${PACKAGE_DIR}bin/proxy-fetch.mjs`);

const SCOPE = "api://cctoken-demo/.default";
const BASIC = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString("base64")}`;
let https; // the token endpoint over TLS (certificate from the test CA)
let http; // the same over plain http (loopback, which the core allows)
let proxy; // open to all
let authProxy; // wants PROXY_USER:PROXY_PASSWORD

before(async () => {
  [https, http, proxy, authProxy] = await Promise.all([
    startTokenEndpoint({ tls: TLS }),
    startTokenEndpoint(),
    startProxy(),
    startProxy({ requireAuth: true }),
  ]);
});
after(() => Promise.all([https, http, proxy, authProxy].map((server) => server?.close())));
beforeEach(() => {
  for (const server of [https, http, proxy, authProxy]) server.reset();
});

const appEnv = (endpoint, extra) => ({
  AZURE_TENANT_ID: LOCAL_APP.tenantId,
  AZURE_CLIENT_ID: LOCAL_APP.clientId,
  AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret,
  AZURE_AUTHORITY_HOST: endpoint.url,
  NODE_EXTRA_CA_CERTS: CA_FILE,
  ...extra,
});
const cctoken = (endpoint, extra) => run(process.execPath, [BIN, "token", "--scope", SCOPE], appEnv(endpoint, extra));
const target = (endpoint) => endpoint.url.replace(/^https?:\/\//, "");
const tokenPath = `/${LOCAL_APP.tenantId}/oauth2/v2.0/token`;

function assertIssued(result, endpoint) {
  assert.equal(result.code, 0, result.stderr);
  assert.equal(endpoint.tokenRequests, 1);
  assert.equal(result.stdout, `${endpoint.requests.at(-1).accessToken}\n`);
}

test("HTTPS_PROXY: the token request goes through one CONNECT tunnel, with the proxy's basic auth", async () => {
  const result = await cctoken(https, { HTTPS_PROXY: withCredentials(authProxy.url) });
  assertIssued(result, https);
  assert.deepEqual(authProxy.connects, [{ target: target(https), authorization: BASIC }]);
  assert.deepEqual(authProxy.requests, []);
  assert.equal(https.requests[0].headers["proxy-authorization"], undefined, "the proxy's credentials stay with the proxy");
  assert.equal(https.requests[0].path, tokenPath);
  assert.equal(result.stderr, "");
});

test("HTTP_PROXY: a request to an http:// endpoint is sent to the proxy in absolute form", async () => {
  const result = await cctoken(http, { HTTP_PROXY: withCredentials(authProxy.url), HTTPS_PROXY: "http://127.0.0.1:9" });
  assertIssued(result, http);
  assert.deepEqual(authProxy.connects, []);
  assert.deepEqual(authProxy.requests, [{ method: "POST", target: `${http.url}${tokenPath}`, authorization: BASIC }]);
  assert.equal(http.requests[0].headers.host, target(http));
  assert.equal(http.requests[0].headers["proxy-authorization"], undefined);
  assert.match(http.requests[0].body, /^client_id=/, "the form arrives whole");
});

test("with Node's own NODE_USE_ENV_PROXY=1 as well: one CONNECT, and NO_PROXY still bypasses", async () => {
  const proxied = await cctoken(https, { HTTPS_PROXY: withCredentials(authProxy.url), NODE_USE_ENV_PROXY: "1" });
  assertIssued(proxied, https);
  assert.deepEqual(authProxy.connects, [{ target: target(https), authorization: BASIC }]);
  const direct = await cctoken(https, { HTTPS_PROXY: withCredentials(authProxy.url), NODE_USE_ENV_PROXY: "1", NO_PROXY: "*" });
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(https.tokenRequests, 2);
  assert.equal(authProxy.connects.length, 1);
});

test("lower-case proxy variables win over upper-case ones, as in curl and undici", async () => {
  const unreachable = `http://127.0.0.1:${await closedPort()}`;
  const result = await cctoken(https, { https_proxy: proxy.url, HTTPS_PROXY: unreachable });
  assertIssued(result, https);
  assert.equal(proxy.connects.length, 1);
  const noProxy = await cctoken(https, { HTTPS_PROXY: proxy.url, no_proxy: "127.0.0.1", NO_PROXY: "example.com" });
  assert.equal(noProxy.code, 0, noProxy.stderr);
  assert.equal(proxy.connects.length, 1, "no_proxy (lower case) sent the second run direct");
});

const BYPASSING = ["127.0.0.1", "*", "example.com, 127.0.0.1", "example.com 127.0.0.1", "127.0.0.1:<port>", "[::1]:1,127.0.0.1:<port>"];
for (const noProxy of BYPASSING) {
  test(`NO_PROXY=${JSON.stringify(noProxy)} sends the request straight to the endpoint`, async () => {
    const result = await cctoken(https, { HTTPS_PROXY: proxy.url, NO_PROXY: noProxy.replace("<port>", new URL(https.url).port) });
    assertIssued(result, https);
    assert.equal(proxy.count, 0);
  });
}

for (const noProxy of ["example.com", ".0.0.1", "127.0.0.10", "127.0.0.1:1", "localhost"]) {
  test(`NO_PROXY=${JSON.stringify(noProxy)} does not cover 127.0.0.1:port: proxied`, async () => {
    const result = await cctoken(https, { HTTPS_PROXY: proxy.url, NO_PROXY: noProxy });
    assertIssued(result, https);
    assert.equal(proxy.connects.length, 1);
  });
}

test("407 from the proxy: exit 4, the proxy and variable named, its password never printed", async () => {
  for (const credentials of [withCredentials(authProxy.url, PROXY_USER, `${PROXY_PASSWORD}-wrong`), authProxy.url]) {
    authProxy.reset();
    const result = await cctoken(https, { HTTPS_PROXY: credentials });
    assert.equal(result.code, 4, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, new RegExp(`the proxy ${authProxy.url} \\(from HTTPS_PROXY\\) refused to open a tunnel to ${target(https)} \\(407 Proxy Authentication Required\\): check the user and password in HTTPS_PROXY`));
    // A network error, so the core retries it (the proxy sees every attempt, none gets further).
    assert.ok(authProxy.connects.length >= 1 && authProxy.connects.every((c) => c.target === target(https)));
    assert.equal(https.tokenRequests, 0);
    assertNoCredentials(result);
  }
});

test("407 to an absolute-form request: the same error, not a token-endpoint refusal", async () => {
  const result = await cctoken(http, { HTTP_PROXY: withCredentials(authProxy.url, "someone-else") });
  assert.equal(result.code, 4, result.stderr);
  assert.match(result.stderr, /the proxy http:\/\/127\.0\.0\.1:\d+ \(from HTTP_PROXY\) asks for authentication \(407 Proxy Authentication Required\)/);
  assert.equal(http.tokenRequests, 0);
  assertNoCredentials(result);
});

test("403 from the proxy (its policy refuses the host): exit 4 with the status", async () => {
  const refusing = await startRefusingProxy(403, "Forbidden");
  try {
    const result = await cctoken(https, { HTTPS_PROXY: withCredentials(refusing.url) });
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /refused to open a tunnel to 127\.0\.0\.1:\d+ \(403 Forbidden\)\n/);
    assert.ok(refusing.connects >= 1);
    assert.equal(https.tokenRequests, 0);
    assertNoCredentials(result);
  } finally {
    await refusing.close();
  }
});

test("an unreachable proxy: exit 4, 'could not reach the proxy', no password", async () => {
  const port = await closedPort();
  const result = await cctoken(https, { HTTPS_PROXY: withCredentials(`http://127.0.0.1:${port}`) });
  assert.equal(result.code, 4, result.stderr);
  assert.match(result.stderr, new RegExp(`could not reach the proxy http://127\\.0\\.0\\.1:${port} \\(from HTTPS_PROXY\\) \\(ECONNREFUSED\\)`));
  assert.ok(result.stderr.endsWith(`\n  proxy: HTTPS_PROXY=http://127.0.0.1:${port}\n`), result.stderr);
  assert.equal(https.tokenRequests, 0);
  assertNoCredentials(result);
});

test("a proxy URL the CLI cannot use is a configuration error (exit 2) that does not quote it", async () => {
  for (const value of [`socks5://${PROXY_USER}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:1080`, `http://u:${encodeURIComponent(PROXY_PASSWORD)}@[bad`]) {
    const result = await cctoken(https, { HTTPS_PROXY: value });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^cctoken: HTTPS_PROXY is not a usable proxy URL: /);
    assert.equal(https.tokenRequests, 0);
    assertNoCredentials(result);
  }
});

function assertNoCredentials({ stdout, stderr }) {
  for (const secret of [PROXY_PASSWORD, encodeURIComponent(PROXY_PASSWORD), BASIC, BASIC.slice(6), LOCAL_APP.clientSecret]) {
    assert.ok(!stdout.includes(secret) && !stderr.includes(secret), "a credential was printed");
  }
}

test("the proxy-aware fetch: an abort closes the connection to the proxy and rejects with the signal's reason", { timeout: 10_000 }, async () => {
  // The endpoint holds the request open: only the abort can close the connection. (Plain
  // http, absolute form: this process does not trust the test CA.)
  http.failNext({ hang: true, beforeValidation: true });
  const fetch = createProxyFetch({ HTTP_PROXY: proxy.url }, () => assert.fail("must not go direct"));
  const controller = new AbortController();
  const forwarded = once(proxy.server, "request");
  const pending = fetch(`${http.authority}/oauth2/v2.0/token`, { method: "POST", body: "x=1", signal: controller.signal });
  const [request] = await forwarded;
  const closed = once(request.socket, "close");
  controller.abort(new Error("caller gave up"));
  await assert.rejects(pending, /caller gave up/);
  await closed;
});

test("NO_PROXY matching: `*`, suffixes with or without a dot, IP literals exactly, ports", () => {
  const cases = [
    ["*", "https://login.microsoftonline.com/x", true],
    ["microsoftonline.com", "https://login.microsoftonline.com/x", true],
    [".microsoftonline.com", "https://login.microsoftonline.com/x", true],
    ["*.microsoftonline.com", "https://login.microsoftonline.com/x", true],
    ["MicrosoftOnline.COM.", "https://LOGIN.microsoftonline.com./x", true],
    ["microsoftonline.com", "https://microsoftonline.com/x", true],
    ["online.com", "https://login.microsoftonline.com/x", false],
    ["login.microsoftonline.com:443", "https://login.microsoftonline.com/x", true],
    ["login.microsoftonline.com:8443", "https://login.microsoftonline.com/x", false],
    ["login.microsoftonline.com:80", "http://login.microsoftonline.com/x", true],
    ["10.0.0.1", "https://10.0.0.1/x", true],
    ["0.0.1", "https://10.0.0.1/x", false],
    ["10.0.0.1", "https://110.0.0.1/x", false],
    ["::1", "https://[::1]/x", true],
    ["[::1]:8443", "https://[::1]:8443/x", true],
    ["[::1]:8443", "https://[::1]/x", false],
    ["", "https://login.microsoftonline.com/x", false],
    [" , ,", "https://login.microsoftonline.com/x", false],
  ];
  for (const [noProxy, url, expected] of cases) {
    assert.equal(bypassesProxy(new URL(url), parseNoProxy(noProxy)), expected, `NO_PROXY=${JSON.stringify(noProxy)} for ${url}`);
  }
});

test("proxy URLs: scheme-less means http://, credentials percent-decoded (a stray % kept), default port 80", () => {
  const basic = (text) => `Basic ${Buffer.from(text).toString("base64")}`;
  assert.deepEqual(proxySettings({ https_proxy: "proxy.corp:3128" }).https, { host: "proxy.corp", port: 3128, source: "https_proxy", label: "http://proxy.corp:3128", authorization: undefined });
  assert.deepEqual(proxySettings({ HTTP_PROXY: "http://a%20b:p%zz@[::1]" }).http, { host: "::1", port: 80, source: "HTTP_PROXY", label: "http://[::1]", authorization: basic("a b:p%zz") });
  assert.equal(proxySettings({ HTTPS_PROXY: "http://user@proxy:8080" }).https.authorization, basic("user:"));
  assert.equal(proxySettings({ HTTPS_PROXY: "" }).https, undefined, "empty is unset");
  assert.throws(() => proxySettings({ HTTPS_PROXY: "https://u:hunter2-secret@proxy:443" }), (error) => error.code === "invalid_config" && !error.message.includes("hunter2"));
});

// The README's Node snippet (section "Behind a proxy"), run as written against the local
// endpoint through the proxy: undici's EnvHttpProxyAgent reads HTTPS_PROXY / NO_PROXY.
test("README: the Node snippet (undici's EnvHttpProxyAgent as the fetch option) goes through the proxy", async () => {
  const readme = readFileSync(`${PACKAGE_DIR}README.md`, "utf8");
  const section = readme.slice(readme.indexOf("### Behind a proxy"));
  const snippet = /```js\n([\s\S]*?EnvHttpProxyAgent[\s\S]*?)```/.exec(section)?.[1];
  assert.ok(snippet, "the README has the snippet");
  const dir = await mkdtemp(join(PACKAGE_DIR, "..", "..", "proxy-snippet-"));
  try {
    const file = join(dir, "snippet.mjs");
    await writeFile(file, `${snippet}\nprocess.stdout.write(token);\n`);
    const env = appEnv(https, { HTTPS_PROXY: withCredentials(authProxy.url) });
    const viaProxy = await run(process.execPath, [file], env);
    assert.equal(viaProxy.code, 0, viaProxy.stderr);
    assert.equal(viaProxy.stdout, https.requests[0].accessToken);
    assert.deepEqual(authProxy.connects, [{ target: target(https), authorization: BASIC }]);
    const direct = await run(process.execPath, [file], { ...env, NO_PROXY: "127.0.0.1" });
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(authProxy.connects.length, 1, "NO_PROXY bypassed the proxy");
    assert.equal(https.tokenRequests, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// Node's own switch: NODE_USE_ENV_PROXY=1 makes its global fetch honour the variables from
// Node 22.21 and 24; Node 20 ignores it, which is why the CLI carries its own.
const [major, minor] = process.versions.node.split(".").map(Number);
const envProxySupported = major >= 24 || (major === 22 && minor >= 21);
test(`NODE_USE_ENV_PROXY=1 with the library's default fetch: ${envProxySupported ? "honoured" : "ignored"} on Node ${process.versions.node}`, async () => {
  const script = `import { ConfidentialClient } from "cctoken";
const client = ConfidentialClient.fromEnvironment();
process.stdout.write((await client.acquireTokenForClient({ scopes: [${JSON.stringify(SCOPE)}] })).accessToken);`;
  const dir = await mkdtemp(join(PACKAGE_DIR, "..", "..", "proxy-env-"));
  try {
    await writeFile(join(dir, "acquire.mjs"), script);
    const result = await run(process.execPath, [join(dir, "acquire.mjs")], appEnv(https, { HTTPS_PROXY: proxy.url, NODE_USE_ENV_PROXY: "1" }));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, https.requests[0].accessToken);
    assert.equal(proxy.connects.length, envProxySupported ? 1 : 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
