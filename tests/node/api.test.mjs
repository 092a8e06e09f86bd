// fromEnvironment, fromConfigFile, getAuthorizationHeader and callApi, against the local
// token endpoint and a small protected API on 127.0.0.1.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { createPublicKey, X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { BrokerClient, ClientCredentialError, ConfidentialClient, loadConfigFile } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "./fixtures.mjs";
import { nowSeconds, signJws } from "./jws.mjs";

const SCOPE = "api://cctoken-demo/.default";
const CERT_APP = "33333333-0000-4000-8000-0000000000c3";
const FEDERATED_APP = "44444444-0000-4000-8000-0000000000c4";
const FEDERATED_KID = "federated-ec-1";
const CLAIMS = JSON.stringify({ access_token: { nbf: { essential: true, value: "1700000000" } } });
let endpoint;
let api;
let dir;

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: {
      [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret },
      [CERT_APP]: { certificates: [FIXTURES.rsaCert], keys: [] },
      [FEDERATED_APP]: { keys: [{ kid: FEDERATED_KID, publicKeyPem: createPublicKey(FIXTURES.ecKey).export({ type: "spki", format: "pem" }) }] },
    },
  });
  api = await startProtectedApi();
  dir = mkdtempSync(join(tmpdir(), "cctoken-api-"));
});
after(async () => {
  await api.close();
  await endpoint.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  endpoint.reset();
  api.requests.length = 0;
});

const AZURE_VARS = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"];

function withEnv(vars, body) {
  const saved = Object.fromEntries(AZURE_VARS.map((k) => [k, process.env[k]]));
  for (const k of AZURE_VARS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return body();
  } finally {
    for (const k of AZURE_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

const secretClient = () =>
  new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret } });

test("fromEnvironment: secret, certificate file, and a federated token file read afresh", async () => {
  const base = { AZURE_TENANT_ID: LOCAL_APP.tenantId, AZURE_AUTHORITY_HOST: endpoint.url };
  const bySecret = withEnv({ ...base, AZURE_CLIENT_ID: LOCAL_APP.clientId, AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret }, () =>
    ConfidentialClient.fromEnvironment());
  assert.ok(bySecret instanceof ConfidentialClient, "the package's class, with its fast path");
  assert.equal((await bySecret.acquireTokenForClient({ scopes: [SCOPE] })).tenantId, LOCAL_APP.tenantId);
  assert.equal((await bySecret.acquireTokenForClient({ scopes: [SCOPE] })).fromCache, true);

  const pem = join(dir, "combined.pem");
  writeFileSync(pem, `${FIXTURES.rsaCert}\n${FIXTURES.rsaKey}`);
  const byCertificate = withEnv({ ...base, AZURE_CLIENT_ID: CERT_APP, AZURE_CLIENT_CERTIFICATE_PATH: pem, AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: "true" }, () =>
    ConfidentialClient.fromEnvironment({ maxRetries: 0 }));
  await byCertificate.acquireTokenForClient({ scopes: [SCOPE] });
  const assertion = new URLSearchParams(endpoint.requests[1].body).get("client_assertion");
  assert.equal(endpoint.requests[1].status, 200);
  assert.deepEqual(
    JSON.parse(Buffer.from(assertion.split(".")[0], "base64url")).x5c,
    [new X509Certificate(FIXTURES.rsaCert).raw.toString("base64")],
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN adds x5c: the certificate, base64 DER",
  );
});

