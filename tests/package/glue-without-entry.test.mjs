// The package's clients need the JS host bridge its entries install. Loading the generated
// wasm glue directly gets a clear configuration error, not a half-working client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

test("the bare wasm glue refuses to build a client and names the entry to use", () => {
  const script = `
    const { readFileSync } = await import("node:fs");
    const dir = new URL("./node_modules/cctoken/dist/web/", "file://" + process.cwd() + "/");
    const glue = await import(new URL("cctoken.js", dir));
    glue.initSync({ module: readFileSync(new URL("cctoken_bg.wasm", dir)) });
    try {
      new glue.ConfidentialClient({ clientId: "c", authority: "https://login.microsoftonline.com/t", credential: { clientSecret: "s" } });
      console.log("built");
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, message: error.message }));
    }`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }).trim();
  const { code, message } = JSON.parse(out);
  assert.equal(code, "invalid_config");
  assert.match(message, /without the package's JS entry: import or require "cctoken" itself/);
});
