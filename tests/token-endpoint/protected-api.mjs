// A protected web API beside the token endpoint, for `cctoken doctor --call`: it accepts the
// tokens the endpoint issued, and answers as Microsoft Graph and CAE-enabled APIs refuse.
//   GET /api/me                 200 for an unexpired token this endpoint issued, else 401
// Tokens are recognised by their signature's marker and their exp, not remembered: suites that
// issue thousands of tokens (tests/package/load.test.mjs) measure this process's heap.
//   GET /api/claims-challenge   401 with a claims challenge (WWW-Authenticate … claims="…")
//   GET /api/forbidden          403 Authorization_RequestDenied, as Graph without app roles
import { TOKEN_SIGNATURE_MARKER, decodeClaims } from "./access-token.mjs";

export const PROTECTED_API_PREFIX = "/api/";

/** The claims the challenge asks for (decoded), for tests to compare with what is shown. */
export const CHALLENGE_CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1796319958"}}}';

/** True for a token of this endpoint's (access-token.mjs) that has not expired. */
function accepted(token) {
  try {
    return token.split(".")[2]?.startsWith(TOKEN_SIGNATURE_MARKER) && decodeClaims(token).exp * 1000 > Date.now();
  } catch {
    return false;
  }
}

/** Answers a request under {@link PROTECTED_API_PREFIX}. */
export function answerProtectedApi(req, path, reply) {
  if (req.method !== "GET") return reply(405, { error: { code: "Request_BadRequest", message: "GET only" } });
  const authorization = req.headers.authorization ?? "";
  const token = authorization.startsWith("Bearer ") ? authorization.slice("Bearer ".length) : "";
  if (!accepted(token)) {
    return reply(401, { error: { code: "InvalidAuthenticationToken", message: "Access token validation failure." } }, {
      "www-authenticate": 'Bearer realm="", error="invalid_token"',
    });
  }
  switch (path) {
    case "/api/me":
      return reply(200, { ok: true });
    case "/api/claims-challenge":
      return reply(401, { error: { code: "InvalidAuthenticationToken", message: "Continuous access evaluation resulted in challenge." } }, {
        "www-authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${Buffer.from(CHALLENGE_CLAIMS).toString("base64")}"`,
      });
    case "/api/forbidden":
      return reply(403, { error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." } });
    default:
      return reply(404, { error: { code: "Request_ResourceNotFound", message: `no route for ${path}` } });
  }
}
