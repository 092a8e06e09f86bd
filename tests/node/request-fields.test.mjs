// Request and option fields are checked by name: `signal` (the web platform's name) works as
// `abortSignal`, and any unknown field is refused with `invalid_config`, naming it and the
// closest known field, instead of being silently ignored. The JS cache-hit fast path answers
// only requests made of the fields it knows.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { BrokerClient, ConfidentialClient, adminConsentUrl } from "cctoken";
import { LOCAL_APP } from "../token-endpoint/server.mjs";
import { useLocalEndpoint } from "./local-endpoint.mjs";

const SCOPE = "api://cctoken-demo/.default";
const local = useLocalEndpoint();
const { newClient } = local;

/** Rejects (or throws) with invalid_config whose message names `name` and suggests `suggestion`. */
function unknownField(name, suggestion) {
  return (error) => {
    assert.equal(error.code, "invalid_config", error.message);
    assert.ok(error.message.includes(`unknown`) && error.message.includes(`"${name}"`), error.message);
    if (suggestion) assert.ok(error.message.includes(`did you mean "${suggestion}"?`), error.message);
    return true;
  };
}

/** A fetch answering token requests at once, and recording each body. */
function tokenFetch(bodies = []) {
  const fetch = async (url, init) => {
    bodies.push(init.body);
    return Response.json({ access_token: `token-${bodies.length}`, token_type: "Bearer", expires_in: 3600 });
  };
  return Object.assign(fetch, { bodies });
}

test("signal is accepted as abortSignal: an aborted signal rejects with aborted before any request", async () => {
  const client = newClient();
  const error = await client.acquireTokenForClient({ scopes: [SCOPE], signal: AbortSignal.abort() }).catch((e) => e);
  assert.equal(error.code, "aborted", error.message);
  assert.equal(local.endpoint.tokenRequests, 0);
  const header = await client.getAuthorizationHeader({ scopes: [SCOPE], signal: AbortSignal.abort() }).catch((e) => e);
  assert.equal(header.code, "aborted");
});

test("signal cancels a call in flight instead of letting it run to the total timeout", async () => {
  let started;
  const fetchStarted = new Promise((resolve) => (started = resolve));
  // Never answers; only the client's own abort of the attempt ends it.
  const fetch = (url, init) =>
    new Promise((resolve, reject) => {
      started();
      init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
  const client = newClient({ fetch, maxRetries: 0, attemptTimeoutMs: 2000, totalTimeoutMs: 2000 });
  const controller = new AbortController();
  const pending = client.acquireTokenForClient({ scopes: [SCOPE], signal: controller.signal }).catch((e) => e);
  await fetchStarted;
  controller.abort();
  const error = await pending;
  assert.equal(error.code, "aborted", `${error.code}: ${error.message}`);
});

test("abortSignal and signal together must be the same signal", async () => {
  const client = newClient({ fetch: tokenFetch() });
  const error = await client
    .acquireTokenForClient({ scopes: [SCOPE], abortSignal: new AbortController().signal, signal: new AbortController().signal })
    .catch((e) => e);
  assert.equal(error.code, "invalid_config");
  assert.equal(error.field, "signal");
  const shared = new AbortController().signal;
  assert.equal((await client.acquireTokenForClient({ scopes: [SCOPE], abortSignal: shared, signal: shared })).accessToken, "token-1");
  const notASignal = await client.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true, signal: 5000 }).catch((e) => e);
  assert.equal(notASignal.code, "invalid_config");
  assert.equal(notASignal.field, "signal");
  assert.match(notASignal.message, /signal must be an AbortSignal/);
});

test("unknown request fields are refused, naming the field and the closest known one", async () => {
  const client = newClient();
  await assert.rejects(client.acquireTokenForClient({ scopes: [SCOPE], scope: [SCOPE] }), unknownField("scope", "scopes"));
  await assert.rejects(client.acquireTokenForClient({ scopes: [SCOPE], abortSignl: AbortSignal.abort() }), unknownField("abortSignl", "abortSignal"));
  await assert.rejects(client.acquireTokenForClient({ scopes: [SCOPE], forcerefresh: true }), unknownField("forcerefresh", "forceRefresh"));
  await assert.rejects(client.acquireTokenForClient({ scopes: [SCOPE], timeout: 5000 }), (error) => {
    unknownField("timeout")(error);
    assert.match(error.message, /known: scopes, forceRefresh, claims, correlationId, extraBodyParameters, tenantId, authority, abortSignal, signal/);
    assert.equal(error.field, "request");
    return true;
  });
  await assert.rejects(client.getAuthorizationHeader({ scopes: [SCOPE], skipCache: true }), unknownField("skipCache"));
  assert.equal(local.endpoint.tokenRequests, 0, "refused before any request");
});

