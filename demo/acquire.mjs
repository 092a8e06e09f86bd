// Acquires the demo token twice through the npm module and prints one JSON line per call:
// {"runtime","source":"idp"|"cache","ms",…}. Runs unchanged in Node and Deno; the settings arrive in
// the environment (CCTOKEN_DEMO_*) so no secret shows up in a process list.
import process from "node:process";
import { ConfidentialClient } from "cctoken";

const setting = (name) => {
  const value = process.env[`CCTOKEN_DEMO_${name}`];
  if (!value) throw new Error(`CCTOKEN_DEMO_${name} is not set (run the demo through demo/run.mjs)`);
  return value;
};

const client = new ConfidentialClient({
  clientId: setting("CLIENT_ID"),
  authority: setting("AUTHORITY"),
  credential: { clientSecret: setting("CLIENT_SECRET") },
});
const scopes = [setting("SCOPE")];
const runtime = globalThis.Deno ? `Deno ${globalThis.Deno.version.deno}` : `Node ${process.versions.node}`;

for (let call = 0; call < 2; call += 1) {
  const started = performance.now();
  const result = await client.acquireTokenForClient({ scopes });
  const ms = performance.now() - started;
  console.log(JSON.stringify({ runtime, source: result.fromCache ? "cache" : "idp", ms, expiresOn: result.expiresOn }));
}
