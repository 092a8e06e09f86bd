// Helpers the wasm core calls on its hot paths (src/js/host_bridge.rs), so that sending a token
// request and building a result each cross the wasm boundary once. They hold no protocol
// logic: the core builds every request and reads every reply; these only move bytes.

/** Installs the helpers into the wasm glue's `installHostBridge`. */
export function installHostBridge(install) {
  install(hostBridge);
}

const hostBridge = {
  /**
   * Starts `fetchFn(url, …)` and returns `[promise, abortController]`; the promise resolves to
   * `[status, headersJson, bodyBytes | null]` (null: the body is longer than `maxBytes`).
   */
  send(fetchFn, url, method, headersJson, body, maxBytes) {
    const controller = new AbortController();
    const init = {
      method,
      headers: JSON.parse(headersJson),
      body,
      // The credential is in the body: never follow a redirect with it.
      redirect: "manual",
      signal: controller.signal,
    };
    const reply = Promise.resolve(fetchFn(url, init)).then(async (response) => {
      const headers = [];
      response.headers.forEach((value, name) => headers.push([name, value]));
      const body = await readBody(response, maxBytes);
      return [response.status, JSON.stringify(headers), body];
    });
    return [reply, controller];
  },

  raceAbort(acquisition, signal, abortedError) {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortedError);
      signal.addEventListener("abort", onAbort, { once: true });
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

const DECLARED_LENGTH = /^\s*\d+\s*$/;

/**
 * The bytes fetch will hand over, when the headers say so: the rule of the core's
 * `ports::readable_body_length`. A compressed body's content-length counts wire bytes, and
 * fetch inflates it: a few kilobytes of gzip can become gigabytes.
 */
function readableLength(headers) {
  const coding = headers.get("content-encoding");
  if (coding !== null && coding.trim().toLowerCase() !== "identity") return undefined;
  const declared = headers.get("content-length");
  return declared !== null && DECLARED_LENGTH.test(declared) ? Number(declared) : undefined;
}

/** The body as bytes, or null once it passes `maxBytes` (the rest is not read). */
async function readBody(response, maxBytes) {
  const declared = readableLength(response.headers);
  if (declared !== undefined && declared <= maxBytes) {
    // One read; a body longer than declared is refused by fetch itself.
    return new Uint8Array(await response.arrayBuffer());
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
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