test("fromEnvironment: a federated token file, read afresh for each request, through the local endpoint", async () => {
  // Signed with the key registered for the app, as a federated identity provider signs
  // the token a platform writes to AZURE_FEDERATED_TOKEN_FILE.
  const tokenUrl = `${endpoint.authority}/oauth2/v2.0/token`;
  const federatedToken = (jti) =>
    signJws({ alg: "ES256", kid: FEDERATED_KID }, { aud: tokenUrl, iss: FEDERATED_APP, sub: FEDERATED_APP, jti, iat: nowSeconds(), nbf: nowSeconds(), exp: nowSeconds() + 600 });
  const tokenFile = join(dir, "federated-token");
  const first = await federatedToken("federated-1");
  writeFileSync(tokenFile, `${first}\n`);
  const env = { AZURE_TENANT_ID: LOCAL_APP.tenantId, AZURE_AUTHORITY_HOST: endpoint.url, AZURE_CLIENT_ID: FEDERATED_APP, AZURE_FEDERATED_TOKEN_FILE: tokenFile };
  const byFile = withEnv(env, () => ConfidentialClient.fromEnvironment({ maxRetries: 0 }));
  const sent = () => new URLSearchParams(endpoint.requests.at(-1).body);

  const one = await byFile.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(one.accessToken, endpoint.requests[0].accessToken);
  assert.equal(sent().get("client_id"), FEDERATED_APP);
  assert.equal(sent().get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  assert.equal(sent().get("client_assertion"), first, "the file's token, without its newline");
  assert.equal((await byFile.acquireTokenForClient({ scopes: [SCOPE] })).fromCache, true);

  const second = await federatedToken("federated-2");
  writeFileSync(tokenFile, `${second}\n`);
  const two = await byFile.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
  assert.equal(sent().get("client_assertion"), second, "the rewritten file was read again");
  assert.equal(two.accessToken, endpoint.requests[1].accessToken);

  // The file left as it is: the endpoint refuses the replayed token, as Entra would.
  const replayed = await byFile.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true }).catch((e) => e);
  assert.equal(replayed.code, "invalid_client");
  assert.deepEqual(replayed.aadsts, [700210]);
  assert.deepEqual(endpoint.requests.map((r) => r.status), [200, 200, 401]);
});

test("a federated token file holding no JWT: refused by the endpoint, its text in no error", async () => {
  const tokenFile = join(dir, "federated-garbage");
  // A canary the leak scan knows (tests/leaks/scan.mjs): any 16 characters of it in any output fail the suite.
  writeFileSync(tokenFile, "federated-canary-token-5b7e-not-a-jwt\n");
  const env = { AZURE_TENANT_ID: LOCAL_APP.tenantId, AZURE_AUTHORITY_HOST: endpoint.url, AZURE_CLIENT_ID: FEDERATED_APP, AZURE_FEDERATED_TOKEN_FILE: tokenFile };
  const byFile = withEnv(env, () => ConfidentialClient.fromEnvironment({ maxRetries: 0 }));
  const error = await byFile.acquireTokenForClient({ scopes: [SCOPE] }).catch((e) => e);
  assert.equal(error.code, "invalid_client");
  assert.equal(new URLSearchParams(endpoint.requests[0].body).get("client_assertion"), "federated-canary-token-5b7e-not-a-jwt");
  const shown = `${error.message} ${error.hint ?? ""} ${error.description ?? ""} ${JSON.stringify(error)} ${String(error)}`;
  for (let at = 0; at + 16 <= "federated-canary-token-5b7e-not-a-jwt".length; at += 1) {
    assert.ok(!shown.includes("federated-canary-token-5b7e-not-a-jwt".slice(at, at + 16)), shown);
  }
});

test("fromEnvironment explains what is missing, and refuses encrypted certificates", () => {
  withEnv({}, () => assert.throws(() => ConfidentialClient.fromEnvironment(), { code: "invalid_config", field: "AZURE_TENANT_ID" }));
  withEnv({ AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c" }, () =>
    assert.throws(() => ConfidentialClient.fromEnvironment(), (e) => e.field === "AZURE_CLIENT_SECRET" && /AZURE_FEDERATED_TOKEN_FILE/.test(e.message)));
  withEnv({ AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_CERTIFICATE_PATH: "/x.pfx", AZURE_CLIENT_CERTIFICATE_PASSWORD: "pw" }, () =>
    assert.throws(() => ConfidentialClient.fromEnvironment(), /encrypted keys are not supported; convert|encrypted keys are not supported: convert/));
  withEnv({ AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "missing.pem") }, () =>
    assert.throws(() => ConfidentialClient.fromEnvironment(), /cannot read .*missing\.pem/));
});

test("fromConfigFile and loadConfigFile", async () => {
  const appsettings = join(dir, "appsettings.json");
  writeFileSync(appsettings, `{
  /* Microsoft.Identity.Web */
  "AzureAd": { "Instance": "${endpoint.url}", "TenantId": "${LOCAL_APP.tenantDomain}", "ClientId": "${LOCAL_APP.clientId}", "ClientSecret": "${LOCAL_APP.clientSecret}" }, // secret inline
}`);
  const client = ConfidentialClient.fromConfigFile(appsettings);
  assert.equal((await client.acquireTokenForClient({ scopes: [SCOPE] })).tenantId, LOCAL_APP.tenantDomain);

  const msal = join(dir, "msal.json");
  writeFileSync(msal, JSON.stringify({ authority: endpoint.authority, client_id: LOCAL_APP.clientId, secret: LOCAL_APP.clientSecret, scope: [SCOPE] }));
  const loaded = loadConfigFile(msal);
  assert.deepEqual(loaded.scopes, [SCOPE]);
  assert.equal(loaded.options.authority, endpoint.authority);

  const unknown = join(dir, "unknown.json");
  writeFileSync(unknown, JSON.stringify({ tenant: "x", app: "y" }));
  assert.throws(() => ConfidentialClient.fromConfigFile(unknown), (e) => {
    assert.ok(e instanceof ClientCredentialError);
    assert.equal(e.code, "invalid_config");
    assert.match(e.message, /unrecognised config file: expected an ASP\.NET appsettings\.json/);
    return true;
  });
  assert.throws(() => ConfidentialClient.fromConfigFile(join(dir, "none.json")), { code: "invalid_config", field: "configFile" });
});

