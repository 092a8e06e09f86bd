// A separate process writing the persistent cache, for persistent-cache.test.mjs's concurrent
// writers: node persistent-cache-writer.mjs <authority> <directory> <scope>. Prints nothing.
import process from "node:process";
import { ConfidentialClient } from "cctoken";
import { LOCAL_APP } from "../token-endpoint/server.mjs";

const [authority, directory, scope] = process.argv.slice(2);
const client = new ConfidentialClient({
  clientId: LOCAL_APP.clientId,
  authority,
  credential: { clientSecret: LOCAL_APP.clientSecret },
  persistentCache: { directory },
});
const result = await client.acquireTokenForClient({ scopes: [scope] });
process.exitCode = result.fromCache ? 3 : 0;
