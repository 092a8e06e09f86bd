// A protected web API beside the token endpoint, for `cctoken doctor --call`: it accepts the
// tokens the endpoint issued, and answers as Microsoft Graph and CAE-enabled APIs refuse.
//   GET /api/me                 200 for a token this endpoint issued, else 401 invalid_token
//   GET /api/claims-challenge   401 with a claims challenge (WWW-Authenticate … claims="…")
//   GET /api/forbidden          403 Authorization_RequestDenied, as Graph without app roles
export const PROTECTED_API_PREFIX = "/api/";

/** The claims the challenge asks for (decoded), for tests to compare with what is shown. */
export const CHALLENGE_CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1796319958"}}}';

/** Answers a request under {@link PROTECTED_API_PREFIX}; `issued` holds every token issued. */
export function answerProtectedApi(req, path, issued, reply) {
  if (req.method !== "GET") return reply(405, { error: { code: "Request_BadRequest", message: "GET only" } });
  const authorization = req.headers.authorization ?? "";
  const token = authorization.startsWith("Bearer ") ? authorization.slice("Bearer ".length) : "";
  if (!issued.has(token)) {
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
