// The local endpoint checks client assertions as strictly as Entra ID does, so a client that
// signs a wrong claim fails here as it would in production. Each case signs a deliberately bad
// assertion with the fixture keys through WebCrypto, sends it with the npm module, and asserts
// Entra's error, HTTP status and AADSTS code; a control case with the same signer passes, so
// only the bad claim explains each refusal.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPublicKey, X509Certificate } from "node:crypto";
import { ConfidentialClient } from "cctoken";
import { startTokenEndpoint } from "../token-endpoint/server.mjs";
import { CLOCK_SKEW_SECONDS } from "../token-endpoint/client-auth.mjs";
import { FIXTURES } from "./fixtures.mjs";
import { nowSeconds as now, signJws } from "./jws.mjs";

const SCOPE = "api://cctoken-assertions/.default";
const APP = "66666666-0000-4000-8000-0000000000a6";
const EC_KID = "ec-key-1";
let endpoint;
let tokenUrl;

before(async () => {
  endpoint = await startTokenEndpoint({
    clients: {
      [APP]: {
        certificates: [FIXTURES.rsaCert],
        keys: [{ kid: EC_KID, publicKeyPem: createPublicKey(FIXTURES.ecKey).export({ type: "spki", format: "pem" }) }],
      },
    },
  });
  tokenUrl = `${endpoint.authority}/oauth2/v2.0/token`;
});
after(() => endpoint.close());
beforeEach(() => endpoint.reset());

let jtiCounter = 0;
/** Claims Entra accepts: every case changes one. */
const goodClaims = () => ({ aud: tokenUrl, iss: APP, sub: APP, jti: `jti-${++jtiCounter}-${Date.now()}`, nbf: now(), iat: now(), exp: now() + 300 });
const der = (pem) => new X509Certificate(pem).raw;
const RSA_X5T_S256 = () => createHash("sha256").update(der(FIXTURES.rsaCert)).digest("base64url");

const sign = signJws;

const ecHeader = () => ({ alg: "ES256", kid: EC_KID });
const certificateHeader = () => ({ alg: "PS256", "x5t#S256": RSA_X5T_S256() });

/** Sends `assertion` with a fresh client (refusals are remembered per client). */
function send(assertion) {
  return new ConfidentialClient({ clientId: APP, authority: endpoint.authority, credential: { clientAssertion: assertion }, maxRetries: 0 })
    .acquireTokenForClient({ scopes: [SCOPE] });
}

/** The assertion is refused with Entra's `status`, `invalid_client` and `aadsts`, and no token is issued. */
async function assertRefused(assertion, { status, aadsts }, what) {
  const error = await send(assertion).then(
    () => assert.fail(`${what}: accepted`),
    (e) => e,
  );
  assert.equal(error.code, "invalid_client", `${what}: ${error.message}`);
  assert.equal(error.status, status, what);
  assert.deepEqual(error.aadsts, [aadsts], `${what}: ${error.message}`);
  assert.match(error.description, new RegExp(`^AADSTS${aadsts}: `), what);
  assert.equal(endpoint.requests.at(-1).status, status, what);
  assert.equal(endpoint.issued, 0, `${what}: no token issued`);
}

async function assertAccepted(assertion, what) {
  const result = await send(assertion);
  assert.equal(result.fromCache, false, what);
  assert.equal(endpoint.requests.at(-1).status, 200, what);
  assert.equal(result.accessToken, endpoint.requests.at(-1).accessToken, what);
}

const EXPIRED = { status: 401, aadsts: 700024 };
const WRONG_SUBJECT = { status: 401, aadsts: 700021 };
const MALFORMED = { status: 400, aadsts: 50027 };
const UNKNOWN_KEY = { status: 401, aadsts: 700027 };

test("control: a well-formed assertion from each signer is accepted", async () => {
  await assertAccepted(await sign(ecHeader(), goodClaims()), "ES256 with a kid");
  await assertAccepted(await sign(certificateHeader(), goodClaims()), "PS256 with x5t#S256");
  await assertAccepted(await sign({ alg: "RS256", "x5t#S256": RSA_X5T_S256(), x5c: [der(FIXTURES.rsaCert).toString("base64")] }, goodClaims()), "x5c of the registered certificate");
});

test("aud other than the token endpoint: AADSTS50013", async () => {
  for (const aud of [`${endpoint.url}/another-tenant/oauth2/v2.0/token`, "https://login.microsoftonline.com/", undefined]) {
    await assertRefused(await sign(ecHeader(), { ...goodClaims(), aud }), { status: 401, aadsts: 50013 }, `aud ${aud}`);
  }
});

