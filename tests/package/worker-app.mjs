// A Worker that uses the npm package the way an edge function would. Bundled by the test with
// esbuild (the "workerd" export condition, the .wasm imported as a module) and run under
// workerd; it reports what it saw as JSON.
import { ClientCredentialError, ConfidentialClient, scopeForResource } from "cctoken";

const SCOPE = "api://cctoken-demo/.default";

export default {
  async fetch(request) {
    const { authority, clientId, clientSecret, certificateApp, privateKeyPem, certificatePem } = await request.json();
    const report = {};

    const client = new ConfidentialClient({ clientId, authority, credential: { clientSecret } });
    const sent = Date.now();
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    const second = await client.acquireTokenForClient({ scopes: [SCOPE] });
    report.secret = { first: first.fromCache, second: second.fromCache, same: first.accessToken === second.accessToken, lifetimeMs: first.expiresOn instanceof Date ? first.expiresOn.getTime() - sent : "not a Date" };

    const shared = new ConfidentialClient({ clientId, authority, credential: { clientSecret } });
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => shared.acquireTokenForClient({ scopes: [SCOPE] })));
    report.concurrentDistinctTokens = new Set(concurrent.map((r) => r.accessToken)).size;

    const signed = new ConfidentialClient({ clientId: certificateApp, authority, credential: { certificate: { privateKeyPem, certificatePem } } });
    report.certificate = (await signed.acquireTokenForClient({ scopes: [SCOPE] })).tokenType;

    try {
      new ConfidentialClient({ clientId, authority: "http://example.com/tenant", credential: { clientSecret } });
    } catch (error) {
      report.error = { code: error.code, field: error.field, isClientCredentialError: error instanceof ClientCredentialError };
    }
    report.scopeForResource = scopeForResource("https://database.windows.net/");
    return Response.json(report);
  },
};
