// HTTPS_PROXY / HTTP_PROXY / NO_PROXY for the CLI on Node, whose global fetch ignores them
// (Deno's and Bun's honour them, so the CLI leaves those alone). A fetch-compatible function
// over node:net, node:tls and node:http: a CONNECT tunnel for https:// targets, absolute-form
// requests for http:// ones. Small and dependency-free on purpose: undici's EnvHttpProxyAgent
// would more than double the installed package. The CLI's own, not the library's API.
import { Buffer } from "node:buffer";
import { connect as netConnect, isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { request as httpRequest } from "node:http";
import { Readable } from "node:stream";

/** A variable from `env`, lower-case name first (as curl, undici and Python requests read them); empty counts as unset. */
function variable(env, name) {
  for (const key of [name.toLowerCase(), name]) {
    if (Object.hasOwn(env, key) && env[key] !== "") return { name: key, value: env[key] };
  }
  return undefined;
}

/** Errors about a proxy setting: they name the variable, never its value (it may hold a password). */
function invalidProxy(name, why) {
  return Object.assign(new Error(`${name} is not a usable proxy URL: ${why}`), { code: "invalid_config", field: name });
}

/**
 * The proxy for each scheme, from the environment, checked now so that a typo is a
 * configuration error before any request. `{ https, http, noProxy }`; a proxy is
 * `{ url, source, label, authorization }` where `label` is the URL without credentials.
 */
export function proxySettings(env) {
  const parse = (found) => {
    if (!found) return undefined;
    let url;
    try {
      // curl and most tools take "proxy.corp:8080" as http://proxy.corp:8080.
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(found.value) ? found.value : `http://${found.value}`);
    } catch {
      throw invalidProxy(found.name, "write it as http://[user:password@]host:port");
    }
    if (url.protocol !== "http:") throw invalidProxy(found.name, `the CLI speaks to http:// proxies only, not ${url.protocol}//`);
    const authorization = url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`
      : undefined;
    return {
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 80),
      source: found.name,
      label: `http://${url.host}`,
      authorization,
    };
  };
  const noProxy = variable(env, "NO_PROXY");
  return {
    https: parse(variable(env, "HTTPS_PROXY")),
    http: parse(variable(env, "HTTP_PROXY")),
    noProxy: parseNoProxy(noProxy?.value ?? ""),
  };
}

/**
 * NO_PROXY entries, comma- or space-separated: `*` (everything), a host name matching itself
 * and its subdomains (`example.com`, `.example.com` and `*.example.com` alike), an IP literal
 * (`10.1.2.3`, `::1` or `[::1]`) matching exactly, each optionally with `:port`.
 */
export function parseNoProxy(text) {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      if (entry === "*") return { all: true };
      let host = entry.toLowerCase();
      let port;
      const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
      if (bracketed) {
        [, host, port] = bracketed;
      } else if (isIP(host) !== 6) {
        const withPort = /^(.*):(\d+)$/.exec(host);
        if (withPort) [, host, port] = withPort;
      }
      host = host.replace(/^\*?\./, "").replace(/\.$/, "");
      return { host, port: port === undefined ? undefined : Number(port), ip: isIP(host) !== 0 };
    });
}

/** Whether `url` (a WHATWG URL) goes direct under `entries` (from parseNoProxy). */
export function bypassesProxy(url, entries) {
  const host = url.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return entries.some((entry) => {
    if (entry.all) return true;
    if (entry.port !== undefined && entry.port !== port) return false;
    if (entry.ip || isIP(host) !== 0) return entry.host === host;
    return host === entry.host || host.endsWith(`.${entry.host}`);
  });
}

/** What a failed proxy exchange rejects with: fetch's TypeError, the proxy named by its address and variable only. */
function proxyError(message, cause) {
  return new TypeError(message, cause ? { cause } : undefined);
}

const ABORTED = () => new DOMException("This operation was aborted", "AbortError");

/**
 * A fetch for `env`'s proxies: requests NO_PROXY exempts, and those for a scheme without a
 * proxy, go to `direct`. Supports what the library sends: method, headers, a string or byte
 * body, `signal`; redirects are never followed (the library asks for "manual").
 */
export function createProxyFetch(env, direct = globalThis.fetch) {
  const settings = proxySettings(env);
  return function proxyFetch(input, init = {}) {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const proxy = url.protocol === "https:" ? settings.https : url.protocol === "http:" ? settings.http : undefined;
    if (!proxy || bypassesProxy(url, settings.noProxy)) return direct(input, init);
    return viaProxy(url, init, proxy);
  };
}

