// Compiled with tsc --strict in the tests: every public option, field and error property
// must type-check as a user would write it.
import {
  BrokerClient,
  ClientCredentialError,
  ConfidentialClient,
  adminConsentUrl,
  loadConfigFile,
  scopeForResource,
  type AuthenticationResult,
  type ClientCredentialRequest,
  type ConfidentialClientOptions,
} from "cctoken";

const options: ConfidentialClientOptions = {
  clientId: "00000000-0000-0000-0000-000000000001",
  tenantId: "contoso.onmicrosoft.com",
  authorityHost: "https://login.microsoftonline.us",
  extraQueryParameters: { dc: "ESTS-PUB-WUS2-AZ1-FD000-TEST1" },
  credential: { certificate: { privateKeyPem: "…", certificatePem: "…", sendX5c: true, algorithm: "RS256" } },
  expiryBufferSeconds: 120,
  maxCacheEntries: 50,
  maxRetries: 1,
  attemptTimeoutMs: 5000,
  totalTimeoutMs: 15000,
  clientCapabilities: ["cp1"],
  onRefreshError: (error: ClientCredentialError) => console.warn(error.code, error.hint),
  fetch: globalThis.fetch,
};
const secretClient = new ConfidentialClient({ clientId: "x", authority: "https://login.microsoftonline.com/t", credential: { clientSecret: "s" }, clientAuthMethod: "client_secret_basic" });
const assertionClient = new ConfidentialClient({ clientId: "x", tokenEndpoint: "https://sso.example.com/token", credential: { clientAssertion: async ({ clientId, tokenEndpoint }) => `${clientId}${tokenEndpoint}` } });
const fromEnv: ConfidentialClient = ConfidentialClient.fromEnvironment({ maxRetries: 0 });
const fromFile: ConfidentialClient = ConfidentialClient.fromConfigFile("appsettings.json");
const { options: loaded, scopes: configuredScopes } = loadConfigFile("msal.json");

export async function use(client: ConfidentialClient): Promise<void> {
  const request: ClientCredentialRequest = {
    scopes: [scopeForResource("https://database.windows.net/")],
    forceRefresh: true,
    claims: "{}",
    correlationId: "c",
    extraBodyParameters: { a: "b" },
    abortSignal: AbortSignal.timeout(1000),
  };
  const result: AuthenticationResult = await client.acquireTokenForClient(request);
  const expires: number = result.expiresOn.getTime() + result.extExpiresOn.getTime() + (result.refreshOn?.getTime() ?? 0);
  const fields: [string, string, boolean, readonly string[], string | undefined, string | undefined] = [result.accessToken, result.tokenType, result.fromCache, result.scopes, result.correlationId, result.tenantId];
  const header: string = await client.getAuthorizationHeader({ scopes: ["api://x/.default"], signal: AbortSignal.timeout(1000) });
  const broker = new BrokerClient({ url: "https://broker.example.com", callerId: "jobs", key: "k" });
  const brokered: AuthenticationResult = await broker.acquireToken({ scopes: ["api://x/.default"], forceRefresh: true, signal: AbortSignal.timeout(1000) });
  const forTenant: AuthenticationResult = await broker.acquireToken({ scopes: ["api://x/.default"], tenant: "contoso.onmicrosoft.com" });
  const response: Response = await client.callApi("https://graph.microsoft.com/v1.0/users", { scopes: ["https://graph.microsoft.com/.default"], method: "GET", headers: { accept: "application/json" } });
  const saved: string = client.serializeCache();
  const count: number = client.deserializeCache(saved);
  client.clearCache();
  const url: string = adminConsentUrl({ tenant: "t", clientId: "c" });
  try {
    await client.acquireTokenForClient({ scopes: [] });
  } catch (error) {
    if (error instanceof ClientCredentialError) {
      const detail: [string, string | undefined, number | undefined, number[] | undefined, number | undefined] = [error.code, error.hint, error.status, error.aadsts, error.retryAfter];
      console.log(detail, error.correlationId, error.traceId, error.timestamp, error.description, error.field);
    }
  }
  console.log(expires, fields, header, brokered, forTenant, response.status, count, url, options, secretClient, assertionClient, fromEnv, fromFile, loaded, configuredScopes);
}
