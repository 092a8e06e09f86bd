// What README "Errors" promises beyond the code: `correlationId` on network_error, timeout and
// aborted (the id sent as client-request-id, so a failed call can be traced), crypto_error when
// WebCrypto cannot import the key or sign, and the admin-consent hints for 650056 and 650057.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { ConfidentialClient, adminConsentUrl } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "./fixtures.mjs";

const SCOPE = "api://cctoken-errors/.default";
const CERT_APP = "88888888-0000-4000-8000-0000000000e8";
const CORRELATION_ID = "5ca1ab1e-0000-4000-8000-00000000c1d0";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let endpoint;

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret }, [CERT_APP]: { certificates: [FIXTURES.rsaCert] } },
  });
});
after(() => endpoint.close());
beforeEach(() => endpoint.reset());

const client = (options = {}) =>
  new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret }, maxRetries: 0, ...options });
const failure = (promise) => promise.then((r) => assert.fail(`expected an error, got a token (fromCache ${r.fromCache})`), (e) => e);

/** Resolves once the endpoint has received `count` token requests. */
async function requestsArrived(count) {
  for (let i = 0; i < 1500 && endpoint.tokenRequests < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(endpoint.tokenRequests, count, "the request reached the endpoint");
}

test("network_error carries the correlationId given, or the one generated", async () => {
  const stopped = await startTokenEndpoint();
  await stopped.close();
  const unreachable = client({ authority: stopped.authority });
  const given = await failure(unreachable.acquireTokenForClient({ scopes: [SCOPE], correlationId: CORRELATION_ID }));
  assert.equal(given.code, "network_error");
  assert.equal(given.correlationId, CORRELATION_ID);
  const generated = await failure(unreachable.acquireTokenForClient({ scopes: [SCOPE] }));
  assert.equal(generated.code, "network_error");
  assert.match(generated.correlationId, UUID);
});

test("timeout carries the correlationId the endpoint saw as client-request-id", async () => {
  endpoint.failAll({ hang: true });
  const error = await failure(client({ attemptTimeoutMs: 100 }).acquireTokenForClient({ scopes: [SCOPE], correlationId: CORRELATION_ID }));
  assert.equal(error.code, "timeout");
  assert.equal(error.correlationId, CORRELATION_ID);
  assert.equal(endpoint.requests[0].headers["client-request-id"], CORRELATION_ID);

  endpoint.reset();
  endpoint.failAll({ hang: true });
  const generated = await failure(client({ attemptTimeoutMs: 100 }).acquireTokenForClient({ scopes: [SCOPE] }));
  assert.equal(generated.code, "timeout");
  assert.match(generated.correlationId, UUID);
  assert.equal(generated.correlationId, endpoint.requests[0].headers["client-request-id"]);
});

// Found by these tests: `aborted` errors carried no correlationId, before or during the request.
test("aborted before the request carries the correlationId given", async () => {
  const early = await failure(client().acquireTokenForClient({ scopes: [SCOPE], correlationId: CORRELATION_ID, abortSignal: AbortSignal.abort() }));
  assert.equal(early.code, "aborted");
  assert.equal(endpoint.tokenRequests, 0);
  assert.equal(early.correlationId, CORRELATION_ID);
});

test("aborted during the request carries the correlationId the endpoint saw", async () => {
  endpoint.failAll({ hang: true });
  const controller = new AbortController();
  const pending = failure(client().acquireTokenForClient({ scopes: [SCOPE], abortSignal: controller.signal }));
  await requestsArrived(1);
  controller.abort();
  const during = await pending;
  assert.equal(during.code, "aborted");
  assert.match(during.correlationId, UUID);
  assert.equal(during.correlationId, endpoint.requests[0].headers["client-request-id"]);
});

/** Runs `body` with `crypto.subtle[method]` rejecting, then restores it. */
async function withFailingSubtle(method, body) {
  const { subtle } = globalThis.crypto;
  Object.defineProperty(subtle, method, { value: () => Promise.reject(new Error(`${method} refused by a test`)), configurable: true, writable: true });
  try {
    return await body();
  } finally {
    delete subtle[method];
  }
}

const certificateClient = () =>
  client({ clientId: CERT_APP, credential: { certificate: { privateKeyPem: FIXTURES.rsaKey, certificatePem: FIXTURES.rsaCert } } });

test("crypto_error when WebCrypto cannot import the key, and when it cannot sign; nothing is sent", async () => {
  for (const method of ["importKey", "sign"]) {
    const error = await withFailingSubtle(method, () => failure(certificateClient().acquireTokenForClient({ scopes: [SCOPE] })));
    assert.equal(error.code, "crypto_error", `${method}: ${error.message}`);
    assert.equal(error.name, "ClientCredentialError");
    const keyLines = FIXTURES.rsaKey.split("\n").filter((line) => line.length >= 40 && !line.startsWith("-----"));
    assert.ok(keyLines.every((line) => !`${error.message}${error.stack}`.includes(line)), `${method}: no key material`);
    assert.equal(endpoint.tokenRequests, 0, `${method}: no request without an assertion`);
  }
  // The same options work once WebCrypto does.
  const result = await certificateClient().acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(result.accessToken, endpoint.requests[0].accessToken);
});

for (const [code, text] of [
  [650056, "Misconfigured application. This could be due to one of the following: the client has not listed any permissions for 'AAD Graph' in the requested permissions in the client's application registration."],
  [650057, "Invalid resource. The client has requested access to a resource which is not listed in the requested permissions in the client's application registration."],
]) {
  test(`AADSTS${code} gets the admin-consent hint with the URL for this tenant and app`, async () => {
    endpoint.failNext({ status: 400, body: { error: "invalid_client", error_description: `AADSTS${code}: ${text}`, error_codes: [code] } });
    const error = await failure(client().acquireTokenForClient({ scopes: [SCOPE] }));
    assert.equal(error.code, "invalid_client");
    assert.deepEqual(error.aadsts, [code]);
    const url = adminConsentUrl({ tenant: LOCAL_APP.tenantId, clientId: LOCAL_APP.clientId, authorityHost: endpoint.url });
    assert.equal(error.hint, `an administrator must grant the app's application permissions: ${url}`);
  });
}