test("the JS fast path answers only requests whose fields it knows", async () => {
  const client = newClient();
  const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
  const live = new AbortController().signal;
  // Known fields: answered from the shortcut.
  for (const request of [{ scopes: [SCOPE] }, { scopes: [SCOPE], forceRefresh: false }, { scopes: [SCOPE], signal: live }, { scopes: [SCOPE], abortSignal: live, signal: live }]) {
    const hit = await client.acquireTokenForClient(request);
    assert.equal(hit.fromCache, true);
    assert.equal(hit.accessToken, first.accessToken);
  }
  // Anything else goes to the core, which refuses it.
  await assert.rejects(client.acquireTokenForClient({ scopes: [SCOPE], forceRefesh: true }), unknownField("forceRefesh", "forceRefresh"));
  await assert.rejects(client.acquireTokenForClient({ scopes: [SCOPE], signal: AbortSignal.abort() }), { code: "aborted" });
  await assert.rejects(client.acquireTokenForClient({ scopes: [SCOPE], signal: live, abortSignal: new AbortController().signal }), { code: "invalid_config", field: "signal" });
  await assert.rejects(client.acquireTokenForClient({ scopes: [SCOPE], signal: {} }), { code: "invalid_config", field: "signal" });
  assert.equal(local.endpoint.tokenRequests, 1);
});

test("the fast path's key cannot make a refused scope look like a cached scope set", async () => {
  const client = newClient({ authority: undefined, tokenEndpoint: local.endpoint.genericTokenEndpoint });
  const both = await client.acquireTokenForClient({ scopes: ["read", "write"] });
  assert.equal((await client.acquireTokenForClient({ scopes: ["read", "write"] })).accessToken, both.accessToken);
  await assert.rejects(client.acquireTokenForClient({ scopes: ["read\nwrite"] }), { code: "invalid_scope" });
  assert.equal(local.endpoint.tokenRequests, 1);
});

test("callApi takes the request fields and method, headers and body; its signal cancels the API call too", async () => {
  let apiCalls = 0;
  const controller = new AbortController();
  const fetch = async (url, init) => {
    if (String(url).startsWith("https://api.example.com/")) {
      apiCalls += 1;
      // Aborting only now: the token was acquired, and the API call is what gets cancelled.
      controller.abort();
      if (init.signal?.aborted) throw new DOMException("aborted", "AbortError");
      return new Response("served without honouring the signal");
    }
    return Response.json({ access_token: "t", token_type: "Bearer", expires_in: 3600 });
  };
  const client = newClient({ fetch });
  await assert.rejects(client.callApi("https://api.example.com/me", { scopes: [SCOPE], mode: "cors" }), unknownField("mode"));
  await assert.rejects(client.callApi("https://api.example.com/me", { scopes: [SCOPE], header: {} }), unknownField("header", "headers"));
  assert.equal(apiCalls, 0);
  const error = await client.callApi("https://api.example.com/me", { scopes: [SCOPE], method: "GET", headers: { accept: "text/plain" }, signal: controller.signal }).catch((e) => e);
  assert.equal(apiCalls, 1);
  assert.equal(error.code, "aborted", error.message ?? String(error));
});

test("BrokerClient: forceRefresh reaches the broker, signal is accepted, other fields are refused", async () => {
  const fetch = tokenFetch();
  const broker = new BrokerClient({ url: "http://127.0.0.1:9", callerId: "jobs", key: "broker-key", fetch });
  const scope = encodeURIComponent(SCOPE);
  assert.equal((await broker.acquireToken({ scopes: [SCOPE] })).accessToken, "token-1");
  const forced = await broker.acquireToken({ scopes: [SCOPE], forceRefresh: true, signal: new AbortController().signal });
  assert.equal(forced.accessToken, "token-2");
  assert.deepEqual(fetch.bodies, [`scope=${scope}&grant_type=client_credentials`, `scope=${scope}&grant_type=client_credentials&force_refresh=true`]);
  // The forced token replaced the old one in the job's cache too.
  const after = await broker.acquireToken({ scopes: [SCOPE] });
  assert.equal(after.accessToken, "token-2");
  assert.equal(after.fromCache, true);
  await assert.rejects(broker.acquireToken({ scopes: [SCOPE], signal: AbortSignal.abort() }), { code: "aborted" });
  await assert.rejects(broker.acquireToken({ scopes: [SCOPE], claims: "{}" }), unknownField("claims"));
  await assert.rejects(broker.acquireToken({ scopes: [SCOPE], forceRefesh: true }), unknownField("forceRefesh", "forceRefresh"));
  assert.equal(fetch.bodies.length, 2);
});

