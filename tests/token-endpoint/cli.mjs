// Runs the local token endpoint as its own process (demo, wrangler dev): prints one JSON
// line with its URL and the local app's ids, then serves until SIGINT or SIGTERM.
import { LOCAL_APP, startTokenEndpoint } from "./server.mjs";

const endpoint = await startTokenEndpoint();
console.log(JSON.stringify({ url: endpoint.url, authority: endpoint.authority, ...LOCAL_APP }));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await endpoint.close();
    process.exit(0);
  });
}