test("iss or sub other than the client id: AADSTS700021", async () => {
  const other = "77777777-0000-4000-8000-0000000000a7";
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), iss: other }), WRONG_SUBJECT, "iss");
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), sub: other }), WRONG_SUBJECT, "sub");
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), sub: undefined }), WRONG_SUBJECT, "no sub");
});

test("nbf in the future beyond the skew: AADSTS700024", async () => {
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), nbf: now() + 60 }), EXPIRED, "nbf in a minute");
});

test("expired a minute ago: AADSTS700024, with no five-minute grace", async () => {
  const expired = { ...goodClaims(), iat: now() - 660, nbf: now() - 660, exp: now() - 60 };
  await assertRefused(await sign(ecHeader(), expired), EXPIRED, "exp a minute ago");
  await assertRefused(await sign(certificateHeader(), { ...expired, jti: "cert-expired" }), EXPIRED, "certificate, exp a minute ago");
});

test(`the skew is ${CLOCK_SKEW_SECONDS} s at most: a second either side is accepted`, async () => {
  assert.ok(CLOCK_SKEW_SECONDS <= 5, "a few seconds, not minutes");
  await assertAccepted(await sign(ecHeader(), { ...goodClaims(), iat: now() - 600, nbf: now() - 600, exp: now() - 1 }), "exp a second ago");
  await assertAccepted(await sign(ecHeader(), { ...goodClaims(), iat: now() + 1, nbf: now() + 1 }), "nbf and iat a second ahead");
});

test("iat in the future: AADSTS700024; iat or exp missing: AADSTS50027", async () => {
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), iat: now() + 60 }), EXPIRED, "iat in a minute");
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), iat: undefined }), MALFORMED, "no iat");
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), iat: String(now()) }), MALFORMED, "iat as a string");
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), exp: undefined }), MALFORMED, "no exp");
});

test("jti missing: AADSTS50027; jti replayed: AADSTS700210", async () => {
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), jti: undefined }), MALFORMED, "no jti");
  await assertRefused(await sign(ecHeader(), { ...goodClaims(), jti: "" }), MALFORMED, "empty jti");
  const claims = goodClaims();
  await assertAccepted(await sign(ecHeader(), claims), "first use");
  endpoint.reset();
  await assertRefused(await sign(ecHeader(), { ...claims, exp: claims.exp + 1 }), { status: 401, aadsts: 700210 }, "the jti again, in a new assertion");
});

test("x5c that is not the registered certificate: AADSTS700027", async () => {
  const other = [der(FIXTURES.otherCert).toString("base64")];
  await assertRefused(await sign({ ...certificateHeader(), x5c: other }, goodClaims()), UNKNOWN_KEY, "x5c beside the registered thumbprint");
  await assertRefused(await sign({ ...ecHeader(), x5c: other }, goodClaims()), UNKNOWN_KEY, "x5c beside a kid");
  await assertRefused(await sign({ ...certificateHeader(), x5c: "not-an-array" }, goodClaims()), MALFORMED, "x5c not an array");
});

test("a key the app does not know, or a signature by another key: AADSTS700027 / 7000274", async () => {
  await assertRefused(await sign({ alg: "ES256", kid: "unknown-kid" }, goodClaims()), UNKNOWN_KEY, "unknown kid");
  // The registered certificate's thumbprint, but an ES256 signature by the EC key.
  await assertRefused(await sign({ alg: "ES256", "x5t#S256": RSA_X5T_S256() }, goodClaims()), { status: 401, aadsts: 7000274 }, "signed by another key");
  await assertRefused(await sign({ alg: "ES256" }, goodClaims()), MALFORMED, "Entra: no key named");
});

test("the generic endpoint takes an assertion that names no key, and checks its claims as strictly", async () => {
  const generic = (assertion) =>
    new ConfidentialClient({ clientId: APP, tokenEndpoint: endpoint.genericTokenEndpoint, credential: { clientAssertion: assertion }, maxRetries: 0 })
      .acquireTokenForClient({ scopes: ["api.read"] });
  const claims = () => ({ ...goodClaims(), aud: endpoint.genericTokenEndpoint });
  const accepted = await generic(await sign({ alg: "ES256" }, claims()));
  assert.equal(accepted.accessToken, endpoint.requests[0].accessToken);
  const expired = await generic(await sign({ alg: "ES256" }, { ...claims(), exp: now() - 60 })).catch((e) => e);
  assert.deepEqual([expired.code, expired.aadsts], ["invalid_client", [700024]]);
  assert.equal(endpoint.issued, 1);
});
