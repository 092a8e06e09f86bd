// The host bridge ships inside the generated wasm glue (a wasm-bindgen snippet), so nothing has
// to install it: loading the glue directly, without the package's entries, gets a working
// client (without the entries' JS fast path), not a half-working one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

test("the bare wasm glue builds a client that acquires a token through the bridge it carries", () => {
  const script = `
    const { readFileSync } = await import("node:fs");
    const dir = new URL("./node_modules/cctoken/dist/web/", "file://" + process.cwd() + "/");
    const glue = await import(new URL("cctoken.js", dir));
    glue.initSync({ module: readFileSync(new URL("cctoken_bg.wasm", dir)) });
    const body = JSON.stringify({ access_token: "t0k3n", token_type: "Bearer", expires_in: 3599 });
    const fetch = async () => new Response(body, { headers: { "content-type": "application/json" } });
    const client = new glue.ConfidentialClient({ clientId: "c", authority: "https://login.microsoftonline.com/t", credential: { clientSecret: "s" }, fetch });
    const result = await client.acquireTokenForClient({ scopes: ["api://x/.default"] });
    console.log(JSON.stringify({ accessToken: result.accessToken, fromCache: result.fromCache }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }).trim();
  assert.deepEqual(JSON.parse(out), { accessToken: "t0k3n", fromCache: false });
});
