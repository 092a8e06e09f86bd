// No secret reaches anything a program might print: clients, errors and their causes are
// inspected every way a user would (util.inspect, String, JSON.stringify, stack, own
// properties) after failures on every credential path. Runs under Node, Deno and Bun.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { BrokerClient, ClientCredentialError, ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";
import { FIXTURES } from "./fixtures.mjs";

const SCOPE = "https://graph.microsoft.com/.default";
const CANARY_SECRET = "canary-secret~9f1c7e";
const CANARY_BROKER_KEY = "canary-broker-key-4d2a";
const CERT_APP = "99999999-0000-4000-8000-0000000000c9";

/** Every string a leak could hide in: the body lines of each private key, secrets, tokens. */
function secretsIn(extra = []) {
  const keyLines = [FIXTURES.rsaKey, FIXTURES.ecKey, FIXTURES.otherKey, FIXTURES.rsaKeyPkcs1]
    .flatMap((pem) => pem.split("\n").filter((line) => line.length >= 40 && !line.startsWith("-----")));
  return [CANARY_SECRET, CANARY_BROKER_KEY, LOCAL_APP.clientSecret, ...keyLines, ...extra];
}

/** Every rendering of `value` a log line could contain. */
function renderings(value) {
  const texts = [inspect(value, { depth: 8, showHidden: true, getters: true }), String(value)];
  try {
    texts.push(JSON.stringify(value));
  } catch {
    // Circular values cannot be logged as JSON either.
  }
  if (value instanceof Error) {
    texts.push(value.stack ?? "", value.message, inspect(value.cause, { depth: 8 }));
    for (const name of Object.getOwnPropertyNames(value)) texts.push(String(value[name]));
  }
  return texts.join("\n");
}

function assertNoSecret(value, secrets, label) {
  const text = renderings(value);
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `${label} shows a secret (${secret.slice(0, 6)}…)`);
  }
}

const rejection = (promise) => promise.then(() => assert.fail("expected a rejection"), (error) => error);

let endpoint;
before(async () => {
  endpoint = await startTokenEndpoint({
    clients: {
      [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret },
      [CERT_APP]: { certificates: [FIXTURES.rsaCert] },
    },
  });
});
after(() => endpoint.close());

test("a client with a secret shows none of it, before and after use", async () => {
  const client = new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: LOCAL_APP.clientSecret } });
  assertNoSecret(client, secretsIn(), "fresh client");
  const result = await client.acquireTokenForClient({ scopes: [SCOPE] });
  assertNoSecret(client, secretsIn([result.accessToken]), "client holding a token");
  assert.ok(!client.serializeCache().includes(LOCAL_APP.clientSecret), "the cache holds tokens, not credentials");
});

test("a rejected secret, a refused scope and an unreachable endpoint keep every secret out of the error", async () => {
  const wrong = new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential: { clientSecret: CANARY_SECRET } });
  const refused = await rejection(wrong.acquireTokenForClient({ scopes: [SCOPE] }));
  assert.equal(refused.code, "invalid_client");
  assertNoSecret(refused, secretsIn(), "invalid_client error");
  assertNoSecret(wrong, secretsIn(), "client after a failure");

  const badScope = await rejection(wrong.acquireTokenForClient({ scopes: [`${CANARY_SECRET} with spaces`] }));
  assert.equal(badScope.code, "invalid_scope");
  // The scope text is the caller's own input, echoed to say what is wrong; the secret is not.
  assert.ok(!renderings(badScope).includes(LOCAL_APP.clientSecret));

  const closedPort = new ConfidentialClient({
    clientId: LOCAL_APP.clientId,
    authority: `http://127.0.0.1:9/${LOCAL_APP.tenantId}`,
    credential: { clientSecret: CANARY_SECRET },
    maxRetries: 0,
  });
  const network = await rejection(closedPort.acquireTokenForClient({ scopes: [SCOPE] }));
  assert.equal(network.code, "network_error");
  assertNoSecret(network, secretsIn(), "network error");
});

test("configuration errors name the option, never its secret value", () => {
  for (const [credential, field] of [
    [{ clientSecret: CANARY_SECRET, certificate: { privateKeyPem: FIXTURES.rsaKey, certificatePem: FIXTURES.rsaCert } }, "credential"],
    // Damaged inside the base64 body, where a careless parser would quote the offending line.
    [{ certificate: { privateKeyPem: FIXTURES.rsaKey.replace(/\n(.{20})/, "\n$1!"), certificatePem: FIXTURES.rsaCert } }, "credential.certificate.privateKeyPem"],
    [{ certificate: { privateKeyPem: FIXTURES.rsaKey.replace("PRIVATE KEY", "PRIVATE KEY!"), certificatePem: FIXTURES.rsaCert } }, "credential.certificate.privateKeyPem"],
    [{ certificate: { privateKeyPem: FIXTURES.encryptedKey, certificatePem: FIXTURES.rsaCert } }, "credential.certificate.privateKeyPem"],
  ]) {
    let thrown;
    try {
      new ConfidentialClient({ clientId: LOCAL_APP.clientId, authority: endpoint.authority, credential });
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof ClientCredentialError, `rejected: ${Object.keys(credential)}`);
    assert.equal(thrown.code, "invalid_config", `${Object.keys(credential)}: ${thrown.message}`);
    assert.equal(thrown.field, field, `${Object.keys(credential)}: ${thrown.message}`);
    assertNoSecret(thrown, secretsIn(), `config error for ${Object.keys(credential)}`);
  }
});

test("a certificate client with a key the app does not know keeps the key out of the error", async () => {
  const client = new ConfidentialClient({
    clientId: CERT_APP,
    authority: endpoint.authority,
    credential: { certificate: { privateKeyPem: FIXTURES.otherKey, certificatePem: FIXTURES.otherCert } },
  });
  assertNoSecret(client, secretsIn(), "certificate client");
  const error = await rejection(client.acquireTokenForClient({ scopes: [SCOPE] }));
  assert.equal(error.code, "invalid_client");
  assertNoSecret(error, secretsIn(), "certificate error");
});

test("a broker client shows neither its key nor its tokens", async () => {
  const broker = new BrokerClient({ url: "http://127.0.0.1:9/", callerId: "jobs", key: CANARY_BROKER_KEY });
  assertNoSecret(broker, secretsIn(), "broker client");
  const error = await rejection(broker.acquireToken({ scopes: [SCOPE] }));
  assert.ok(error instanceof ClientCredentialError);
  assert.equal(error.code, "network_error", error.message);
  assertNoSecret(error, secretsIn(), "broker client error");
});
