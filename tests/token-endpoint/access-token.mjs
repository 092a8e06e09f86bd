// JWT-shaped app-only access tokens with the claims Entra puts in them. The signature is
// random bytes behind a fixed marker, so a token that reaches any test output is found by
// tests/leaks/scan.mjs: resource servers are not part of these tests, clients must treat
// tokens as opaque.
import { randomBytes, randomUUID } from "node:crypto";

const base64url = (value) => Buffer.from(value).toString("base64url");

/** Starts the signature of every token this endpoint issues. */
export const TOKEN_SIGNATURE_MARKER = "cctokenLeakCanary";

/**
 * An access token for `resource` issued to `clientId` by `tenant`, valid `lifetimeSeconds`,
 * with `roles` (the application permissions granted) when given.
 */
export function issueAccessToken({ tenant, clientId, resource, lifetimeSeconds, roles, now = Date.now() }) {
  const iat = Math.floor(now / 1000);
  const header = { typ: "JWT", alg: "RS256", kid: "cctoken-local-endpoint" };
  const payload = {
    aud: resource,
    iss: `https://sts.windows.net/${tenant}/`,
    iat,
    nbf: iat,
    exp: iat + lifetimeSeconds,
    appid: clientId,
    azp: clientId,
    idtyp: "app",
    oid: randomUUID(),
    ...(roles ? { roles } : {}),
    tid: tenant,
    uti: randomUUID(),
    ver: "1.0",
  };
  return [header, payload].map((part) => base64url(JSON.stringify(part))).join(".") + "." + TOKEN_SIGNATURE_MARKER + base64url(randomBytes(48));
}

/** The claims of a token made by {@link issueAccessToken}. */
export function decodeClaims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}
