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
