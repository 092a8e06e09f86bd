// Every credential kind end to end against the local endpoint, which verifies assertion
// signatures with the registered public keys.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify, X509Certificate } from "node:crypto";
import { ConfidentialClient } from "cctoken";
import { startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "./fixtures.mjs";

const SCOPE = "api://cctoken-demo/.default";
const APP = "11111111-0000-4000-8000-0000000000a1";
let endpoint;

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: {
      [APP]: {
        secret: "app-secret with spaces&symbols",
        certificates: [FIXTURES.rsaCert, FIXTURES.ecCert],
        keys: [{ kid: "ec-key-1", publicKeyPem: createPublicKey(FIXTURES.ecKey).export({ type: "spki", format: "pem" }) }],
      },
    },
  });
});
after(() => endpoint.close());
beforeEach(() => endpoint.reset());

const client = (credential, extra = {}) =>
  new ConfidentialClient({ clientId: APP, authority: endpoint.authority, credential, ...extra });

const form = (request) => new URLSearchParams(request.body);
const decode = (part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
const derOf = (pem) => new X509Certificate(pem).raw;

function assertionOf(request) {
  const assertion = form(request).get("client_assertion");
  const [header, claims, signature] = assertion.split(".");
  return { header: decode(header), claims: decode(claims), signed: `${header}.${claims}`, signature: Buffer.from(signature, "base64url") };
}

test("client secret in the body", async () => {
  const result = await client({ clientSecret: "app-secret with spaces&symbols" }).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(result.fromCache, false);
  assert.equal(endpoint.requests[0].body.split("&")[2], "client_secret=app-secret+with+spaces%26symbols");
});

test("client_secret_basic sends RFC 6749 Basic credentials and no secret in the body", async () => {
  await client({ clientSecret: "app-secret with spaces&symbols" }, { clientAuthMethod: "client_secret_basic" })
    .acquireTokenForClient({ scopes: [SCOPE] });
  const [sent] = endpoint.requests;
  assert.equal(sent.status, 200);
  const expected = Buffer.from(`${APP}:app-secret+with+spaces%26symbols`).toString("base64");
  assert.equal(sent.headers.authorization, `Basic ${expected}`);
  assert.equal(sent.body, "scope=api%3A%2F%2Fcctoken-demo%2F.default&grant_type=client_credentials");
});

test("certificate, PS256 by default, with x5t#S256 and claims as Entra expects", async () => {
  const before = Math.floor(Date.now() / 1000);
  const result = await client({ certificate: { privateKeyPem: FIXTURES.rsaKey, certificatePem: FIXTURES.rsaCert } })
    .acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(result.fromCache, false);
  const [sent] = endpoint.requests;
  assert.equal(sent.status, 200);
  const body = form(sent);
  assert.deepEqual([...body.keys()], ["client_id", "scope", "client_assertion_type", "client_assertion", "grant_type"]);
  assert.equal(body.get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  const { header, claims, signed, signature } = assertionOf(sent);
  assert.deepEqual(header, {
    alg: "PS256",
    typ: "JWT",
    "x5t#S256": createHash("sha256").update(derOf(FIXTURES.rsaCert)).digest("base64url"),
  });
  assert.equal(claims.aud, `${endpoint.authority}/oauth2/v2.0/token`);
  assert.equal(claims.iss, APP);
  assert.equal(claims.sub, APP);
  assert.match(claims.jti, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(claims.iat >= before && claims.iat <= before + 5);
  assert.equal(claims.nbf, claims.iat);
  assert.equal(claims.exp, claims.iat + 600);
  const publicKey = createPublicKey(FIXTURES.rsaCert);
  assert.ok(verify("sha256", Buffer.from(signed), { key: publicKey, padding: 6, saltLength: 32 }, signature), "PS256 signature verifies with the certificate's public key");
});

test("each token request signs a fresh assertion", async () => {
  const c = client({ certificate: { privateKeyPem: FIXTURES.rsaKey, certificatePem: FIXTURES.rsaCert } });
  await c.acquireTokenForClient({ scopes: [SCOPE] });
  await c.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
  const [first, second] = endpoint.requests.map((r) => assertionOf(r).claims.jti);
  assert.notEqual(first, second);
  assert.equal(endpoint.issued, 2, "the endpoint would refuse a replayed jti");
});

test("RS256 with x5t (SHA-1) from a PKCS#1 key, and x5c when asked", async () => {
  await client({
    certificate: { privateKeyPem: FIXTURES.rsaKeyPkcs1, certificatePem: FIXTURES.rsaCert, algorithm: "RS256", sendX5c: true },
  }).acquireTokenForClient({ scopes: [SCOPE] });
  const [sent] = endpoint.requests;
  assert.equal(sent.status, 200, sent.body && JSON.stringify(sent.status));
  const { header, signed, signature } = assertionOf(sent);
  assert.equal(header.alg, "RS256");
  assert.equal(header.x5t, createHash("sha1").update(derOf(FIXTURES.rsaCert)).digest("base64url"));
  assert.equal(header["x5t#S256"], undefined);
  assert.deepEqual(header.x5c, [derOf(FIXTURES.rsaCert).toString("base64")]);
  assert.ok(verify("sha256", Buffer.from(signed), createPublicKey(FIXTURES.rsaCert), signature));
});

test("a thumbprint instead of the certificate, as msal-node accepts", async () => {
  const sha256 = createHash("sha256").update(derOf(FIXTURES.rsaCert)).digest("hex");
  await client({ certificate: { privateKeyPem: FIXTURES.rsaKey, thumbprintSha256: sha256 } }).acquireTokenForClient({ scopes: [SCOPE] });
  const sha1 = new X509Certificate(FIXTURES.rsaCert).fingerprint; // "AB:CD:…", as tools print it
  await client({ certificate: { privateKeyPem: FIXTURES.rsaKey, thumbprint: sha1 } }).acquireTokenForClient({ scopes: [SCOPE] });
  assert.deepEqual(endpoint.requests.map((r) => r.status), [200, 200]);
  assert.equal(assertionOf(endpoint.requests[1]).header.alg, "RS256", "a SHA-1 thumbprint implies RS256");
});

test("a combined PEM (key and certificate in one string) works as AZURE_CLIENT_CERTIFICATE_PATH files are", async () => {
  await client({ certificate: { privateKeyPem: `${FIXTURES.rsaCert}\n${FIXTURES.rsaKey}` } }).acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(endpoint.requests[0].status, 200);
});

test("ES256 with a kid, from PKCS#8 and SEC1 keys", async () => {
  // A kid alone identifies the key to generic OAuth2 servers; Entra needs the certificate.
  const generic = { authority: undefined, tokenEndpoint: endpoint.genericTokenEndpoint };
  for (const privateKeyPem of [FIXTURES.ecKey, FIXTURES.ecKeySec1]) {
    endpoint.reset();
    await client({ certificate: { privateKeyPem, keyId: "ec-key-1" } }, generic).acquireTokenForClient({ scopes: [SCOPE] });
    const [sent] = endpoint.requests;
    assert.equal(sent.status, 200);
    const { header, signed, signature } = assertionOf(sent);
    assert.deepEqual(header, { alg: "ES256", typ: "JWT", kid: "ec-key-1" });
    assert.equal(signature.length, 64, "raw r || s");
    assert.ok(verify("sha256", Buffer.from(signed), { key: createPublicKey(FIXTURES.ecKey), dsaEncoding: "ieee-p1363" }, signature));
  }
});

test("assertionAudience overrides aud", async () => {
  endpoint.settings.extraAudiences = ["https://issuer.example/"];
  try {
    await client({ certificate: { privateKeyPem: FIXTURES.rsaKey, certificatePem: FIXTURES.rsaCert } }, { assertionAudience: "https://issuer.example/" })
      .acquireTokenForClient({ scopes: [SCOPE] });
    assert.equal(assertionOf(endpoint.requests[0]).claims.aud, "https://issuer.example/");
    assert.equal(endpoint.requests[0].status, 200);
  } finally {
    endpoint.settings.extraAudiences = [];
  }
});

test("a key that matches no uploaded certificate gets AADSTS700027 or 7000274 with a hint", async () => {
  const unknown = await client({ certificate: { privateKeyPem: FIXTURES.otherKey, certificatePem: FIXTURES.otherCert } })
    .acquireTokenForClient({ scopes: [SCOPE] })
    .catch((e) => e);
  assert.equal(unknown.code, "invalid_client");
  assert.deepEqual(unknown.aadsts, [700027]);
  assert.match(unknown.hint, /certificate/);
  const mismatched = await client({ certificate: { privateKeyPem: FIXTURES.otherKey, certificatePem: FIXTURES.rsaCert } })
    .acquireTokenForClient({ scopes: [SCOPE] })
    .catch((e) => e);
  assert.deepEqual(mismatched.aadsts, [7000274]);
  assert.match(mismatched.hint, /certificate/);
});

test("client assertion as a string and as a callback called per token request", async () => {
  const calls = [];
  const returned = [];
  const assertionFor = (jti) => {
    // A "federated" assertion: here signed by the test itself with the registered EC key.
    return signEs256({ iss: APP, sub: APP, aud: `${endpoint.authority}/oauth2/v2.0/token`, jti, nbf: now(), iat: now(), exp: now() + 300 });
  };
  const c = client({
    clientAssertion: async (context) => {
      calls.push(context);
      returned.push(await assertionFor(`cb-${calls.length}`));
      return returned.at(-1);
    },
  });
  await c.acquireTokenForClient({ scopes: [SCOPE] });
  await c.acquireTokenForClient({ scopes: [SCOPE] });
  assert.equal(calls.length, 1, "not called for a cached token");
  await c.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[0], { clientId: APP, tokenEndpoint: `${endpoint.authority}/oauth2/v2.0/token` });
  assert.equal(form(endpoint.requests[0]).get("client_assertion"), returned[0]);

  await client({ clientAssertion: await assertionFor("fixed-1") }).acquireTokenForClient({ scopes: [SCOPE] });
  assert.deepEqual(endpoint.requests.map((r) => r.status), [200, 200, 200]);

  const failing = await client({ clientAssertion: async () => { throw new Error("token file missing"); } })
    .acquireTokenForClient({ scopes: [SCOPE] })
    .catch((e) => e);
  assert.equal(failing.code, "crypto_error");
  assert.match(failing.message, /clientAssertion callback failed: token file missing/);
});

test("the endpoint refuses a replayed or stale assertion, as Entra does", async () => {
  const fixed = await signEs256({ iss: APP, sub: APP, aud: `${endpoint.authority}/oauth2/v2.0/token`, jti: "fixed-jti", nbf: now(), iat: now(), exp: now() + 300 });
  const c = client({ clientAssertion: fixed });
  await c.acquireTokenForClient({ scopes: [SCOPE] });
  const replayed = await c.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true }).catch((e) => e);
  assert.equal(replayed.code, "invalid_client");
  assert.deepEqual(replayed.aadsts, [700210]);

  const stale = await signEs256({ iss: APP, sub: APP, aud: `${endpoint.authority}/oauth2/v2.0/token`, jti: "old-jti", nbf: now() - 3600, iat: now() - 3600, exp: now() - 900 });
  const error = await client({ clientAssertion: stale }).acquireTokenForClient({ scopes: [SCOPE] }).catch((e) => e);
  assert.deepEqual(error.aadsts, [700024]);
  assert.match(error.hint, /clock/);
});

