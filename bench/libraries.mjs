// The libraries compared, each behind one shape: make(settings) → acquire().
// Peers are configured to stay on the local endpoint (known authority, no instance discovery).
export const LIBRARIES = {
  cctoken: async ({ url, tenant, clientId, secret, scope }) => {
    const { ConfidentialClient } = await import("cctoken");
    const client = new ConfidentialClient({ clientId, authority: `${url}/${tenant}`, credential: { clientSecret: secret } });
    return () => client.acquireTokenForClient({ scopes: [scope] });
  },
  "@azure/msal-node": async ({ url, tenant, clientId, secret, scope }) => {
    const { ConfidentialClientApplication, LogLevel } = await import("@azure/msal-node");
    const app = new ConfidentialClientApplication({
      auth: { clientId, authority: `${url}/${tenant}`, clientSecret: secret, knownAuthorities: [new URL(url).host] },
      system: { loggerOptions: { logLevel: LogLevel.Error, loggerCallback: () => {} } },
    });
    return () => app.acquireTokenByClientCredential({ scopes: [scope] });
  },
  "@azure/identity": async ({ url, tenant, clientId, secret, scope }) => {
    const { ClientSecretCredential } = await import("@azure/identity");
    const credential = new ClientSecretCredential(tenant, clientId, secret, { authorityHost: url, disableInstanceDiscovery: true });
    return () => credential.getToken(scope);
  },
};

/** A plain JS Map behind an async function: the ceiling for a cache hit. */
export function mapBaseline(scope) {
  const cache = new Map([[scope, { accessToken: "t", expiresOn: Date.now() + 3600_000 }]]);
  return async () => cache.get(scope);
}

/**
 * Floors for a cold acquire, not libraries: how close to a bare fetch a token client can get.
 * "js floor" is the least a careful client does in plain JS: a correlation id, the client
 * headers, an attempt timeout that aborts the fetch, no redirects, a bounded body, a parsed and
 * checked reply, a frozen result cached by scope. "wasm floor" is bench/floors/toolchain: one
 * fetch through wasm-bindgen futures with a serde_json reply, and no safeguard at all. "core
 * slice" is bench/floors/core-slice: cctoken's core client over the JS host, without the npm
 * module's entry, bridge and result object. "sans-io core" is bench/floors/sans-io: the core's
 * request builder, reply parser and cache in two synchronous calls, with the js floor's I/O
 * around them in JS: no future, task or timer in wasm.
 */
export const FLOORS = {
  "js floor": async ({ url, tenant, clientId, secret, scope }) => {
    const cache = new Map();
    const tokenUrl = `${url}/${tenant}/oauth2/v2.0/token`;
    return async () => {
      const scopes = [scope].sort();
      const key = scopes.join(" ");
      const correlationId = crypto.randomUUID();
      const body = new URLSearchParams({ client_id: clientId, scope: key, client_secret: secret, grant_type: "client_credentials" }).toString();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 30_000);
      try {
        const response = await fetch(tokenUrl, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", "client-request-id": correlationId, "return-client-request-id": "true", "x-client-sku": "floor" },
          body,
          redirect: "manual",
          signal: controller.signal,
        });
        const length = Number(response.headers.get("content-length"));
        if (!(length <= 1 << 20)) throw new Error("reply missing a length or too long");
        const reply = JSON.parse(new TextDecoder().decode(await response.arrayBuffer()));
        if (response.status !== 200 || typeof reply.access_token !== "string" || typeof reply.expires_in !== "number") throw new Error("not a token reply");
        const now = Date.now();
        const result = Object.freeze({ accessToken: reply.access_token, tokenType: reply.token_type, expiresOn: new Date(now + reply.expires_in * 1000), scopes, fromCache: false, correlationId });
        cache.set(key, result);
        return result;
      } finally {
        clearTimeout(timer);
      }
    };
  },
  "wasm floor": async ({ url, tenant, clientId, secret, scope }) => {
    const floor = await loadFloorBuild("toolchain");
    return () => floor.acquire(`${url}/${tenant}/oauth2/v2.0/token`, clientId, secret, scope);
  },
  "sans-io core": async ({ url, tenant, clientId, secret, scope }) => {
    const sansIo = await loadFloorBuild("sans_io");
    const client = new sansIo.SansIoClient(clientId, `${url}/${tenant}`, secret);
    return async () => {
      const [tokenUrl, headerLines, body, correlationId, sentAtMs] = client.begin(scope);
      const fields = headerLines.split("\n");
      const headers = [];
      for (let i = 0; i + 1 < fields.length; i += 2) headers.push([fields[i], fields[i + 1]]);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 30_000);
      try {
        const response = await fetch(tokenUrl, { method: "POST", headers, body, redirect: "manual", signal: controller.signal });
        let lines = "";
        response.headers.forEach((value, name) => {
          lines += lines === "" ? `${name}\n${value}` : `\n${name}\n${value}`;
        });
        const length = Number(response.headers.get("content-length"));
        if (!(length <= 1 << 20)) throw new Error("reply missing a length or too long");
        const bytes = new Uint8Array(await response.arrayBuffer());
        const [accessToken, tokenType, expiresOnMs] = client.finish(scope, sentAtMs, response.status, lines, bytes);
        return Object.freeze({ accessToken, tokenType, expiresOn: new Date(expiresOnMs), scopes: [scope], fromCache: false, correlationId });
      } finally {
        clearTimeout(timer);
      }
    };
  },
  "core slice": async ({ url, tenant, clientId, secret, scope }) => {
    const slice = await loadFloorBuild("core_slice");
    const client = new slice.SliceClient(clientId, `${url}/${tenant}`, secret);
    return () => client.acquire(scope);
  },
};

/** A bench/floors build from where bench/floors.sh puts it, initialised. */
async function loadFloorBuild(name) {
  const { readFileSync } = await import("node:fs");
  const out = new URL(`../target/floors/out/${name}/`, import.meta.url);
  const glue = await import(new URL(`floor_${name}.js`, out));
  glue.initSync({ module: readFileSync(new URL(`floor_${name}_bg.wasm`, out)) });
  return glue;
}