test("unknown constructor options are refused, pointing at where a misplaced one belongs", () => {
  const base = { clientId: LOCAL_APP.clientId, authority: local.endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret } };
  assert.throws(() => new ConfidentialClient({ ...base, clientSecret: "s" }), (e) => unknownField("clientSecret", "credential.clientSecret")(e) && e.field === "options");
  assert.throws(() => new ConfidentialClient({ ...base, maxRetry: 1 }), unknownField("maxRetry", "maxRetries"));
  assert.throws(() => new ConfidentialClient({ ...base, scopes: [SCOPE] }), unknownField("scopes"));
  assert.throws(() => new ConfidentialClient({ ...base, credential: { clientSecert: "s" } }), (e) => unknownField("clientSecert", "clientSecret")(e) && e.field === "credential");
  assert.throws(
    () => new ConfidentialClient({ ...base, credential: { certificate: { privateKeyPem: "x", certificatePEM: "y" } } }),
    (e) => unknownField("certificatePEM", "certificatePem")(e) && e.field === "credential.certificate",
  );
  assert.throws(() => new BrokerClient({ url: "https://broker.example.com", callerId: "jobs", key: "k", secret: "k" }), unknownField("secret"));
  assert.throws(() => adminConsentUrl({ tenant: "t", clientId: "c", authority: "https://login.microsoftonline.com/t" }), unknownField("authority", "authorityHost"));
  // Only names are ever quoted back, and only when they look like names.
  assert.throws(() => new ConfidentialClient({ ...base, "sk-live 0123456789abcdef": true }), (e) => e.code === "invalid_config" && !e.message.includes("0123456789abcdef"));
  assert.ok(new ConfidentialClient({ ...base, maxRetries: undefined, fetch: undefined }), "known options set to undefined are fine");
});

test("fromEnvironment overrides are checked like options", () => {
  const saved = { tenant: process.env.AZURE_TENANT_ID, client: process.env.AZURE_CLIENT_ID, secret: process.env.AZURE_CLIENT_SECRET };
  Object.assign(process.env, { AZURE_TENANT_ID: LOCAL_APP.tenantId, AZURE_CLIENT_ID: LOCAL_APP.clientId, AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret });
  try {
    assert.throws(() => ConfidentialClient.fromEnvironment({ maxRetry: 0 }), (e) => unknownField("maxRetry", "maxRetries")(e) && e.field === "overrides");
    assert.throws(() => ConfidentialClient.fromEnvironment(JSON.parse('{"__proto__": {"fetch": 1}}')), unknownField("__proto__"));
    assert.ok(ConfidentialClient.fromEnvironment({ maxRetries: 0 }));
  } finally {
    for (const [name, value] of [["AZURE_TENANT_ID", saved.tenant], ["AZURE_CLIENT_ID", saved.client], ["AZURE_CLIENT_SECRET", saved.secret]]) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test("options are an object's own string-keyed properties, enumerable or not, whatever its prototype", async () => {
  const fields = { clientId: LOCAL_APP.clientId, authority: local.endpoint.authority, fetch: tokenFetch() };
  // No prototype at all, with the credential behind a getter.
  const bare = Object.assign(Object.create(null), fields);
  Object.defineProperty(bare, "credential", { enumerable: true, get: () => ({ clientSecret: LOCAL_APP.clientSecret }) });
  assert.equal((await new ConfidentialClient(bare).acquireTokenForClient({ scopes: [SCOPE] })).accessToken, "token-1");
  // A Symbol key is no option; an option inherited from a class is none either.
  class Options {
    get credential() {
      return { clientSecret: "inherited" };
    }
  }
  assert.ok(new ConfidentialClient({ ...fields, [Symbol("extra")]: true, credential: { clientSecret: "s" } }));
  assert.throws(() => new ConfidentialClient(Object.assign(new Options(), fields)), { code: "invalid_config", field: "credential" });
  // A throwing getter reads as not given.
  const throwing = Object.defineProperty({ ...fields, credential: { clientSecret: "s" } }, "maxRetries", { enumerable: true, get: () => { throw new Error("no"); } });
  assert.ok(new ConfidentialClient(throwing));
  // An own option is used whether or not it is enumerable: a fetch given with
  // Object.defineProperty must not be passed over for the global fetch (which would send the
  // credential to the authority's real host), and an unknown one is refused like any other.
  let customFetchCalls = 0;
  const hidden = { clientId: LOCAL_APP.clientId, authority: local.endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret } };
  const inner = tokenFetch();
  Object.defineProperty(hidden, "fetch", { value: (...args) => ((customFetchCalls += 1), inner(...args)) });
  assert.equal((await new ConfidentialClient(hidden).acquireTokenForClient({ scopes: [SCOPE] })).accessToken, "token-1");
  assert.equal(customFetchCalls, 1);
  assert.throws(() => new ConfidentialClient(Object.defineProperty({ ...fields, credential: { clientSecret: "s" } }, "maxRetry", { value: 1 })), {
    code: "invalid_config",
    message: /maxRetry.*maxRetries/,
  });
  // A request's getter is read once.
  let reads = 0;
  const request = Object.defineProperty({ forceRefresh: true }, "scopes", { enumerable: true, get: () => (reads += 1, [SCOPE]) });
  await new ConfidentialClient({ ...fields, credential: { clientSecret: "s" } }).acquireTokenForClient(request);
  assert.equal(reads, 1);
});
