// Answers repeated plain requests from JS, without crossing into wasm, while the core says a
// repeat would be a plain memory hit: the core computes `servedAsIsUntil` (before the expiry
// buffer and before the refresh point) for every result, so this cache cannot serve anything
// the core would not. Only requests made of the fields listed in `plainKey` (an allow-list:
// a field added to the core later goes to the core until it is listed here) are answered.
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

    static fromConfigFile(path, options) {
      return adopt(super.fromConfigFile(path, options));
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
      } else if (isObject(request) && Object.hasOwn(request, "forceRefresh") && request.forceRefresh) {
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

function isObject(value) {
  return value !== null && typeof value === "object";
}

/**
 * The cache key of a plain request, undefined for anything else. Plain: own properties
 * `scopes` (strings), and optionally `forceRefresh: false`, one live abort signal
 * (`abortSignal`, or `signal`, or the same signal under both names) and `tenantId`. Any other
 * field, even one the core accepts (`authority`), goes to the core, which acts on it or
 * refuses it. Like the core, this reads own properties only: nothing inherited from
 * `Object.prototype` counts.
 *
 * A tenant's key is `"\n" + tenantId + "\n" + scopes key`, a plain key is the scopes key:
 * no scope may be empty (an empty first scope would start a plain key with "\n") or hold a
 * line break, and a tenant id holds only a tenant's characters, so no key of one tenant is
 * ever a key of another, or of the client's own (the core keys the same tenant written in
 * another case, or the client's own tenant named, as one entry; here they are merely
 * answered apart).
 */
function plainKey(request) {
  if (!isObject(request)) return undefined;
  let scopes;
  let signal;
  let tenant;
  // for…in walks V8's enum cache: no allocation, unlike Object.keys.
  for (const name in request) {
    if (!Object.hasOwn(request, name)) continue;
    const value = request[name];
    switch (name) {
      case "scopes":
        scopes = value;
        break;
      case "forceRefresh":
        if (value !== undefined && value !== false) return undefined;
        break;
      case "tenantId":
        if (value === undefined) break;
        if (typeof value !== "string" || !TENANT.test(value)) return undefined;
        tenant = value;
        break;
      case "abortSignal":
      case "signal":
        if (value === undefined || value === null) break;
        // An already-aborted call must reject as the core would, not succeed from the
        // shortcut; anything but a live AbortSignal is the core's to refuse.
        if (!isObject(value) || value.aborted !== false || typeof value.addEventListener !== "function" || typeof value.removeEventListener !== "function") {
          return undefined;
        }
        if (signal !== undefined && signal !== value) return undefined;
        signal = value;
        break;
      default:
        return undefined;
    }
  }
  if (!Array.isArray(scopes) || scopes.length === 0) return undefined;
  for (const scope of scopes) {
    // A line break would make ["a\nb"] the key of ["a", "b"]; the core refuses it anyway.
    if (typeof scope !== "string" || scope === "" || scope.includes("\n")) return undefined;
  }
  const key = scopes.length === 1 ? scopes[0] : scopes.join("\n");
  return tenant === undefined ? key : `\n${tenant}\n${key}`;
}

/** What a tenant id may hold (the core's rule); anything else is the core's to refuse. */
const TENANT = /^[A-Za-z0-9._-]+$/;
