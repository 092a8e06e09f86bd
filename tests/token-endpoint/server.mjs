// A local stand-in for the Entra ID v2 token endpoint (client-credentials grant) on
// 127.0.0.1. It checks requests the way Entra does, answers mistakes with Entra-shaped
// errors, and records every request so tests can assert exact bodies and request counts.
import { createServer } from "node:http";
import { ENTRA_ERRORS, entraErrorBody } from "./entra-errors.mjs";
import { issueAccessToken } from "./access-token.mjs";

/** The tenant, app and secret the endpoint knows unless told otherwise. */
export const LOCAL_APP = Object.freeze({
  tenantId: "00000000-0000-4000-8000-00000000ce11",
  tenantDomain: "cctoken-local.onmicrosoft.com",
  clientId: "00000000-0000-4000-8000-0000000000c1",
  clientSecret: "local-dev-secret~only-valid-on-127.0.0.1",
});

const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Starts the endpoint on 127.0.0.1 and a random port.
 * @param {object} [options]
 * @param {string[]} [options.tenants] tenant ids or domains that exist
 * @param {Record<string, {secret: string}>} [options.clients] registered apps
 * @param {number} [options.tokenLifetimeSeconds] `expires_in` of issued tokens
 */
export async function startTokenEndpoint(options = {}) {
  const tenants = new Set(options.tenants ?? [LOCAL_APP.tenantId, LOCAL_APP.tenantDomain]);
  const clients = options.clients ?? { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret } };
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;

  /** Every request received, in order: method, path, headers, raw body, status answered. */
  const requests = [];
  let issued = 0;

  const server = createServer(async (req, res) => {
    const record = { method: req.method, path: req.url, headers: req.headers, body: "", status: 0 };
    requests.push(record);
    const reply = (status, body) => {
      record.status = status;
      res.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store, no-cache",
      });
      res.end(JSON.stringify(body));
    };
    const fail = (entraError) => reply(entraError.status, entraErrorBody(entraError));

    if (req.method === "GET" && req.url === "/__stats") {
      return reply(200, { tokenRequests: tokenRequestCount(), issued });
    }
    const match = TOKEN_PATH.exec(req.url);
    if (!match) {
      return reply(404, { error: "not_found", error_description: `no route for ${req.url}` });
    }
    const tenant = decodeURIComponent(match[1]);
    if (req.method !== "POST") return fail(ENTRA_ERRORS.postOnly());
    if (!tenants.has(tenant)) return fail(ENTRA_ERRORS.tenantNotFound(tenant));

    let body;
    try {
      body = await readBody(req);
    } catch {
      return reply(413, { error: "invalid_request", error_description: "request body too large" });
    }
    record.body = body;
    const isForm = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const form = isForm ? new URLSearchParams(body) : new URLSearchParams();

    const grantType = form.get("grant_type");
    if (!grantType) return fail(ENTRA_ERRORS.missingParameter("grant_type"));
    if (grantType !== "client_credentials") return fail(ENTRA_ERRORS.unsupportedGrantType());
    const clientId = form.get("client_id");
    if (!clientId) return fail(ENTRA_ERRORS.missingParameter("client_id"));
    const scope = form.get("scope");
    if (!scope) return fail(ENTRA_ERRORS.missingParameter("scope"));
    // App-only tokens are for exactly one resource, requested as "<resource>/.default".
    const scopes = scope.split(" ").filter(Boolean);
    if (scopes.length !== 1 || !scopes[0].endsWith("/.default")) {
      return fail(ENTRA_ERRORS.invalidScope(scope));
    }
    const app = clients[clientId];
    if (!app) return fail(ENTRA_ERRORS.unknownClient(clientId, tenant));
    const secret = form.get("client_secret");
    if (!secret) return fail(ENTRA_ERRORS.missingCredential());
    if (secret !== app.secret) return fail(ENTRA_ERRORS.wrongSecret(clientId));

    issued += 1;
    const resource = scopes[0].slice(0, -"/.default".length);
    reply(200, {
      token_type: "Bearer",
      expires_in: lifetimeSeconds,
      ext_expires_in: lifetimeSeconds,
      access_token: issueAccessToken({ tenant, clientId, resource, lifetimeSeconds }),
    });
  });

  const tokenRequestCount = () => requests.filter((r) => TOKEN_PATH.test(r.path)).length;

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url,
    /** The authority for the default tenant, for `new ConfidentialClient({ authority })`. */
    authority: `${url}/${LOCAL_APP.tenantId}`,
    requests,
    /** Requests made to a token path (whatever their outcome). */
    get tokenRequests() {
      return tokenRequestCount();
    },
    /** Tokens issued. */
    get issued() {
      return issued;
    },
    /** Forgets recorded requests. */
    reset() {
      requests.length = 0;
      issued = 0;
    },
    /** Stops the server and drops open connections. */
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("too large"));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