function viaProxy(url, init, proxy) {
  const signal = init.signal;
  if (signal?.aborted) return Promise.reject(signal.reason ?? ABORTED());
  const via = `the proxy ${proxy.label} (from ${proxy.source})`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const sockets = [];
    let settled = false;
    const fail = (error) => {
      for (const socket of sockets) socket.destroy();
      if (settled) return;
      settled = true;
      reject(error);
    };
    // Also after the response: an abort while the body is read closes the connection.
    signal?.addEventListener("abort", () => fail(signal.reason ?? ABORTED()), { once: true });

    const toProxy = () => {
      const socket = netConnect({ host: proxy.host, port: proxy.port });
      sockets.push(socket);
      socket.once("error", (error) => fail(proxyError(`could not reach ${via}`, { code: error.code ?? "connection failed" })));
      return socket;
    };

    const headers = new Headers(init.headers);
    const body = init.body == null ? undefined : Buffer.from(typeof init.body === "string" ? init.body : new Uint8Array(init.body));
    if (body) headers.set("content-length", String(body.length));
    headers.set("host", url.host);

    const send = (createConnection, path, absoluteForm) => {
      const request = httpRequest({
        createConnection,
        // No agent: one connection per request (the CLI sends one or two), and no
        // NODE_USE_ENV_PROXY agent of Node's own in the way.
        agent: null,
        method: init.method ?? "GET",
        path,
        headers: { ...Object.fromEntries(headers), ...(absoluteForm && proxy.authorization ? { "proxy-authorization": proxy.authorization } : {}) },
      });
      request.once("error", (error) => fail(new TypeError("fetch failed", { cause: error })));
      request.once("response", (message) => {
        if (absoluteForm && message.statusCode === 407) {
          message.resume();
          return fail(proxyError(`${via} asks for authentication (407 Proxy Authentication Required): check the user and password in ${proxy.source}`));
        }
        const responseHeaders = new Headers();
        for (let i = 0; i < message.rawHeaders.length; i += 2) responseHeaders.append(message.rawHeaders[i], message.rawHeaders[i + 1]);
        const empty = init.method === "HEAD" || [204, 205, 304].includes(message.statusCode);
        if (empty) message.resume();
        settled = true;
        resolve(new Response(empty ? null : Readable.toWeb(message), { status: message.statusCode, statusText: message.statusMessage, headers: responseHeaders }));
      });
      request.end(body);
    };

    if (url.protocol === "http:") {
      // Absolute-form: the proxy forwards the request itself.
      send(toProxy, url.href, true);
      return;
    }
    const target = `${url.hostname}:${url.port || 443}`;
    const connect = httpRequest({
      createConnection: toProxy,
      agent: null,
      method: "CONNECT",
      path: target,
      headers: { host: target, ...(proxy.authorization ? { "proxy-authorization": proxy.authorization } : {}) },
    });
    connect.once("error", (error) => fail(proxyError(`${via} broke off before opening a tunnel to ${target}`, { code: error.code ?? "closed" })));
    connect.once("connect", (reply, socket) => {
      sockets.push(socket);
      if (reply.statusCode !== 200) {
        const status = `${reply.statusCode} ${reply.statusMessage ?? ""}`.trim();
        const advice = reply.statusCode === 407 ? `: check the user and password in ${proxy.source}` : "";
        return fail(proxyError(`${via} refused to open a tunnel to ${target} (${status})${advice}`));
      }
      // servername (SNI) must be a name; the certificate is checked against `host` either way.
      const secure = tlsConnect({ socket, host, servername: isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"] });
      sockets.push(secure);
      secure.once("error", (error) => fail(new TypeError("fetch failed", { cause: error })));
      send(() => secure, `${url.pathname}${url.search}`, false);
    });
    connect.end();
  });
}

let installed = false;

/**
 * Makes the process's `globalThis.fetch` honour `env`'s proxy variables, on Node only (Deno's
 * and Bun's fetch already do), and only when one is set. The CLI owns its process, so every
 * request it makes (the token, and any other command's) goes through one fetch this way.
 */
export function honourProxyEnvironment(env) {
  if (installed || globalThis.Deno !== undefined || globalThis.Bun !== undefined) return;
  const settings = proxySettings(env);
  if (!settings.https && !settings.http) return;
  globalThis.fetch = createProxyFetch(env, globalThis.fetch);
  installed = true;
}
