#!/usr/bin/env node
// cctoken CLI: app-only tokens for shell scripts. Prints nothing secret but the token you ask for.
import process from "node:process";
import { parseArgs } from "node:util";
import { SETTINGS_OPTIONS } from "./settings-options.mjs";
import { ConfidentialClient, adminConsentUrl, loadConfigFile } from "cctoken";
import { describeProxySettings, honourProxyEnvironment } from "./proxy-fetch.mjs";

const EXIT = { ok: 0, usage: 2, refused: 3, transient: 4 };
const LOCAL_CODES = new Set(["invalid_config", "invalid_authority", "invalid_scope", "crypto_error"]);

const HELP = {
  main: `Usage: cctoken <command> [options]

Commands:
  token         acquire an app-only access token and print it
  consent-url   print the admin-consent URL for an app in a tenant
  doctor        check the app's setup step by step and say how to fix what is wrong

Run "cctoken <command> --help" for a command's options. Exit codes: 0 ok, 2 usage or
configuration error, 3 the identity provider refused, 4 worth retrying later: network,
timeout, throttled or the identity provider temporarily failing (5xx).

Behind a proxy: HTTPS_PROXY, HTTP_PROXY and NO_PROXY (or their lower-case forms) are honoured
on Node, Deno and Bun; a user:password@ in the proxy URL is sent to the proxy only.`,
  token: `Usage: cctoken token --scope <scope> [--scope …] [options]

Prints the access token alone, so that TOKEN=$(cctoken token --scope …) works.

Where the app's settings come from (first that applies):
  --config <file>            appsettings.json (AzureAd section) or an MSAL Python config
  --tenant <id> --client-id <id> with
    --client-secret-env <VAR>  read the client secret from environment variable VAR
    --certificate <file>       PEM file holding the private key and its certificate
  (otherwise) the environment: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET,
    AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE; AZURE_AUTHORITY_HOST

Options:
  --scope <scope>            e.g. https://graph.microsoft.com/.default (repeatable;
                             optional when the config file names scopes)
  --authority-host <url>     the cloud, e.g. https://login.microsoftonline.us
  --json                     print the whole result as JSON
  --decode                   print the token's header and claims (not verified), e.g. roles,
                             and its lifetime as a time line on stderr
  --no-cache                 neither read nor write the token cache (see below)
  --refresh                  get a new token from the identity provider and keep it in the
                             cache, e.g. after admin consent granted new roles
  -h, --help                 this help

Tokens are kept across runs until they near expiry, encrypted with a key derived from the
app's credential, in $CCTOKEN_CACHE_DIR, else $XDG_CACHE_HOME/cctoken, else ~/.cache/cctoken
(federated credentials excepted). --refresh replaces the app's cached token for the scopes;
delete that directory to clear them all.`,
  "consent-url": `Usage: cctoken consent-url --tenant <id or domain> --client-id <id> [--authority-host <url>]

Prints the URL an administrator opens to grant the app's application permissions.`,
};

class UsageError extends Error {}

async function main(argv) {
  const [command, ...rest] = argv;
  if (!command || command === "-h" || command === "--help") return print(HELP.main, EXIT.ok);
  if (command === "--version") return print(await packageVersion(), EXIT.ok);
  if (command === "doctor") return (await import("./doctor.mjs")).runDoctor(rest, { clientFrom, environmentVariable });
  if (!Object.hasOwn(HELP, command) || command === "main") throw new UsageError(`unknown command "${command}"\n\n${HELP.main}`);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: { ...SETTINGS_OPTIONS, decode: { type: "boolean" }, refresh: { type: "boolean" } },
  });
  if (values.help) return print(HELP[command], EXIT.ok);
  if (command === "consent-url") {
    if (!values.tenant || !values["client-id"]) throw new UsageError(`consent-url needs --tenant and --client-id\n\n${HELP["consent-url"]}`);
    return print(adminConsentUrl({ tenant: values.tenant, clientId: values["client-id"], authorityHost: values["authority-host"] }), EXIT.ok);
  }
  const { client, configuredScopes } = clientFrom(values);
  const scopes = values.scope ?? configuredScopes;
  if (!scopes?.length) throw new UsageError(`token needs at least one --scope, e.g. --scope https://graph.microsoft.com/.default\n\n${HELP.token}`);
  // --refresh: a token issued before admin consent lacks the roles granted since; the cache
  // would keep serving it until it nears expiry. The new one is written to the cache.
  const result = await client.acquireTokenForClient(values.refresh ? { scopes, forceRefresh: true } : { scopes });
  if (values.decode) {
    const decoded = decodeJwt(result.accessToken);
    print(JSON.stringify(decoded, null, 2), EXIT.ok);
    // The picture goes to stderr, so stdout stays JSON for jq.
    (await import("./timeline.mjs")).printTokenTimeline(result, decoded.payload, process.stderr, process.env);
    return EXIT.ok;
  }
  if (values.json) return print(JSON.stringify(result, null, 2), EXIT.ok);
  return print(result.accessToken, EXIT.ok);
}

