// Answers repeated plain requests from JS, without crossing into wasm, while the core says a
// repeat would be a plain memory hit: the core computes `servedAsIsUntil` (before the expiry
// buffer and before the refresh point) for every result, so this cache cannot serve anything
// the core would not. Anything but `{ scopes }` (and an abortSignal) goes to the core.
//
// A hit costs one Map lookup and one clock read: every caller of the same scopes gets the same
// settled promise of the same frozen result, so nothing is allocated per hit.
const SERVED_AS_IS_UNTIL = "servedAsIsUntil";
/** Scope sets answered here per client; past it the oldest goes (the core still has it). */
const MAX_FAST_PATH_ENTRIES = 256;

/** The class `Base` with the fast path in front of `acquireTokenForClient`. */
export function withFastPath(Base) {
  // Beside the client, not on it: `console.log(client)` must not print cached tokens.
  const hitsOf = new WeakMap();
  const adopt = (client) => {
    Object.setPrototypeOf(client, ConfidentialClient.prototype);
    hitsOf.set(client, newHits());
    return client;
  };

  class ConfidentialClient extends Base {
    constructor(options) {
      super(options);
      hitsOf.set(this, newHits());
    }

    static fromEnvironment(overrides) {
      return adopt(super.fromEnvironment(overrides));
    }

    static fromConfigFile(path) {
      return adopt(super.fromConfigFile(path));
    }

    acquireTokenForClient(request) {
      const key = plainKey(request);
      const hits = hitsOf.get(this);
      if (key !== undefined) {
        const hit = hits.get(key);
        if (hit !== undefined) {
          if (Date.now() < hit.until) return hit.answer;
          hits.delete(key);
        }
      } else if (request?.forceRefresh) {
        // A forced token replaces the core's; drop every shortcut rather than work out which.
        forget(hits);
      }
      const generation = hits.generation;
      return super.acquireTokenForClient(request).then((result) => {
        freezeResult(result);
        // A reply that raced a forced refresh or clearCache() must not bring back what they dropped.
        if (key !== undefined && generation === hits.generation) {
          const repeat = freezeResult({ ...result, fromCache: true, correlationId: undefined });
          if (hits.size >= MAX_FAST_PATH_ENTRIES && !hits.has(key)) hits.delete(hits.keys().next().value);
          hits.set(key, { answer: Promise.resolve(repeat), until: result[SERVED_AS_IS_UNTIL] });
        }
        return result;
      });
    }

    clearCache() {
      forget(hitsOf.get(this));
      super.clearCache();
    }

    deserializeCache(json) {
      forget(hitsOf.get(this));
      return super.deserializeCache(json);
    }
  }
  return ConfidentialClient;
}

/** A client's shortcuts: a Map with a generation, bumped whenever they are all dropped. */
function newHits() {
  return Object.assign(new Map(), { generation: 0 });
}

function forget(hits) {
  hits.clear();
  hits.generation += 1;
}

/** Results are shared between callers, so none may change one under another's feet. */
function freezeResult(result) {
  Object.freeze(result.scopes);
  return Object.freeze(result);
}

/** The cache key of a request that only names scopes; undefined for anything else. */
function plainKey(request) {
  if (request === null || typeof request !== "object") return undefined;
  // The fields that change what the core does; it ignores any others, and so does this.
  if (
    (request.forceRefresh !== undefined && request.forceRefresh !== false) ||
    request.claims !== undefined ||
    request.correlationId !== undefined ||
    request.extraBodyParameters !== undefined
  ) {
    return undefined;
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
