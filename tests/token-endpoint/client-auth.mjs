// How the local token endpoint authenticates a client, as Entra does: a client secret in the
// body or HTTP Basic, or a signed client assertion (RFC 7523) checked against the
// certificates and keys registered for the app.
import { createHash, createPublicKey, verify, X509Certificate } from "node:crypto";
import { ENTRA_ERRORS } from "./entra-errors.mjs";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/**
 * Clock skew allowed on an assertion's times. Entra keeps a few minutes for `nbf` but refuses
 * an expired assertion at once; a few seconds cover the client and this endpoint reading
 * their clocks a moment apart on one machine, and nothing more: an assertion that expired a
 * minute ago is refused (AADSTS700024), so a client that reuses stale assertions is caught.
 */
export const CLOCK_SKEW_SECONDS = 5;
const VERIFY_OPTIONS = {
  PS256: (key) => ({ key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }),
  RS256: (key) => ({ key }),
  ES256: (key) => ({ key, dsaEncoding: "ieee-p1363" }),
};

/** A registered app's credentials: `secret`, `certificates` (PEM), `keys` ({ kid, publicKeyPem }). */
export function registeredKeys(app) {
  const certificates = (app.certificates ?? []).map((pem) => {
    const der = new X509Certificate(pem).raw;
    return {
      publicKey: createPublicKey(pem),
      der,
      x5t: createHash("sha1").update(der).digest("base64url"),
      x5tS256: createHash("sha256").update(der).digest("base64url"),
    };
  });
  const keys = (app.keys ?? []).map(({ kid, publicKeyPem }) => ({ kid, publicKey: createPublicKey(publicKeyPem) }));
  return { certificates, keys };
}

/**
 * Checks the credential of a token request. Returns `{ clientId }` or `{ error }` (an
 * ENTRA_ERRORS entry). `seenJti` remembers assertion ids to refuse replays. `generic`: the
 * request came to the generic endpoint, which accepts assertions that name no key.
 */
export function authenticateClient({ form, headers, clients, audiences, seenJti, now = Date.now(), generic = false }) {
  let clientId = form.get("client_id");
  let secret = form.get("client_secret");
  const assertion = form.get("client_assertion");
  const basic = parseBasic(headers.authorization);
  const methods = [secret, assertion, basic].filter(Boolean).length;
  if (methods > 1) return { error: ENTRA_ERRORS.multipleCredentials() };
  if (basic) {
    if (clientId && clientId !== basic.clientId) return { error: ENTRA_ERRORS.multipleCredentials() };
    clientId = basic.clientId;
    secret = basic.secret;
  }
  if (!clientId) return { error: ENTRA_ERRORS.missingParameter("client_id") };
  const app = clients[clientId];
  if (!app) return { clientId, unknown: true };
  if (secret) {
    return secret === app.secret ? { clientId } : { error: ENTRA_ERRORS.wrongSecret(clientId) };
  }
  if (assertion) {
    if (form.get("client_assertion_type") !== JWT_BEARER) return { error: ENTRA_ERRORS.unsupportedAssertionType() };
    const error = checkAssertion({ assertion, clientId, app, audiences, seenJti, now, generic });
    return error ? { error } : { clientId, assertion: true };
  }
  return { error: ENTRA_ERRORS.missingCredential() };
}

function parseBasic(header) {
  if (!header?.startsWith("Basic ")) return null;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  const formDecode = (value) => decodeURIComponent(value.replace(/\+/g, " "));
  return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

function checkAssertion({ assertion, clientId, app, audiences, seenJti, now, generic }) {
  const parts = assertion.split(".");
  if (parts.length !== 3) return ENTRA_ERRORS.malformedAssertion("The assertion is not a compact JWS.");
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    return ENTRA_ERRORS.malformedAssertion("The header or claims are not JSON.");
  }
  const verifyOptions = VERIFY_OPTIONS[header.alg];
  if (!verifyOptions) return ENTRA_ERRORS.malformedAssertion(`Unsupported alg '${header.alg}'.`);

  const { certificates, keys } = registeredKeys(app);
  let publicKey;
  let leaf;
  if (header.x5c !== undefined) {
    // RFC 7515 §4.1.6: an array of base64 (not base64url) DER certificates, the signer's first.
    if (!Array.isArray(header.x5c) || typeof header.x5c[0] !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(header.x5c[0])) {
      return ENTRA_ERRORS.malformedAssertion("x5c is not an array of base64 DER certificates.");
    }
    leaf = Buffer.from(header.x5c[0], "base64");
  }
  if (header["x5t#S256"] || header.x5t) {
    const certificate = certificates.find((c) => c.x5tS256 === header["x5t#S256"] || c.x5t === header.x5t);
    if (!certificate) return ENTRA_ERRORS.unknownAssertionKey(header["x5t#S256"] ?? header.x5t);
    if (leaf && !leaf.equals(certificate.der)) return ENTRA_ERRORS.unknownAssertionKey("x5c leaf differs from the thumbprint's certificate");
    publicKey = certificate.publicKey;
  } else if (header.kid) {
    publicKey = keys.find((k) => k.kid === header.kid)?.publicKey;
    if (!publicKey) return ENTRA_ERRORS.unknownAssertionKey(`kid ${header.kid}`);
  } else if (!generic) {
    return ENTRA_ERRORS.malformedAssertion("The header names no key (x5t, x5t#S256 or kid).");
  }
  // A certificate sent in x5c must be one registered for the app, whatever names the key.
  if (leaf && !certificates.some((c) => leaf.equals(c.der))) {
    return ENTRA_ERRORS.unknownAssertionKey("x5c is not a registered certificate");
  }
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], "base64url");
  // A generic server may take an assertion that names no key (RFC 7523 does not ask for
  // one) and try the client's registered keys, as oidc-provider and Keycloak do.
  const candidates = publicKey ? [publicKey] : [...keys, ...certificates].map((k) => k.publicKey);
  const verifies = (key) => {
    try {
      return verify("sha256", signed, verifyOptions(key), signature);
    } catch {
      return false; // a key of another type (an EC key for a PS256 assertion)
    }
  };
  if (!candidates.some(verifies)) return ENTRA_ERRORS.badAssertionSignature();

  if (claims.iss !== clientId || claims.sub !== clientId) return ENTRA_ERRORS.assertionSubjectMismatch();
  if (!audiences.includes(claims.aud)) return ENTRA_ERRORS.assertionAudience(claims.aud);
  for (const name of ["exp", "iat"]) {
    if (!Number.isFinite(claims[name])) return ENTRA_ERRORS.malformedAssertion(`The '${name}' claim is missing or not a number.`);
  }
  if (claims.nbf !== undefined && !Number.isFinite(claims.nbf)) return ENTRA_ERRORS.malformedAssertion("The 'nbf' claim is not a number.");
  const nowSeconds = Math.floor(now / 1000);
  const expired = claims.exp <= nowSeconds - CLOCK_SKEW_SECONDS;
  const early = claims.nbf > nowSeconds + CLOCK_SKEW_SECONDS || claims.iat > nowSeconds + CLOCK_SKEW_SECONDS;
  if (expired || early) return ENTRA_ERRORS.assertionTimeWindow();
  if (typeof claims.jti !== "string" || claims.jti === "") return ENTRA_ERRORS.malformedAssertion("The 'jti' claim is missing.");
  if (seenJti.has(claims.jti)) return ENTRA_ERRORS.assertionReplayed();
  seenJti.add(claims.jti);
  return null;
}
