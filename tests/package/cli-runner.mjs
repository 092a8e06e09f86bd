// The installed package's CLI as the package suites spawn it: its bin, the environment of an
// app registered at the local token endpoint, and one run's exit code and output.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { LOCAL_APP } from "../token-endpoint/server.mjs";

/** The installed package's folder, ending in "/". */
export const PACKAGE_DIR = createRequire(import.meta.url).resolve("cctoken/package.json").replace(/package\.json$/, "");
/** The installed `cctoken` bin. */
export const BIN = `${PACKAGE_DIR}bin/cctoken.mjs`;

/** The local app's settings as AZURE_* variables for `endpoint`, and PATH, with `extra` (nothing else: no HOME unless given). */
export const localAppEnv = (endpoint, extra = {}) => ({
  PATH: process.env.PATH,
  AZURE_TENANT_ID: LOCAL_APP.tenantId,
  AZURE_CLIENT_ID: LOCAL_APP.clientId,
  AZURE_CLIENT_SECRET: LOCAL_APP.clientSecret,
  AZURE_AUTHORITY_HOST: endpoint.url,
  ...extra,
});

/** Runs the CLI with `args` (after `nodeArgs` for node itself); resolves with `{ code, stdout, stderr, lines }`. */
export function runCli(args, env, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr, lines: stdout.split("\n") }));
  });
}