test("bad certificate options are rejected up front with the field named", () => {
  const cases = [
    [{ certificate: { privateKeyPem: FIXTURES.rsaCert } }, "credential.certificate.privateKeyPem", /holds no private key/],
    [{ certificate: { privateKeyPem: FIXTURES.encryptedKey, certificatePem: FIXTURES.rsaCert } }, "credential.certificate.privateKeyPem", /openssl pkcs8/],
    [{ certificate: { privateKeyPem: FIXTURES.rsaKey } }, "credential.certificate", /certificatePem/],
    [{ certificate: { privateKeyPem: FIXTURES.ecKey, algorithm: "PS256" } }, "credential.certificate.algorithm", /EC P-256/],
    [{ certificate: { privateKeyPem: FIXTURES.rsaKey, thumbprint: "abc" } }, "credential.certificate.thumbprint", /40 hex digits/],
    [{ certificate: { privateKeyPem: FIXTURES.rsaKey, certificatePem: FIXTURES.rsaKey } }, "credential.certificate.certificatePem", /no certificate/],
    [{ clientSecret: "s", certificate: {} }, "credential", /exactly one/],
    [{ clientAssertion: "" }, "credential.clientAssertion", /empty/],
  ];
  for (const [credential, field, message] of cases) {
    assert.throws(() => client(credential), (error) => {
      assert.equal(error.field, field, JSON.stringify(Object.keys(credential)));
      assert.match(error.message, message);
      for (const pem of [FIXTURES.rsaKey, FIXTURES.ecKey, FIXTURES.encryptedKey]) {
        assert.ok(!error.message.includes(pem.split("\n")[1]), "no key material in messages");
      }
      return true;
    });
  }
});

const now = () => Math.floor(Date.now() / 1000);

async function signEs256(claims) {
  const { subtle } = globalThis.crypto;
  const der = Buffer.from(FIXTURES.ecKey.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const key = await subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const input = `${Buffer.from(JSON.stringify({ alg: "ES256", typ: "JWT", kid: "ec-key-1" })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const signature = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}
