// private_key_jwt against a generic OAuth2 server (Okta, Auth0, Keycloak, oidc-provider):
// RSA and EC keys sign assertions with a kid or with no key identifier at all (RFC 7523 asks
// for none), and no certificate is needed. Entra authorities still require one.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { ConfidentialClient } from "cctoken";
import { startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "./fixtures.mjs";

const APP = "generic-jwt-client";
const publicPem = (key) => createPublicKey(key).export({ type: "spki", format: "pem" });
let endpoint;

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: { [APP]: { keys: [{ kid: "rsa-2026", publicKeyPem: publicPem(FIXTURES.rsaKey) }, { kid: "ec-2026", publicKeyPem: publicPem(FIXTURES.ecKey) }] } },
  });
});
after(() => endpoint.close());
beforeEach(() => endpoint.reset());

const generic = (certificate) =>
  new ConfidentialClient({ clientId: APP, tokenEndpoint: endpoint.genericTokenEndpoint, credential: { certificate } });

function sentAssertion() {
  const [request] = endpoint.requests;
  assert.equal(request.status, 200, request.body);
  const assertion = new URLSearchParams(request.body).get("client_assertion");
  const [header, claims, signature] = assertion.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")),
    claims: JSON.parse(Buffer.from(claims, "base64url").toString("utf8")),
    signed: Buffer.from(`${header}.${claims}`),
    signature: Buffer.from(signature, "base64url"),
  };
}

for (const [name, certificate, header, verifyWith] of [
  ["RSA key, PS256, no key identifier", { privateKeyPem: FIXTURES.rsaKey }, { alg: "PS256", typ: "JWT" }, { key: publicPem(FIXTURES.rsaKey), padding: 6, saltLength: 32 }],
  ["RSA key, RS256 with a kid", { privateKeyPem: FIXTURES.rsaKey, algorithm: "RS256", keyId: "rsa-2026" }, { alg: "RS256", typ: "JWT", kid: "rsa-2026" }, { key: publicPem(FIXTURES.rsaKey) }],
  ["PKCS#1 RSA key, PS256 with a kid", { privateKeyPem: FIXTURES.rsaKeyPkcs1, keyId: "rsa-2026" }, { alg: "PS256", typ: "JWT", kid: "rsa-2026" }, { key: publicPem(FIXTURES.rsaKey), padding: 6, saltLength: 32 }],
  ["EC key, ES256, no key identifier", { privateKeyPem: FIXTURES.ecKey }, { alg: "ES256", typ: "JWT" }, { key: publicPem(FIXTURES.ecKey), dsaEncoding: "ieee-p1363" }],
]) {
  test(`generic endpoint: ${name}`, async () => {
    const result = await generic(certificate).acquireTokenForClient({ scopes: ["api.read"] });
    assert.equal(result.fromCache, false);
    const sent = sentAssertion();
    assert.deepEqual(sent.header, header);
    assert.equal(sent.claims.iss, APP);
    assert.equal(sent.claims.sub, APP);
    assert.equal(sent.claims.aud, endpoint.genericTokenEndpoint);
    assert.ok(verify("sha256", sent.signed, verifyWith, sent.signature), "signature verifies with the public key");
  });
}

test("an Entra authority still needs the certificate or its thumbprint, and says why", () => {
  for (const certificate of [{ privateKeyPem: FIXTURES.rsaKey }, { privateKeyPem: FIXTURES.rsaKey, keyId: "rsa-2026" }]) {
    assert.throws(
      () => new ConfidentialClient({ clientId: APP, authority: endpoint.authority, credential: { certificate } }),
      (error) => {
        assert.equal(error.code, "invalid_config");
        assert.equal(error.field, "credential.certificate");
        assert.match(error.message, /^invalid_config: Entra ID needs to know which uploaded certificate signed/);
        return true;
      },
    );
  }
});

test("errors about generic endpoints do not talk about Entra", () => {
  assert.throws(
    () => generic({ privateKeyPem: FIXTURES.rsaKey, algorithm: "PS256", thumbprint: "00".repeat(20) }),
    (error) => {
      assert.equal(error.field, "credential.certificate");
      assert.match(error.message, /only in RS256/);
      assert.doesNotMatch(error.message, /Entra/);
      return true;
    },
  );
});
