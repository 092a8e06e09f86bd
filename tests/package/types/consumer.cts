// The CommonJS view of the same declarations.
import cctoken = require("cctoken");

const client = new cctoken.ConfidentialClient({ clientId: "x", authority: "https://login.microsoftonline.com/t", credential: { clientSecret: "s" } });
export const pending: Promise<cctoken.AuthenticationResult> = client.acquireTokenForClient({ scopes: ["api://x/.default"] });
export const scope: string = cctoken.scopeForResource("https://graph.microsoft.com");
