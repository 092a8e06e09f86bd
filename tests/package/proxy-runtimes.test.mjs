// The CLI behind a proxy on Deno and Bun, run as their users run it (`deno run -A`, `bun`). On
// Bun the CLI leaves proxying to Bun's fetch; on Deno it tunnels itself (Deno's fetch leaks the
// proxy's credentials, pinned below). Through a real local proxy: the token request goes through
// it (CONNECT with basic auth, or absolute form), NO_PROXY sends it direct, lower-case names
// win, refusals are exit 4 with the proxy settings named and the password never printed.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import {
  BIN, CA_FILE, PROXY_PASSWORD, PROXY_USER, TLS,
  closedPort, run, startProxy, startRefusingProxy, withCredentials,
} from "./proxy-harness.mjs";

const SCOPE = "api://cctoken-demo/.default";
const BASIC = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString("base64")}`;
const RUNTIMES = {
  // Deno trusts DENO_CERT, Bun NODE_EXTRA_CA_CERTS; each is given only its own.
  deno: (args, env) => run("deno", ["run", "-A", BIN, ...args], { DENO_CERT: CA_FILE, ...env }),
  bun: (args, env) => run("bun", [BIN, ...args], { NODE_EXTRA_CA_CERTS: CA_FILE, ...env }),
};
let https;
let http;
let proxy;
let authProxy;

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

const target = (endpoint) => endpoint.url.replace(/^https?:\/\//, "");
const tokenPath = `/${LOCAL_APP.tenantId}/oauth2/v2.0/token`;

function assertIssued(result, endpoint) {
  assert.equal(result.code, 0, result.stderr);
  assert.equal(endpoint.tokenRequests, 1);
  assert.equal(result.stdout, `${endpoint.requests.at(-1).accessToken}\n`);
}

function assertNoCredentials({ stdout, stderr }) {
  for (const secret of [PROXY_PASSWORD, encodeURIComponent(PROXY_PASSWORD), BASIC, BASIC.slice(6), LOCAL_APP.clientSecret]) {
    assert.ok(!stdout.includes(secret) && !stderr.includes(secret), "a credential was printed");
  }
}

for (const [runtime, launch] of Object.entries(RUNTIMES)) {
  const cctoken = (endpoint, extra) =>
    launch(["token", "--scope", SCOPE], {
      AZURE_TENANT_ID: LOCAL_APP.tenantId,
      AZURE_CLIENT_ID: LOCAL_APP.clientId,
      AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret,
      AZURE_AUTHORITY_HOST: endpoint.url,
      ...extra,
    });

  test(`${runtime}: HTTPS_PROXY carries the token request in a CONNECT tunnel with basic auth`, async () => {
    const result = await cctoken(https, { HTTPS_PROXY: withCredentials(authProxy.url) });
    assertIssued(result, https);
    assert.deepEqual(authProxy.connects, [{ target: target(https), authorization: BASIC }]);
    assert.equal(https.requests[0].headers["proxy-authorization"], undefined);
  });

  test(`${runtime}: HTTP_PROXY sends a request for an http:// endpoint in absolute form`, async () => {
    const result = await cctoken(http, { HTTP_PROXY: withCredentials(authProxy.url) });
    assertIssued(result, http);
    assert.deepEqual(authProxy.requests, [{ method: "POST", target: `${http.url}${tokenPath}`, authorization: BASIC }]);
    assert.deepEqual(authProxy.connects, []);
  });

  for (const noProxy of ["127.0.0.1", "*", "example.com, 127.0.0.1", ".example.com 127.0.0.1", "127.0.0.1:<port>"]) {
    test(`${runtime}: NO_PROXY=${JSON.stringify(noProxy)} sends it straight to the endpoint`, async () => {
      const result = await cctoken(https, { HTTPS_PROXY: proxy.url, NO_PROXY: noProxy.replace("<port>", new URL(https.url).port) });
      assertIssued(result, https);
      assert.equal(proxy.count, 0);
    });
  }

  test(`${runtime}: lower-case names win over upper-case ones`, async () => {
    const unreachable = `http://127.0.0.1:${await closedPort()}`;
    const proxied = await cctoken(https, { https_proxy: proxy.url, HTTPS_PROXY: unreachable });
    assertIssued(proxied, https);
    assert.equal(proxy.connects.length, 1);
    const direct = await cctoken(https, { HTTPS_PROXY: proxy.url, no_proxy: "127.0.0.1", NO_PROXY: "example.com" });
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(proxy.connects.length, 1, "no_proxy sent the second run direct");
  });

  test(`${runtime}: NO_PROXY=example.com leaves 127.0.0.1 proxied (loopback is not exempt by default)`, async () => {
    const result = await cctoken(https, { HTTPS_PROXY: proxy.url, NO_PROXY: "example.com" });
    assertIssued(result, https);
    assert.equal(proxy.connects.length, 1);
  });

  test(`${runtime}: 407 from the proxy is exit 4, with the proxy settings and without the password`, async () => {
    const result = await cctoken(https, { HTTPS_PROXY: withCredentials(authProxy.url, PROXY_USER, `${PROXY_PASSWORD}-wrong`) });
    assert.equal(result.code, 4, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^cctoken: network_error: could not reach the token endpoint https:\/\/127\.0\.0\.1:\d+\/[^ ]+: .*(407|proxy authentication required)/i);
    assert.ok(result.stderr.includes(`\n  proxy: HTTPS_PROXY=${authProxy.url}\n`), result.stderr);
    assert.ok(authProxy.connects.length >= 1);
    assert.equal(https.tokenRequests, 0);
    assertNoCredentials(result);
  });

  test(`${runtime}: a proxy that refuses the host (403) or cannot be reached is exit 4`, async () => {
    const refusing = await startRefusingProxy(403, "Forbidden");
    const unreachable = `http://127.0.0.1:${await closedPort()}`;
    try {
      for (const [url, proxyOf] of [[refusing.url, () => refusing.connects], [unreachable, () => 0]]) {
        const result = await cctoken(https, { https_proxy: withCredentials(url), NO_PROXY: "example.com" });
        assert.equal(result.code, 4, result.stderr);
        assert.ok(result.stderr.includes(`\n  proxy: https_proxy=${url}, NO_PROXY=example.com\n`), result.stderr);
        assert.equal(https.tokenRequests, 0);
        assertNoCredentials(result);
        if (url === refusing.url) assert.ok(proxyOf() >= 1, "the refusing proxy was asked");
      }
    } finally {
      await refusing.close();
    }
  });
}

// Why the CLI does not leave proxying to Deno's own fetch (Deno 2.9.6): it sends the proxy's
// Proxy-Authorization on to the server inside the CONNECT tunnel, and ignores NO_PROXY=*.
// When this fails, Deno has fixed them: the CLI could leave Deno's fetch alone, as on Bun.
test("deno's own fetch: forwards Proxy-Authorization to the server, ignores NO_PROXY=*", async () => {
  const script = `const response = await fetch(${JSON.stringify(`${https.url}/probe`)}); await response.body?.cancel(); console.log(response.status);`;
  const result = await run("deno", ["eval", script], { DENO_CERT: CA_FILE, HTTPS_PROXY: withCredentials(proxy.url), NO_PROXY: "*" });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(proxy.connects.length, 1, "NO_PROXY=* ignored");
  assert.equal(https.requests[0].headers["proxy-authorization"], BASIC, "the proxy's credentials reached the server");
});
