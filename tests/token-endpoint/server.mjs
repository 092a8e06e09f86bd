// A local stand-in for the Entra ID v2 token endpoint (client-credentials grant) on
// 127.0.0.1, plus a generic OAuth2 token endpoint at /oauth/token. It checks requests the
// way Entra does (secrets, HTTP Basic, signed client assertions, scopes), answers mistakes
// with Entra-shaped errors, records every request so tests can assert exact bodies and
// request counts, and can be told to misbehave (scripted faults).
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { ENTRA_ERRORS, entraErrorBody } from "./entra-errors.mjs";
import { issueAccessToken } from "./access-token.mjs";
import { authenticateClient } from "./client-auth.mjs";
import { playFault } from "./faults.mjs";
import { PROTECTED_API_PREFIX, answerProtectedApi } from "./protected-api.mjs";

/** The tenant, app and secret the endpoint knows unless told otherwise. */
export const LOCAL_APP = Object.freeze({
  tenantId: "00000000-0000-4000-8000-00000000ce11",
  tenantDomain: "cctoken-local.onmicrosoft.com",
  clientId: "00000000-0000-4000-8000-0000000000c1",
  clientSecret: "local-dev-secret~only-valid-on-127.0.0.1",
});

const ENTRA_TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const GENERIC_TOKEN_PATH = "/oauth/token";
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Starts the endpoint on 127.0.0.1 and a random port.
 * @param {object} [options]
 * @param {string[]} [options.tenants] tenant ids or domains that exist
 * @param {Record<string, {secret?: string, certificates?: string[], keys?: {kid: string, publicKeyPem: string}[]}>} [options.clients]
 * @param {number} [options.tokenLifetimeSeconds] `expires_in` of issued tokens (changeable via `settings`)
 * @param {number} [options.refreshInSeconds] `refresh_in` of issued tokens, if any
 * @param {{key: string, cert: string}} [options.tls] serve https (libraries that insist on it)
 * @param {string[]} [options.roles] `roles` of issued tokens (none by default: no permission granted)
 * @param {boolean} [options.openIdConfiguration] false: no OpenID configuration (404), as a
 *   server that is not Entra ID
 * @param {Record<string, string>} [options.tenantIds] domain → tenant id, as the OpenID
 *   configuration names a domain's tenant (none by default: a tenant is named as requested)
 */
