// The demo: acquire an app token through the npm module in Node and in Deno and through the
// Worker broker (wrangler dev --local), twice each, and print where each token came from.
// Against the bundled local token endpoint, unless AZURE_TENANT_ID, AZURE_CLIENT_ID,
// AZURE_CLIENT_SECRET and CCTOKEN_SCOPE name a real tenant, app and scope.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { LOCAL_APP, startTokenEndpoint } from "../tests/token-endpoint/server.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const target = await chooseTarget();
const rows = [];
try {
  console.log(`target: ${target.description}\n`);
  const env = {
    ...process.env,
    CCTOKEN_DEMO_AUTHORITY: target.authority,
    CCTOKEN_DEMO_CLIENT_ID: target.clientId,
    CCTOKEN_DEMO_CLIENT_SECRET: target.clientSecret,
    CCTOKEN_DEMO_SCOPE: target.scope,
  };
  const acquire = join(ROOT, "demo/acquire.mjs");
  const host = new URL(target.authority).host;
  const runtimes = [
    [process.execPath, [acquire], env],
    [
      join(ROOT, "node_modules/.bin/deno"),
      ["run", "--quiet", "--allow-read", `--allow-net=${host}`, `--allow-env=${Object.keys(env).filter((k) => k.startsWith("CCTOKEN_DEMO_")).join(",")}`, acquire],
      { ...env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    ],
  ];
  for (const [command, args, childEnv] of runtimes) {
    for (const call of await runJsonLines(command, args, childEnv)) {
      rows.push([`npm module, ${call.runtime}`, call.source, call.ms]);
    }
  }

  // A caller "demo" with a fresh key; the broker stores only its SHA-256.
  const brokerKey = randomBytes(24).toString("base64url");
  const broker = await startWranglerDev({
    TENANT_ID: target.tenantId,
    AUTHORITY_HOST: target.authorityHost,
    CLIENT_ID: target.clientId,
    CLIENT_SECRET: target.clientSecret,
    BROKER_CLIENTS: JSON.stringify({
      demo: { keySha256: [createHash("sha256").update(brokerKey).digest("hex")], scopes: [target.scope] },
    }),
    CACHE_KEY: randomBytes(32).toString("base64"),
  });
  try {
    for (let call = 0; call < 2; call += 1) {
      const started = performance.now();
      const response = await fetch(`${broker.url}/token`, {
        method: "POST",
        headers: { authorization: `Bearer ${brokerKey}`, "content-type": "application/json" },
        body: JSON.stringify({ scopes: [target.scope] }),
      });
      const body = await response.json();
      const ms = performance.now() - started;
      if (!response.ok) throw new Error(`broker answered ${response.status}: ${body.error}: ${body.error_description}`);
      rows.push(["Worker broker (wrangler dev --local)", body.cache, ms]);
    }
  } finally {
    await broker.stop();
  }

  printTable(rows);
  if (target.endpoint) {
    console.log(`\nlocal token endpoint: ${target.endpoint.tokenRequests} token requests for ${rows.length} tokens served`);
  }
} finally {
  await target.endpoint?.close();
}

async function chooseTarget() {
  const { AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, CCTOKEN_SCOPE, AZURE_AUTHORITY_HOST } = process.env;
  if (AZURE_TENANT_ID && AZURE_CLIENT_ID && AZURE_CLIENT_SECRET && CCTOKEN_SCOPE) {
    const host = (AZURE_AUTHORITY_HOST ?? "https://login.microsoftonline.com").replace(/\/+$/, "");
    return {
      description: `tenant ${AZURE_TENANT_ID} at ${host}, scope ${CCTOKEN_SCOPE}`,
      authority: `${host}/${AZURE_TENANT_ID}`,
      tenantId: AZURE_TENANT_ID,
      authorityHost: host,
      clientId: AZURE_CLIENT_ID,
      clientSecret: AZURE_CLIENT_SECRET,
      scope: CCTOKEN_SCOPE,
    };
  }
  const endpoint = await startTokenEndpoint();
  return {
    description: `local token endpoint ${endpoint.url} (set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and CCTOKEN_SCOPE for a real tenant)`,
    endpoint,
    authority: endpoint.authority,
    tenantId: LOCAL_APP.tenantId,
    authorityHost: endpoint.url,
    clientId: LOCAL_APP.clientId,
    clientSecret: LOCAL_APP.clientSecret,
    scope: "api://cctoken-demo/.default",
  };
}

function runJsonLines(command, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${command} exited with ${code}:\n${stderr}`));
      resolve(stdout.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line)));
    });
  });
}

function printTable(table) {
  const header = ["path", "source", "ms"];
  const cells = table.map(([path, source, ms]) => [path, source, ms.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const line = (row) => "| " + row.map((cell, i) => (i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(" | ") + " |";
  console.log(line(header));
  console.log("|" + widths.map((w, i) => "-".repeat(w + 1) + (i === 2 ? ":" : "-")).join("|") + "|");
  for (const row of cells) console.log(line(row));
}
