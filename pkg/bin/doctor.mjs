// `cctoken doctor`: the I/O around the core's checks (src/doctor, exported to the CLI as the
// wasm's `doctor…` functions). It reads the settings as `cctoken token` does, fetches the
// authority's OpenID configuration, digests the certificate with WebCrypto, acquires a token
// (which stays inside wasm: only findings and its lifetime come out) and, with --call, lets
// wasm GET the API with it. One line per check, ✓ / ⚠ / ✗ / – (skipped), the fix under each
// ⚠ and ✗; or all of it as JSON. The exit code is the first ✗'s class, as `token`'s.
import process from "node:process";
import { parseArgs } from "node:util";
import { SETTINGS_OPTIONS } from "./settings-options.mjs";
import {
  doctorAcquireToken,
  doctorCertificateDer,
  doctorCheckCertificate,
  doctorCheckClock,
  doctorCheckKeyMatchesJwk,
  doctorCheckTenant,
  doctorClientFacts,
  loadConfigFile,
} from "../dist/web/cctoken.js";
import { persistedForcedAcquisition } from "../src/persistent-cache.mjs";
import { describeProxySettings } from "./proxy-fetch.mjs";
import { renderTimeline, wantsColor } from "./timeline.mjs";

export const DOCTOR_HELP = `Usage: cctoken doctor [--scope <scope>] [--call <url>] [settings options] [--json]

Checks the app's setup, in order, one line each (✓ fine, ⚠ works but look, ✗ broken, – skipped),
with the fix under every ⚠ and ✗: where the settings came from and the credential kind; the
certificate (subject, SHA-1/SHA-256 thumbprints, expiry, whether the private key belongs to it);
the tenant (the authority's OpenID configuration, its token endpoint); the clock against the
server's; a token for the scope (not printed) and its claims (aud, tid, appid/azp, roles) with
its lifetime as a time line; with --call, what the API answers to a GET with the token.
Checks that only make sense for Entra ID are skipped for other token endpoints.

Settings options are those of "cctoken token": --config <file>, --tenant <id> --client-id <id>
with --client-secret-env <VAR> or --certificate <file>, --authority-host <url>, else the
environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, …).

Options:
  --scope <scope>            the scope to try (default: the config file's, else
                             https://graph.microsoft.com/.default)
  --call <url>               GET this URL with the token and explain the answer (https, or
                             http to loopback; no user:password; redirects not followed)
  --json                     print {findings, lifetime, exitCode} as JSON
  --no-cache                 do not write the token the check acquires to the token cache
  -h, --help                 this help

Exit codes: 0 every check ✓ or ⚠, 2 configuration, 3 refused, 4 network (the first ✗'s).`;

const DEFAULT_SCOPE = "https://graph.microsoft.com/.default";
const EXIT_CODES = { configuration: 2, refused: 3, transient: 4 };
const MARKS = { ok: "✓", warn: "⚠", fail: "✗", skipped: "–" };
/** Every HTTP request the doctor makes itself gives up after this long. */
const REQUEST_TIMEOUT_MS = 30_000;

const finding = (check, status, summary, extra = {}) => ({ check, status, summary, ...extra });
const skipped = (check, why) => finding(check, "skipped", why);

/**
 * Runs the doctor on the arguments after "doctor" and returns the exit code.
 * @param {string[]} args
 * @param {{clientFrom: (values: object) => {client: object, configuredScopes?: string[]}, environmentVariable: (name: string) => string | undefined, stdout?: {write: (text: string) => unknown, isTTY?: boolean}, env?: Record<string, string | undefined>, requestTimeoutMs?: number}} cli
 *   the CLI's settings readers, where to print (default: process.stdout), the environment
 *   that decides colour and names proxies (default: process.env), and (tests) how long the
 *   doctor's own requests wait (default 30 s)
 */
export async function runDoctor(args, cli) {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { ...SETTINGS_OPTIONS, call: { type: "string" } },
  });
  const stdout = cli.stdout ?? process.stdout;
  if (values.help) {
    stdout.write(`${DOCTOR_HELP}\n`);
    return 0;
  }
  const report = { findings: [], lifetime: null, exitCode: 0 };
  await diagnose(values, { ...cli, requestTimeoutMs: cli.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, env: cli.env ?? process.env }, report);
  report.exitCode = exitCode(report.findings);
  if (values.json) {
    stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    stdout.write(render(report.findings, report.lifetime, wantsColor(stdout, cli.env ?? process.env)));
  }
  return report.exitCode;
}

