// The JS half of the adapters (src/js/host_bridge.rs): sending a token request and reading its
// reply, reading a capped body and building a result each cross the wasm boundary once. They
// hold no protocol logic: the core builds every request and reads every reply; these only move
// bytes. wasm-bindgen ships this file inside the glue it generates (a local JS snippet), so the
// npm module's ESM and CommonJS glue and the Worker all carry this one copy.

/**
 * The class of every error cctoken throws (src/js/error.rs gives them `code`, `transient` and
 * the rest). `instanceof` recognises errors by name rather than prototype, so it also holds
 * for errors from another copy of the package: the ESM and CommonJS entries load separate glue.
 */
export class ClientCredentialError extends Error {
  constructor(message) {
    super(message);
    this.name = "ClientCredentialError";
  }

  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === "ClientCredentialError";
  }
}

// No prototype, so an inherited `signal` or `capture` cannot change how the listener is added.
const ONCE = Object.freeze(Object.assign(Object.create(null), { once: true }));

export const hostBridge = {
  /**
   * Starts `fetchFn(url, …)` and returns `[promise, abortController]`; the promise resolves to
   * `[status, headerLines, bodyBytes | null]` (null: the body is longer than `maxBytes`).
   * Header lines are `name\nvalue\n…` both ways (src/js/header_lines.rs): fetch allows no line
   * break inside a name or value, and the core refuses to send one.
   */
  send(fetchFn, url, method, headerLines, body, maxBytes) {
    const controller = new AbortController();
    // No prototype: fetch reads every RequestInit member it knows (dispatcher, credentials,
    // keepalive…), and none may come from a polluted Object.prototype.
    const init = Object.assign(Object.create(null), {
      method,
      headers: headerPairs(headerLines),
      body,
      // The credential is in the body: never follow a redirect with it.
      redirect: "manual",
      signal: controller.signal,
    });
    const reply = Promise.resolve(fetchFn(url, init)).then(async (response) => {
      let lines = "";
      response.headers.forEach((value, name) => {
        lines += lines === "" ? `${name}\n${value}` : `\n${name}\n${value}`;
      });
      const body = await readCapped(response, maxBytes);
      return [response.status, lines, body];
    });
    return [reply, controller];
  },

  readCapped,

  raceAbort(acquisition, signal, abortedError) {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortedError);
      signal.addEventListener("abort", onAbort, ONCE);
      acquisition.then(
        (result) => {
          signal.removeEventListener("abort", onAbort);
          resolve(result);
        },
        (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  },

  makeResult(accessToken, tokenType, expiresOn, extExpiresOn, refreshOn, scopes, fromCache, correlationId, tenantId, servedAsIsUntil) {
    const result = {
      accessToken,
      tokenType,
      expiresOn: new Date(expiresOn),
      extExpiresOn: new Date(extExpiresOn),
      refreshOn: refreshOn === undefined ? undefined : new Date(refreshOn),
      scopes: scopes.split(" "),
      fromCache,
      correlationId,
      tenantId,
    };
    // Not enumerable: for the package's JS fast path, not part of the result's shape.
    Object.defineProperty(result, "servedAsIsUntil", { value: servedAsIsUntil });
    return result;
  },
};

/** `[[name, value], …]` from header lines. */
function headerPairs(lines) {
  const fields = lines === "" ? [] : lines.split("\n");
  const pairs = [];
  for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([fields[i], fields[i + 1]]);
  return pairs;
}

const DECLARED_LENGTH = /^\s*\d+\s*$/;

/**
 * The bytes the runtime will hand over, when the headers say so: `content-length`, unless a
 * `content-encoding` other than `identity` is set. A compressed body's length counts wire
 * bytes, and fetch inflates it: a few kilobytes of gzip can become gigabytes.
 */
export function readableLength(headers) {
  const coding = headers.get("content-encoding");
  if (coding !== null && coding.trim().toLowerCase() !== "identity") return undefined;
  const declared = headers.get("content-length");
  return declared !== null && DECLARED_LENGTH.test(declared) ? Number(declared) : undefined;
}

/**
 * The body of a fetch `Response` (a token endpoint's reply) or `Request` (a caller's, in the
 * Worker) as bytes, or null once it is known to pass `maxBytes`: a readable length over it is
 * refused unread, one within it is read at once (the runtime delivers no more than declared),
 * and any other body is read chunk by chunk and abandoned as soon as it passes the limit.
 */
export async function readCapped(message, maxBytes) {
  const declared = readableLength(message.headers);
  if (declared !== undefined) {
    return declared > maxBytes ? null : new Uint8Array(await message.arrayBuffer());
  }
  if (!message.body) return new Uint8Array(0);
  const reader = message.body.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
      // Tells the runtime the rest is unwanted; its outcome changes nothing here.
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
