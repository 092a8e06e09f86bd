// Must NOT compile: proves the declarations are precise rather than `any`.
import { BrokerClient, ConfidentialClient } from "cctoken";

new ConfidentialClient({ clientId: "x", authority: "https://h/t", credential: { clientSecret: 42 } });
new ConfidentialClient({ clientId: "x", authority: "https://h/t", credential: { certificate: { privateKeyPem: "k", algorithm: "HS256" } } });
const client = new ConfidentialClient({ clientId: "x", authority: "https://h/t", credential: { clientSecret: "s" } });
client.acquireTokenForClient({ scope: ["x"] });
export const wrong: number = (await client.acquireTokenForClient({ scopes: ["x"] })).accessToken;
(await client.acquireTokenForClient({ scopes: ["x"] })).accessToken = "changed";
await new BrokerClient({ url: "https://b", callerId: "c", key: "k" }).acquireToken({ scopes: ["x"], claims: "{}" });
new ConfidentialClient({ clientId: "x", authority: "https://h/t", credential: { clientSecret: "s" }, clientCapabilities: "cp1" });
await new BrokerClient({ url: "https://b", callerId: "c", key: "k" }).acquireToken({ scopes: ["x"], tenantId: "t" });
