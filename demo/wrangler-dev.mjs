// Starts the Worker broker with `wrangler dev --local` on 127.0.0.1 and stops it again,
// process group and all. Settings go through a private env file, not the command line.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const READY_TIMEOUT_MS = 180_000;

/** Starts the broker with `settings` as its vars and secrets; resolves once it answers. */
export async function startWranglerDev(settings) {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "cctoken-demo-"));
  const envFile = join(dir, "broker.env");
  // Single-quoted dotenv values are taken literally (JSON included); none of ours holds a quote.
  const lines = Object.entries(settings).map(([key, value]) => {
    if (String(value).includes("'")) throw new Error(`${key} must not contain a single quote`);
    return `${key}='${value}'`;
  });
  await writeFile(envFile, lines.join("\n") + "\n", { mode: 0o600 });

  const log = [];
  // wrangler needs Node 22: run it with this process's Node (the npm package node@22), not
  // whatever `node` its shebang would find first on PATH.
  const child = spawn(
    process.execPath,
    [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--env-file", envFile, "--show-interactive-dev-session=false"],
    {
      cwd: ROOT,
      detached: true, // its own process group, so stop() reaches workerd too
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}`,
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
        DO_NOT_TRACK: "1",
        CI: "true",
      },
    },
  );
  for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk) => log.push(String(chunk)));

  const stop = async () => {
    signalGroup(child.pid, "SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
    // workerd runs in the same process group and may outlive wrangler by a moment.
    const deadline = Date.now() + 5000;
    while (signalGroup(child.pid, 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    signalGroup(child.pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      await fetch(`${url}/`);
      return { url, stop, log };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await stop();
  throw new Error(`wrangler dev did not start within ${READY_TIMEOUT_MS / 1000}s:\n${log.join("")}`);
}

/** Sends `signal` to the process group led by `pid`; false once the group is gone. */
function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