/** The token cache across runs (CCTOKEN_CACHE_DIR, XDG_CACHE_HOME, ~/.cache), unless --no-cache. */
function cacheOption(values) {
  return values["no-cache"] ? {} : { persistentCache: {} };
}

function clientFrom(values) {
  // HTTPS_PROXY / HTTP_PROXY / NO_PROXY: Node's fetch ignores them (Deno's and Bun's do not).
  honourProxyEnvironment(process.env);
  const host = values["authority-host"];
  const cache = cacheOption(values);
  if (values.config) {
    const { options, scopes } = loadConfigFile(values.config);
    return { client: new ConfidentialClient({ ...(host ? withHost(options, host) : options), ...cache }), configuredScopes: scopes };
  }
  if (values.tenant || values["client-id"]) {
    if (!values.tenant || !values["client-id"]) throw new UsageError("--tenant and --client-id go together");
    let credential;
    if (values["client-secret-env"]) {
      const secret = environmentVariable(values["client-secret-env"]);
      if (!secret) throw new UsageError(`environment variable ${values["client-secret-env"]} (from --client-secret-env) is not set`);
      credential = { clientSecret: secret };
    } else if (values.certificate) {
      const pem = readFile(values.certificate);
      credential = { certificate: { privateKeyPem: pem } };
    } else {
      throw new UsageError("with --tenant and --client-id, pass --client-secret-env <VAR> or --certificate <file>");
    }
    const options = { clientId: values["client-id"], tenantId: values.tenant, credential, ...cache };
    if (host) options.authorityHost = host;
    return { client: new ConfidentialClient(options), configuredScopes: undefined };
  }
  return { client: ConfidentialClient.fromEnvironment({ ...(host ? { tenantId: environmentVariable("AZURE_TENANT_ID"), authorityHost: host } : {}), ...cache }), configuredScopes: undefined };
}

/** An environment variable, if set. `process.env` inherits from Object.prototype: a polluted prototype must not read as set. */
function environmentVariable(name) {
  return Object.hasOwn(process.env, name) ? process.env[name] : undefined;
}

function withHost(options, host) {
  if (options.authority) throw new UsageError("--authority-host applies only to configs that give a tenant id, not a full authority");
  return { ...options, authorityHost: host };
}

function readFile(path) {
  try {
    return process.getBuiltinModule("node:fs").readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${error.message}`);
  }
}

function decodeJwt(token) {
  const [header, payload] = token.split(".");
  const part = (text) => {
    try {
      return JSON.parse(Buffer.from(text ?? "", "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
  };
  const decoded = { header: part(header), payload: part(payload) };
  if (!decoded.header || !decoded.payload) throw Object.assign(new Error("the access token is not a JWT (opaque tokens cannot be decoded)"), { code: "invalid_response" });
  return decoded;
}

async function packageVersion() {
  const { readFileSync } = await import("node:fs");
  return JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
}

function print(text, code) {
  process.stdout.write(`${text}\n`);
  return code;
}

function report(error) {
  if (error instanceof UsageError || error?.code?.startsWith?.("ERR_PARSE_ARGS")) {
    process.stderr.write(`cctoken: ${error.message}\n`);
    return EXIT.usage;
  }
  const lines = [`cctoken: ${error.message}`];
  if (error.aadsts?.length) lines.push(`  AADSTS: ${error.aadsts.join(", ")}`);
  if (error.correlationId) lines.push(`  correlation id: ${error.correlationId}`);
  if (error.traceId) lines.push(`  trace id: ${error.traceId}`);
  if (error.retryAfter !== undefined) lines.push(`  retry after: ${Math.ceil(error.retryAfter / 1000)} s`);
  const proxy = describeProxySettings(process.env);
  if (proxy && (error.code === "network_error" || error.code === "timeout")) lines.push(`  proxy: ${proxy}`);
  process.stderr.write(`${lines.join("\n")}\n`);
  if (LOCAL_CODES.has(error.code)) return EXIT.usage;
  // The core's classification (Error::is_transient), carried by every ClientCredentialError.
  return error.transient === true ? EXIT.transient : EXIT.refused;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.exitCode = report(error);
  },
);
