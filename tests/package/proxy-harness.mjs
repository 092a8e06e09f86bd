// What the proxy suites share: a real local forward proxy (the npm `proxy` package) that
// records what passed through it, a proxy that refuses every tunnel, the TLS fixtures for an
// https token endpoint on 127.0.0.1, and the CLI run as a child process with a clean
// environment (no proxy variable or token cache from the machine running the tests).
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createProxy } from "proxy";

const FIXTURES = new URL("../fixtures/proxy/", import.meta.url);
/** The test CA the https endpoint's certificate chains to (NODE_EXTRA_CA_CERTS, DENO_CERT). */
export const CA_FILE = fileURLToPath(new URL("ca.cert.pem", FIXTURES));
/** Key and certificate for 127.0.0.1 and localhost, signed by the test CA. */
export const TLS = {
  key: readFileSync(new URL("server.key.pem", FIXTURES), "utf8"),
  cert: readFileSync(new URL("server.cert.pem", FIXTURES), "utf8"),
};
export const PACKAGE_DIR = createRequire(import.meta.url).resolve("cctoken/package.json").replace(/package\.json$/, "");
export const BIN = `${PACKAGE_DIR}bin/cctoken.mjs`;

/** The proxy's credentials in the tests: reserved URL characters, so they must be percent-decoded. */
export const PROXY_USER = "proxy user";
export const PROXY_PASSWORD = "pr0xy-p@ss:w/rd%never-printed";
export const withCredentials = (url, user = PROXY_USER, password = PROXY_PASSWORD) =>
  url.replace("http://", `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@`);

async function listen(server) {
  const sockets = new Set();
  server.on("connection", (socket) => {
    // A client that gives up resets its connection; that is the client's business.
    socket.on("error", () => {});
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A forward proxy on 127.0.0.1. `connects` and `requests` record every CONNECT and every
 * absolute-form request (target and Proxy-Authorization), refused ones included. With
 * `requireAuth`, only PROXY_USER:PROXY_PASSWORD gets through; others get 407.
 */
export async function startProxy({ requireAuth = false } = {}) {
  const server = createProxy(createServer());
  const connects = [];
  const requests = [];
  server.prependListener("connect", (req) => connects.push({ target: req.url, authorization: req.headers["proxy-authorization"] }));
  server.prependListener("request", (req) => requests.push({ method: req.method, target: req.url, authorization: req.headers["proxy-authorization"] }));
  const expected = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString("base64")}`;
  if (requireAuth) server.authenticate = (req) => req.headers["proxy-authorization"] === expected;
  const listening = await listen(server);
  return {
    ...listening,
    connects,
    requests,
    /** The http.Server, for its "connect" events. */
    server,
    get count() {
      return connects.length + requests.length;
    },
    reset() {
      connects.length = 0;
      requests.length = 0;
    },
  };
}

/** A proxy that answers every CONNECT with `status` (e.g. 403: the proxy's policy forbids the host). */
export async function startRefusingProxy(status, reason) {
  const server = createServer((req, res) => res.writeHead(status, reason).end());
  let connects = 0;
  server.on("connect", (req, socket) => {
    connects += 1;
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\n\r\n`);
  });
  return { ...(await listen(server)), get connects() { return connects; } };
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
export async function closedPort() {
  const server = createNetServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Runs `command args` with only `env` (plus PATH and HOME, and a fresh token-cache folder so
 * that no run is served from an earlier one's tokens). Resolves to `{ code, stdout, stderr }`.
 */
export async function run(command, args, env) {
  const cache = await mkdtemp(join(tmpdir(), "cctoken-proxy-cache-"));
  const fullEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? cache,
    XDG_CACHE_HOME: cache,
    CCTOKEN_CACHE_DIR: cache,
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}),
    ...env,
  };
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(command, args, { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}