test("getAuthorizationHeader", async () => {
  const client = secretClient();
  const header = await client.getAuthorizationHeader({ scopes: [SCOPE] });
  assert.equal(header, `Bearer ${endpoint.requests[0].accessToken}`);
  assert.equal(await client.getAuthorizationHeader({ scopes: [SCOPE] }), header, "from the cache");
  assert.equal(endpoint.tokenRequests, 1);
});

test("callApi adds the token and returns the API's Response", async () => {
  const client = secretClient();
  const response = await client.callApi(`${api.url}/me`, { scopes: [SCOPE], headers: { "x-trace": "1" } });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ok: true });
  const [seen] = api.requests;
  assert.equal(seen.authorization, `Bearer ${endpoint.requests[0].accessToken}`);
  assert.equal(seen.trace, "1");
  const post = await client.callApi(`${api.url}/echo`, { scopes: [SCOPE], method: "POST", body: "hello" });
  assert.equal(await post.text(), "hello");
  assert.equal(endpoint.tokenRequests, 1, "the token was cached between calls");
});

test("callApi answers a claims challenge with one retry carrying the claims", async () => {
  const response = await secretClient().callApi(`${api.url}/claims`, { scopes: [SCOPE] });
  assert.equal(response.status, 200);
  assert.equal(api.requests.length, 2);
  const lastTokenRequest = new URLSearchParams(endpoint.requests.at(-1).body);
  assert.equal(lastTokenRequest.get("claims"), CLAIMS);
});

test("clientCapabilities: every token request carries the xms_cc claims request, merged with a challenge callApi answers", async () => {
  const CP1 = '{"access_token":{"xms_cc":{"values":["cp1"]}}}';
  const client = new ConfidentialClient({
    clientId: LOCAL_APP.clientId,
    authority: endpoint.authority,
    credential: { clientSecret: LOCAL_APP.clientSecret },
    clientCapabilities: ["cp1"],
  });
  const claimsSent = () => endpoint.requests.map((r) => new URLSearchParams(r.body).get("claims"));
  const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.deepEqual(claimsSent(), [CP1]);
  assert.ok(endpoint.requests[0].body.endsWith("&claims=%7B%22access_token%22%3A%7B%22xms_cc%22%3A%7B%22values%22%3A%5B%22cp1%22%5D%7D%7D%7D"));
  const again = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(again.fromCache, true, "tokens asked for with the capabilities alone are cached");
  assert.equal(again.accessToken, first.accessToken);

  // The API's challenge ({"access_token":{"nbf":…}}) is merged with the capabilities: both
  // access_token members are sent, and the challenge's token skips the cache.
  const response = await client.callApi(`${api.url}/claims`, { scopes: [SCOPE] });
  assert.equal(response.status, 200);
  assert.deepEqual(claimsSent(), [
    CP1,
    '{"access_token":{"nbf":{"essential":true,"value":"1700000000"},"xms_cc":{"values":["cp1"]}}}',
  ]);
  assert.equal(api.requests.length, 2, "the first call with the cached token, the retry with the new one");
  assert.equal((await client.acquireTokenForClient({ scopes: [SCOPE] })).accessToken, first.accessToken, "the cached token stays");

  // A request's own challenge must then be a JSON object: refused before any request, not quoted.
  const error = await client.acquireTokenForClient({ scopes: [SCOPE], claims: "not-json-s3cr3t" }).catch((e) => e);
  assert.ok(error instanceof ClientCredentialError);
  assert.equal(error.code, "invalid_config");
  assert.equal(error.field, "claims");
  assert.ok(!error.message.includes("s3cr3t"));
  assert.equal(endpoint.tokenRequests, 2);

  for (const clientCapabilities of ["cp1", [1], ["cp 1"]]) {
    assert.throws(
      () => new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: "s" }, clientCapabilities }),
      { code: "invalid_config", field: "clientCapabilities" },
    );
  }
  assert.throws(
    () => new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: "s" }, clientCapability: ["cp1"] }),
    { code: "invalid_config", message: 'invalid_config: unknown option "clientCapability": did you mean "clientCapabilities"?' },
  );
});

