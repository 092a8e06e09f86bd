// Answers repeated plain requests from JS, without crossing into wasm, while the core says a
// repeat would be a plain memory hit: the core computes `servedAsIsUntil` (before the expiry
// buffer and before the refresh point) for every result, so this cache cannot serve anything
// the core would not. Anything but `{ scopes }` (and an abortSignal) goes to the core.
const SERVED_AS_IS_UNTIL = "servedAsIsUntil";

/** The class `Base` with the fast path in front of `acquireTokenForClient`. */
export function withFastPath(Base) {
  const caches = new WeakMap();
  const cacheOf = (client) => {
    let cache = caches.get(client);
    if (!cache) {
      cache = new Map();
      caches.set(client, cache);
    }
    return cache;
  };

  class ConfidentialClient extends Base {
    static fromEnvironment(overrides) {
      return Object.setPrototypeOf(super.fromEnvironment(overrides), ConfidentialClient.prototype);
    }

    static fromConfigFile(path) {
      return Object.setPrototypeOf(super.fromConfigFile(path), ConfidentialClient.prototype);
    }

    acquireTokenForClient(request) {
      const key = plainKey(request);
      const cache = cacheOf(this);
      if (key !== undefined) {
        const hit = cache.get(key);
        if (hit !== undefined && Date.now() < hit.until) {
          return Promise.resolve({ ...hit.result, fromCache: true, correlationId: undefined });
        }
      } else if (request?.forceRefresh) {
        // A forced token replaces the core's; drop every shortcut rather than work out which.
        cache.clear();
      }
      return super.acquireTokenForClient(request).then((result) => {
        if (key !== undefined) {
          cache.set(key, { result, until: result[SERVED_AS_IS_UNTIL] });
        }
        return result;
      });
    }

    clearCache() {
      cacheOf(this).clear();
      super.clearCache();
    }

    deserializeCache(json) {
      cacheOf(this).clear();
      return super.deserializeCache(json);
    }
  }
  return ConfidentialClient;
}

/** The cache key of a request that only names scopes; undefined for anything else. */
function plainKey(request) {
  if (request === null || typeof request !== "object") return undefined;
  for (const field in request) {
    if (field !== "scopes" && field !== "abortSignal") return undefined;
  }
  // An already-aborted call must reject as the core would, not succeed from the shortcut.
  if (request.abortSignal?.aborted) return undefined;
  const { scopes } = request;
  if (!Array.isArray(scopes) || scopes.length === 0) return undefined;
  for (const scope of scopes) {
    if (typeof scope !== "string") return undefined;
  }
  return scopes.length === 1 ? scopes[0] : scopes.join("\n");
}
