// A Vercel / Next.js edge function using the npm package the way the README shows: a
// module-scope client, reused by every request the isolate serves, its settings named as
// `process.env.NAME` (Vercel gives edge code the variables its build sees referenced).
// Bundled by edge-runtime.test.mjs with esbuild under the "edge-light" condition and run in
// EdgeRuntime; it reports what it saw as JSON.
import * as cctoken from "cctoken";
import { ClientCredentialError, ConfidentialClient } from "cctoken";

export const config = { runtime: "edge" };
const SCOPE = "api://cctoken-demo/.default";

const client = new ConfidentialClient({
  clientId: process.env.AZURE_CLIENT_ID,
  tenantId: process.env.AZURE_TENANT_ID,
  authorityHost: process.env.AZURE_AUTHORITY_HOST, // the test's endpoint; Entra's by default
  credential: { clientSecret: process.env.AZURE_CLIENT_SECRET },
});

export default async function handler(request) {
  const { privateKeyPem, certificatePem, certificateApp } = await request.json();
  const sent = Date.now();
  const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
  const second = await client.acquireTokenForClient({ scopes: [SCOPE] });
  const report = {
    exports: Object.keys(cctoken).sort(),
    secret: {
      first: first.fromCache,
      second: second.fromCache,
      same: first.accessToken === second.accessToken,
      sent,
      expiresOn: first.expiresOn instanceof Date ? first.expiresOn.getTime() : "not a Date",
    },
  };
  // The certificate path signs with WebCrypto inside the sandbox.
  const authority = `${process.env.AZURE_AUTHORITY_HOST}/${process.env.AZURE_TENANT_ID}`;
  const signed = new ConfidentialClient({ clientId: certificateApp, authority, credential: { certificate: { privateKeyPem, certificatePem } } });
  report.certificate = (await signed.acquireTokenForClient({ scopes: [SCOPE] })).tokenType;
  try {
    new ConfidentialClient({ clientId: certificateApp, authority: "http://example.com/tenant", credential: { clientSecret: "unused" } });
  } catch (error) {
    report.error = { code: error.code, field: error.field, isClientCredentialError: error instanceof ClientCredentialError };
  }
  try {
    new ConfidentialClient({ clientId: certificateApp, authority, credential: { clientSecret: "unused" }, persistentCache: { directory: "/tmp" } });
  } catch (error) {
    report.persistentCache = { code: error.code, field: error.field, isClientCredentialError: error instanceof ClientCredentialError };
  }
  return Response.json(report);
}