export async function startTokenEndpoint(options = {}) {
  const tenants = new Set(options.tenants ?? [LOCAL_APP.tenantId, LOCAL_APP.tenantDomain]);
  const clients = options.clients ?? { [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret } };
  /** Live settings tests may change between requests. */
  const settings = {
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    refreshInSeconds: options.refreshInSeconds,
    /** Audiences accepted in client assertions besides the token endpoint URL. */
    extraAudiences: [],
    /** `roles` claim of issued tokens; undefined: none. */
    roles: options.roles,
    /** Added to the clock of every reply's `Date` header (a skewed server, for `doctor`). */
    dateOffsetMs: 0,
  };
  const tenantIds = options.tenantIds ?? {};
  /**
   * Every request received, in order: method, path (with query), headers, raw body, status,
   * `at` (Date.now() on arrival, for tests of when a refresh happened) and `accessToken` when
   * one was issued (so tests compare with the exact token).
   */
  const requests = [];
  /** Scripted replies for the next token requests, consumed first (see faults.mjs). */
  const faults = [];
  /** A fault played for every token request once `faults` is empty: the endpoint is down. */
  let failing;
  const seenJti = new Set();
  const openSockets = new Set();
  let issued = 0;

  const handler = async (req, res) => {
    const [path, query = ""] = req.url.split("?");
    const record = { method: req.method, path: req.url, query, headers: req.headers, body: "", status: 0, at: Date.now() };
    requests.push(record);
    const reply = (status, body, extraHeaders = {}) => {
      record.status = status;
      const text = typeof body === "string" ? body : JSON.stringify(body);
      // Entra declares the length; scripted faults (faults.mjs) are chunked unless told
      // otherwise, so clients are exercised on both paths.
      const headers = {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(text),
        "cache-control": "no-store, no-cache",
        ...(settings.dateOffsetMs ? { date: new Date(Date.now() + settings.dateOffsetMs).toUTCString() } : {}),
        ...extraHeaders,
      };
      if (req.headers["return-client-request-id"] === "true" && req.headers["client-request-id"]) {
        headers["client-request-id"] = req.headers["client-request-id"];
      }
      res.writeHead(status, headers);
      res.end(text);
    };
    const fail = (entraError) => reply(entraError.status, entraErrorBody(entraError));

    const metadata = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (req.method === "GET" && metadata && options.openIdConfiguration !== false) {
      // What MSAL reads before its first token request (instance metadata). Entra answers
      // a tenant that does not exist with 400 invalid_tenant, AADSTS90002.
      const requested = decodeURIComponent(metadata[1]);
      if (!tenants.has(requested)) return fail({ ...ENTRA_ERRORS.tenantNotFound(requested), error: "invalid_tenant" });
      const base = `${scheme}://${req.headers.host}/${tenantIds[requested] ?? metadata[1]}`;
      return reply(200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        issuer: `${base}/v2.0`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_types_supported: ["code", "id_token", "token"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (path.startsWith(PROTECTED_API_PREFIX)) return answerProtectedApi(req, path, reply);
    const entraMatch = ENTRA_TOKEN_PATH.exec(path);
    if (!entraMatch && path !== GENERIC_TOKEN_PATH) {
      return reply(404, { error: "not_found", error_description: `no route for ${path}` });
    }
    let body;
    try {
      body = await readBody(req);
    } catch {
      return reply(413, { error: "invalid_request", error_description: "request body too large" });
    }
    record.body = body;

    const tenant = entraMatch ? decodeURIComponent(entraMatch[1]) : undefined;
    // Faults answer requests Entra would have accepted, so a test that a reply is "accepted
    // and cached" is also a test that the request was right. `beforeValidation: true` plays
    // one for any request, for tests of what a client does with a request it got wrong.
    const nextFault = () => faults[0] ?? failing;
    if (nextFault()?.beforeValidation) {
      return playFault(faults.shift() ?? failing, req, res, record, faultContext(tenant, body));
    }

    if (req.method !== "POST") return fail(ENTRA_ERRORS.postOnly());
    if (entraMatch && !tenants.has(tenant)) return fail(ENTRA_ERRORS.tenantNotFound(tenant));
    const isForm = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const form = isForm ? new URLSearchParams(body) : new URLSearchParams();

    const grantType = form.get("grant_type");
    if (!grantType) return fail(ENTRA_ERRORS.missingParameter("grant_type"));
    if (grantType !== "client_credentials") return fail(ENTRA_ERRORS.unsupportedGrantType());
    const scope = form.get("scope");
    if (!scope) return fail(ENTRA_ERRORS.missingParameter("scope"));
    const scopes = scope.split(" ").filter(Boolean);
    // Entra: app-only tokens are for exactly one resource, requested as "<resource>/.default".
    if (entraMatch && (scopes.length !== 1 || !scopes[0].endsWith("/.default"))) {
      return fail(ENTRA_ERRORS.invalidScope(scope));
    }
    const ownUrl = `${scheme}://${req.headers.host}${path}`;
    const auth = authenticateClient({
      form,
      headers: req.headers,
      clients,
      audiences: [ownUrl, ...settings.extraAudiences],
      seenJti,
      generic: !entraMatch,
    });
    if (auth.error) return fail(auth.error);
    if (auth.unknown) return fail(ENTRA_ERRORS.unknownClient(auth.clientId, tenant ?? "oauth"));

    const resource = entraMatch ? scopes[0].slice(0, -"/.default".length) : scopes.join(" ");
    const fault = faults.shift() ?? failing;
    if (fault) return playFault(fault, req, res, record, { tenant: tenant ?? "oauth", clientId: auth.clientId, resource });

    issued += 1;
    const lifetime = settings.tokenLifetimeSeconds;
    // Entra's tokens name the tenant by its id, whichever way the request named it.
    const accessToken = issueAccessToken({ tenant: tenantIds[tenant] ?? tenant ?? "oauth", clientId: auth.clientId, resource, lifetimeSeconds: lifetime, roles: settings.roles });
    record.accessToken = accessToken;
    reply(200, {
      token_type: "Bearer",
      expires_in: lifetime,
      ext_expires_in: lifetime,
      ...(settings.refreshInSeconds ? { refresh_in: settings.refreshInSeconds } : {}),
      access_token: accessToken,
    });
  };
  const scheme = options.tls ? "https" : "http";
  const server = options.tls ? createTlsServer(options.tls, handler) : createServer(handler);
  server.on("connection", (socket) => {
    openSockets.add(socket);
    socket.on("close", () => openSockets.delete(socket));
  });

  const tokenRequestCount = () =>
    requests.filter((r) => {
      const path = r.path.split("?")[0];
      return ENTRA_TOKEN_PATH.test(path) || path === GENERIC_TOKEN_PATH;
    }).length;

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `${scheme}://127.0.0.1:${server.address().port}`;

  return {
    url,
    /** The authority for the default tenant, for `new ConfidentialClient({ authority })`. */
    authority: `${url}/${LOCAL_APP.tenantId}`,
    /** The generic OAuth2 token endpoint (no Entra scope rules). */
    genericTokenEndpoint: `${url}${GENERIC_TOKEN_PATH}`,
    settings,
    requests,
    /**
     * Makes the next valid token requests misbehave, one fault each (see faults.mjs): a
     * request the endpoint refuses (client authentication, grant, scope) gets its error and
     * leaves the fault queued, unless the fault has `beforeValidation: true`. E.g.
     * `{ status: 503, headers: { "retry-after": "1" } }`, `{ hang: true }`, `{ reset: true }`,
     * `{ status: 200, body: "{\"access_token\":", resetAfterBytes: 5 }`,
     * `{ token: { expires_in: "3599" } }`, `{ bodyBytes: 20 * 1024 * 1024 }`.
     */
    failNext(...entries) {
      faults.push(...entries);
    },
    /** Plays `fault` for every token request (after any `failNext` ones) until `recover()`. */
    failAll(fault) {
      failing = fault;
    },
    /** Ends `failAll`: token requests are answered normally again. */
    recover() {
      failing = undefined;
    },
    /** Requests made to a token path (whatever their outcome). */
    get tokenRequests() {
      return tokenRequestCount();
    },
    /** Tokens issued. */
    get issued() {
      return issued;
    },
    /** Forgets recorded requests and pending faults, and recovers from `failAll`. */
    reset() {
      requests.length = 0;
      faults.length = 0;
      failing = undefined;
      issued = 0;
    },
    /** Stops the server and drops open connections, hung ones included. */
    close() {
      for (const socket of openSockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Who a scripted token is for: the tenant in the path, the client and resource in the form. */
function faultContext(tenant, body) {
  const form = new URLSearchParams(body);
  const scope = form.get("scope") ?? "";
  return {
    tenant: tenant ?? "oauth",
    clientId: form.get("client_id") ?? LOCAL_APP.clientId,
    resource: scope.endsWith("/.default") ? scope.slice(0, -"/.default".length) : scope,
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
