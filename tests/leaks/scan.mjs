// Looks for every secret the test suite uses in the captured output of every suite (stdout,
// stderr, Worker logs): `node tests/leaks/scan.mjs <dir-of-logs>` exits 1 naming the log and
// the kind of secret, never the secret itself. scripts/test.sh runs it last.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_APP } from "../token-endpoint/server.mjs";
import { TOKEN_SIGNATURE_MARKER } from "../token-endpoint/access-token.mjs";
import { CACHE_KEY, CALLERS } from "../worker/broker.mjs";

const FIXTURES = new URL("../fixtures/", import.meta.url);

/** Each secret the suites hold, with what to call it in a report. */
export function canaries() {
  const found = [
    ["the local app's client secret", LOCAL_APP.clientSecret],
    ["the client secret, form-encoded", encodeURIComponent(LOCAL_APP.clientSecret).replaceAll("~", "%7E")],
    ["an access token's signature", TOKEN_SIGNATURE_MARKER],
    ["the broker's CACHE_KEY", CACHE_KEY],
    ...Object.entries(CALLERS).flatMap(([id, caller]) => caller.keys.map((key) => [`broker key of ${id}`, key])),
  ];
  for (const name of readdirSync(FIXTURES).filter((file) => file.endsWith(".key.pem"))) {
    const lines = readFileSync(new URL(name, FIXTURES), "utf8").split("\n");
    // Base64 body lines: any one of them in a log means key material got out.
    for (const line of lines.filter((l) => l.length >= 40 && !l.startsWith("-----"))) {
      found.push([`a line of the private key ${name}`, line]);
    }
  }
  return found;
}

/** `[kind, where]` for each secret in `text`. */
export function findLeaks(text, secrets = canaries()) {
  return secrets.filter(([, secret]) => text.includes(secret)).map(([kind]) => kind);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  const secrets = canaries();
  let leaks = 0;
  const files = readdirSync(dir).filter((name) => name.endsWith(".log"));
  for (const file of files) {
    for (const kind of findLeaks(readFileSync(join(dir, file), "utf8"), secrets)) {
      console.log(`LEAK: ${file} contains ${kind}`);
      leaks += 1;
    }
  }
  console.log(`${files.length} logs, ${secrets.length} secrets looked for: ${leaks ? `${leaks} leaks` : "none found"}`);
  process.exit(leaks ? 1 : 0);
}