test("callApi turns Graph's Authorization_RequestDenied into insufficient_privileges with the consent URL", async () => {
  const error = await secretClient().callApi(`${api.url}/forbidden`, { scopes: [SCOPE] }).catch((e) => e);
  assert.ok(error instanceof ClientCredentialError);
  assert.equal(error.code, "insufficient_privileges");
  assert.equal(error.status, 403);
  assert.ok(error.hint.includes(`/${LOCAL_APP.tenantId}/adminconsent?client_id=${LOCAL_APP.clientId}`));
  const other = await secretClient().callApi(`${api.url}/plain-403`, { scopes: [SCOPE] });
  assert.equal(other.status, 403, "other 403s are returned as they are");
});

test("callApi's errors show the URL as scheme://host/path: never its query (a SAS signature, a key) nor a password", async () => {
  const canary = "SAS-sig-canary";
  const denied = await secretClient().callApi(`${api.url}/forbidden?sig=${canary}`, { scopes: [SCOPE] }).catch((e) => e);
  assert.equal(denied.code, "insufficient_privileges");
  assert.ok(denied.message.includes(`${api.url}/forbidden answered 403`) && !denied.message.includes(canary), denied.message);
  assert.equal(api.requests.at(-1).path, `/forbidden?sig=${canary}`, "the API got the whole URL");
  const closed = createServer();
  await new Promise((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const down = `http://127.0.0.1:${closed.address().port}`;
  await new Promise((resolve) => closed.close(resolve));
  for (const url of [`${down}/x?sig=${canary}#${canary}`, `http://alice:${canary}@127.0.0.1:${new URL(down).port}/x`]) {
    const error = await secretClient().callApi(url, { scopes: [SCOPE] }).catch((e) => e);
    assert.ok(error instanceof ClientCredentialError, String(error));
    assert.equal(error.code, "network_error");
    assert.ok(error.message.includes(`could not reach ${down}/x: `), error.message);
    assert.ok(!JSON.stringify({ message: error.message, ...error }).includes(canary), error.message);
  }
});

async function startProtectedApi() {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      requests.push({ path: req.url, authorization: req.headers.authorization, trace: req.headers["x-trace"] });
      const json = (status, body, headers = {}) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.url === "/me") return json(200, { ok: true });
      if (req.url === "/echo") return res.end(Buffer.concat(chunks));
      if (req.url === "/claims") {
        if (requests.filter((r) => r.path === "/claims").length === 1) {
          const challenge = `Bearer realm="", error="insufficient_claims", claims="${Buffer.from(CLAIMS).toString("base64")}"`;
          return json(401, { error: "insufficient_claims" }, { "www-authenticate": challenge });
        }
        return json(200, { ok: true });
      }
      if (req.url.split("?")[0] === "/forbidden") {
        return json(403, { error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." } });
      }
      return json(403, { error: { code: "Forbidden" } });
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

test("BrokerClient names its own url option when the URL is unusable", () => {
  for (const url of ["http://broker.example.com", "https://user:pw@broker.example.com", "broker.example.com"]) {
    assert.throws(
      () => new BrokerClient({ url, callerId: "jobs", key: "k" }),
      (e) => e instanceof ClientCredentialError && e.field === "url" && /\burl (is not a usable URL|must use https)/.test(e.message),
      url,
    );
  }
});

test("BrokerClient with a usable URL asks that broker, and only it", async () => {
  const urls = [];
  const fetch = async (url, init) => {
    urls.push(`${init.method} ${url} ${new Headers(init.headers).get("authorization")}`);
    return Response.json({ access_token: "brokered-token", token_type: "Bearer", expires_in: 3600 });
  };
  const broker = new BrokerClient({ url: "https://broker.example.com/", callerId: "jobs", key: "k", fetch });
  assert.ok(broker instanceof BrokerClient);
  const result = await broker.acquireToken({ scopes: [SCOPE] });
  assert.equal(result.accessToken, "brokered-token");
  assert.deepEqual(urls, [`POST https://broker.example.com/token Basic ${btoa("jobs:k")}`]);
});