async function diagnose(values, cli, report) {
  const add = (...found) => report.findings.push(...found);
  const source = settingsSource(values, cli.environmentVariable);
  let built;
  try {
    built = cli.clientFrom(values);
  } catch (error) {
    add(finding("settings", "fail", `the settings from ${source.where} cannot be used: ${error.message}`, {
      fix: error.hint ?? "fix the setting the message names (cctoken doctor --help lists where settings come from)",
      exit: "configuration",
    }));
    return;
  }
  const facts = JSON.parse(doctorClientFacts(built.client));
  const entra = typeof facts.tenant === "string";
  const scopes = values.scope ?? (built.configuredScopes?.length ? built.configuredScopes : [DEFAULT_SCOPE]);
  add(finding("settings", "ok", `settings from ${source.where}; credential: ${facts.credential}; client ${facts.clientId}`, {
    details: [`token endpoint ${facts.tokenEndpoint}${entra ? "" : " (not an Entra ID authority: Entra-only checks are skipped)"}`],
  }));

  // The certificate: only the credential's own PEM text is read; the key never leaves wasm but
  // for a public JWK, made when the key carries no public part of its own.
  const pem = facts.credential === "certificate" ? source.pem?.() : undefined;
  if (facts.credential !== "certificate") {
    add(skipped("certificate", `certificate: not used (the credential is a ${facts.credential})`));
  } else if (pem === undefined) {
    add(skipped("certificate", "certificate: the credential's PEM could not be located for checking"));
  } else if (!pem.certificatePem.includes("-----BEGIN CERTIFICATE-----")) {
    add(skipped("certificate", "certificate: only a private key and thumbprint are configured, so there is no certificate to check"));
  } else {
    add(...(await certificateFindings(pem)));
  }

  // The tenant, and the clock from the same reply's Date header.
  let tenantId;
  if (entra) {
    const url = `${facts.authorityHost}/${encodeURIComponent(facts.tenant)}/v2.0/.well-known/openid-configuration`;
    const reply = await get(url, cli.requestTimeoutMs);
    if (reply.error) {
      add(unreachable("tenant", url, reply.error, cli.env));
      add(skipped("clock", "clock: skipped: the authority could not be reached"));
    } else {
      const discovery = JSON.parse(doctorCheckTenant(built.client, reply.status, reply.body));
      tenantId = discovery.tenantId;
      add(discovery.finding);
      add(JSON.parse(doctorCheckClock(reply.date, reply.receivedMs)));
    }
  } else {
    add(skipped("tenant", "tenant: skipped: a generic token endpoint has no Entra tenant or OpenID configuration to check"));
    // Any reply carries the server's Date: a GET to the token endpoint (it only takes POSTs).
    const reply = await get(facts.tokenEndpoint, cli.requestTimeoutMs);
    add(reply.error ? skipped("clock", "clock: skipped: the token endpoint could not be reached") : JSON.parse(doctorCheckClock(reply.date, reply.receivedMs)));
  }

  // Forced (the check is whether the credential works today), and kept in the token cache
  // as `cctoken token --refresh` keeps its token, unless --no-cache.
  const token = await persistedForcedAcquisition(built.client, () => doctorAcquireToken(built.client, scopes));
  try {
    const found = JSON.parse(token.findings(tenantId, Date.now()));
    if (entra) {
      add(...found);
    } else {
      // aud as "<resource>/.default", tid, appid/azp and roles are Entra's conventions.
      const kept = found.filter((f) => ["token", "token-lifetime", "claims"].includes(f.check));
      add(...kept);
      if (token.acquired && kept.length < found.length) add(skipped("claims", "claims aud, tid, appid/azp, roles: skipped: Entra ID conventions, not a generic endpoint's"));
    }
    report.lifetime = JSON.parse(token.lifetime());
    if (values.call !== undefined) {
      add(
        token.acquired
          ? withProxy(JSON.parse(await token.call(values.call, cli.requestTimeoutMs)), cli.env)
          : skipped("call", "call: skipped: no token to call with"),
      );
    }
  } finally {
    token.free();
  }
}

