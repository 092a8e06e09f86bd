// HTTPS_PROXY / HTTP_PROXY / NO_PROXY for the CLI on Node, whose global fetch ignores them, and
// on Deno, whose fetch leaks the proxy's credentials (see honourProxyEnvironment). A
// fetch-compatible function over node:net, node:tls and node:http: a CONNECT tunnel for
// https:// targets, absolute-form requests for http:// ones. Small and dependency-free on
// purpose: undici's EnvHttpProxyAgent would more than double the installed package. The CLI's
// own, not the library's API.
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

/** A proxy variable's URL: curl and most tools take "proxy.corp:8080" as http://proxy.corp:8080. */
function proxyUrl(value) {
  return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
}

/** Errors about a proxy setting: they name the variable, never its value (it may hold a password). */
function invalidProxy(name, why) {
  return Object.assign(new Error(`${name} is not a usable proxy URL: ${why}`), { code: "invalid_config", field: name });
}

/** A percent-encoded user or password; one with a stray `%` is taken as written, as curl does. */
function decodePart(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The proxy for each scheme, from the environment, checked now so that a typo is a
 * configuration error before any request. `{ https, http, noProxy }`; a proxy is
 * `{ host, port, source, label, authorization }`: `source` the variable's name, `label` the
 * URL without credentials, `authorization` the Proxy-Authorization value, if any.
 */
export function proxySettings(env) {
  const parse = (found) => {
    if (!found) return undefined;
    let url;
    try {
      url = proxyUrl(found.value);
    } catch {
      throw invalidProxy(found.name, "write it as http://[user:password@]host:port");
    }
    if (url.protocol !== "http:") throw invalidProxy(found.name, `the CLI speaks to http:// proxies only, not ${url.protocol}//`);
    const authorization = url.username || url.password
      ? `Basic ${Buffer.from(`${decodePart(url.username)}:${decodePart(url.password)}`).toString("base64")}`
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
 * proxy, go to `direct` (by default straight to the host, over node:net / node:tls). Supports
 * what the library sends: method, headers, a string or byte body, `signal`; redirects are never
 * followed (the library asks for "manual").
 */
export function createProxyFetch(env, direct = (input, init) => send(new URL(String(input)), init, undefined)) {
  const settings = proxySettings(env);
  return function proxyFetch(input, init = {}) {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const proxy = url.protocol === "https:" ? settings.https : url.protocol === "http:" ? settings.http : undefined;
    if (!proxy || bypassesProxy(url, settings.noProxy)) return direct(input, init);
    return send(url, init, proxy);
  };
}

/** One HTTP/1.1 exchange for `url`, through `proxy` when given, as a WHATWG Response. */
function send(url, init = {}, proxy) {
  if (url.protocol !== "https:" && url.protocol !== "http:") return Promise.reject(new TypeError(`fetch failed: ${url.protocol} URLs are not supported`));
  const signal = init.signal;
  if (signal?.aborted) return Promise.reject(signal.reason ?? ABORTED());
  const via = proxy && `the proxy ${proxy.label} (from ${proxy.source})`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
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
    const track = (socket, onError) => {
      sockets.push(socket);
      socket.once("error", (error) => fail(onError(error)));
      return socket;
    };
    const fetchFailed = (error) => new TypeError("fetch failed", { cause: error });
    const toProxy = () => track(netConnect({ host: proxy.host, port: proxy.port }), (error) => proxyError(`could not reach ${via}`, { code: error.code ?? "connection failed" }));
    // servername (SNI) must be a name; the certificate is checked against `host` either way.
    const secure = (socket) => track(tlsConnect({ socket, host, port, servername: isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"] }), fetchFailed);

    const headers = new Headers(init.headers);
    const body = init.body == null ? undefined : Buffer.from(typeof init.body === "string" ? init.body : new Uint8Array(init.body));
    if (body) headers.set("content-length", String(body.length));
    headers.set("host", url.host);

    const exchange = (createConnection, path, absoluteForm) => {
      const request = httpRequest({
        createConnection,
        // No agent: one connection per request (the CLI sends one or two), and no
        // NODE_USE_ENV_PROXY agent of Node's own in the way.
        agent: null,
        method: init.method ?? "GET",
        path,
        headers: { ...Object.fromEntries(headers), ...(absoluteForm && proxy.authorization ? { "proxy-authorization": proxy.authorization } : {}) },
      });
      request.once("error", (error) => fail(fetchFailed(error)));
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

    const path = `${url.pathname}${url.search}`;
    if (!proxy) {
      const direct = () => track(netConnect({ host, port }), fetchFailed);
      exchange(url.protocol === "https:" ? () => secure(direct()) : direct, path, false);
      return;
    }
    if (url.protocol === "http:") {
      // Absolute-form: the proxy forwards the request itself.
      exchange(toProxy, url.href, true);
      return;
    }
    const target = `${url.hostname}:${port}`;
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
      const tunnel = secure(socket);
      exchange(() => tunnel, path, false);
    });
    connect.end();
  });
}

/**
 * The proxy variables in effect, for an error that may be the proxy's ("HTTPS_PROXY=http://
 * proxy:8080, NO_PROXY=.corp"), or undefined when none is set. Proxy URLs lose their
 * credentials; one that cannot be parsed is only said to be set.
 */
export function describeProxySettings(env) {
  const parts = [];
  for (const found of [variable(env, "HTTPS_PROXY"), variable(env, "HTTP_PROXY")]) {
    if (!found) continue;
    let label;
    try {
      const url = proxyUrl(found.value);
      label = `${url.protocol}//${url.host}`;
    } catch {
      label = "(set, not a URL)";
    }
    parts.push(`${found.name}=${label}`);
  }
  const noProxy = variable(env, "NO_PROXY");
  if (parts.length && noProxy) parts.push(`${noProxy.name}=${noProxy.value}`);
  return parts.length ? parts.join(", ") : undefined;
}

let installed = false;

/**
 * Makes the process's `globalThis.fetch` honour `env`'s proxy variables, when one is set. The
 * CLI owns its process, so every request it makes (the token, and any other command's) goes
 * through this one fetch. Node's fetch ignores the variables: exempt requests still use it.
 * Deno's reads them, but (2.9.6) sends the proxy's Proxy-Authorization on to the server inside
 * the tunnel and ignores `*`, `host:port` and spaces in NO_PROXY, so there every request goes
 * through this module, exempt ones straight to the host. Bun's fetch gets them right: left alone.
 */
export function honourProxyEnvironment(env) {
  if (installed || globalThis.Bun !== undefined) return;
  const settings = proxySettings(env);
  if (!settings.https && !settings.http) return;
  globalThis.fetch = globalThis.Deno === undefined ? createProxyFetch(env, globalThis.fetch) : createProxyFetch(env);
  installed = true;
}