/** Where the settings come from, as `cctoken token` picks them, and the certificate PEM. */
function settingsSource(values, environmentVariable) {
  const fs = process.getBuiltinModule("node:fs");
  const readPem = (path) => () => {
    try {
      const text = fs.readFileSync(path, "utf8");
      return { certificatePem: text, privateKeyPem: text };
    } catch {
      return undefined;
    }
  };
  if (values.config) {
    const fromConfig = () => {
      try {
        const certificate = loadConfigFile(values.config).options.credential?.certificate;
        return certificate && { certificatePem: certificate.certificatePem ?? certificate.privateKeyPem ?? "", privateKeyPem: certificate.privateKeyPem };
      } catch {
        return undefined;
      }
    };
    return { where: `the config file ${values.config}`, pem: fromConfig };
  }
  if (values.tenant || values["client-id"]) {
    const credential = values["client-secret-env"] ? `--client-secret-env ${values["client-secret-env"]}` : values.certificate ? `--certificate ${values.certificate}` : "no credential flag";
    return { where: `the command line (--tenant, --client-id, ${credential})`, pem: values.certificate ? readPem(values.certificate) : undefined };
  }
  const set = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"].filter(
    (name) => environmentVariable(name) !== undefined,
  );
  const path = environmentVariable("AZURE_CLIENT_CERTIFICATE_PATH");
  return { where: `the environment (${set.join(", ") || "nothing set"})`, pem: path ? readPem(path) : undefined };
}

async function certificateFindings({ certificatePem, privateKeyPem }) {
  let sha1;
  let sha256;
  try {
    const der = doctorCertificateDer(certificatePem);
    const hex = async (algorithm) => Buffer.from(await crypto.subtle.digest(algorithm, der)).toString("hex");
    [sha1, sha256] = await Promise.all([hex("SHA-1"), hex("SHA-256")]);
  } catch {
    // An unreadable certificate: the core's check says why.
  }
  const findings = JSON.parse(doctorCheckCertificate(certificatePem, privateKeyPem, sha1, sha256, Date.now()));
  const keyMatch = findings.findIndex((f) => f.check === "key-match");
  if (keyMatch >= 0 && findings[keyMatch].status === "warn") {
    // The key carries no public part the core can read: Node derives it, and only its public
    // JWK members cross back.
    const jwk = publicJwk(privateKeyPem);
    if (jwk) {
      const compared = JSON.parse(doctorCheckKeyMatchesJwk(certificatePem, jwk));
      if (compared.status !== "warn") findings[keyMatch] = compared;
    }
  }
  return findings;
}

function publicJwk(privateKeyPem) {
  try {
    const { createPrivateKey, createPublicKey } = process.getBuiltinModule("node:crypto");
    const { kty, crv, x, y, n, e } = createPublicKey(createPrivateKey(privateKeyPem)).export({ format: "jwk" });
    return JSON.stringify({ kty, crv, x, y, n, e });
  } catch {
    return undefined;
  }
}

/** GET `url`: status, body, Date header and when the reply arrived; or why it failed. */
async function get(url, timeoutMs) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    const receivedMs = Date.now();
    const body = (await response.text()).slice(0, 64 * 1024);
    return { status: response.status, body, date: response.headers.get("date") ?? undefined, receivedMs };
  } catch (error) {
    return { error };
  }
}

function unreachable(check, url, error, env) {
  const cause = error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(error);
  return withProxy(
    finding(check, "fail", `could not reach ${url.split("?")[0]}: ${cause}`, {
      fix: "check the authority host, the network and any proxy (HTTPS_PROXY) between here and it",
      exit: "transient",
    }),
    env,
  );
}

/** A network ✗ names the proxy settings in effect, as `cctoken token` does (never a password). */
function withProxy(found, env) {
  const proxy = found.status === "fail" && found.exit === "transient" ? describeProxySettings(env) : undefined;
  return proxy ? { ...found, details: [...(found.details ?? []), `proxy: ${proxy}`] } : found;
}

function exitCode(findings) {
  const first = findings.find((f) => f.status === "fail");
  return first ? (EXIT_CODES[first.exit] ?? 2) : 0;
}

/** The findings as the core's `render` prints them, with "–" for a skipped check, then the time line. */
export function render(findings, lifetime, color, nowMs = Date.now()) {
  let out = "";
  for (const f of findings) {
    out += `${MARKS[f.status]} ${f.summary}\n`;
    for (const detail of f.details ?? []) out += `    ${detail}\n`;
    if ((f.status === "warn" || f.status === "fail") && f.fix) out += `  → ${f.fix}\n`;
  }
  const picture = lifetime ? renderTimeline(lifetime, { nowMs, color }) : "";
  return picture ? `${out}\n${picture}\n` : out;
}
