// The package's TypeScript declarations, as a consumer compiles them with tsc --strict.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const TYPES = fileURLToPath(new URL("./types/", import.meta.url));
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

function tsc(args) {
  const run = spawnSync(process.execPath, [TSC, ...args], { cwd: TYPES, encoding: "utf8" });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

test("a strict ESM and CommonJS consumer compiles against the declarations", () => {
  const { code, output } = tsc(["-p", "tsconfig.json"]);
  assert.equal(code, 0, output);
});

test("misuse does not compile", () => {
  const { code, output } = tsc(["--noEmit", "--strict", "--module", "node16", "--moduleResolution", "node16", "--target", "es2022", "--lib", "es2022,dom", "--types", "node", "invalid.mts"]);
  assert.notEqual(code, 0);
  assert.match(output, /invalid\.mts\(4,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  assert.match(output, /invalid\.mts\(5,\d+\): error TS\d+: Type '"HS256"' is not assignable/);
  assert.match(output, /invalid\.mts\(7,\d+\): error TS2561: Object literal may only specify known properties, but 'scope' does not exist/);
  assert.match(output, /invalid\.mts\(8,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  assert.match(output, /invalid\.mts\(9,\d+\): error TS2540: Cannot assign to 'accessToken' because it is a read-only property/);
  assert.match(output, /invalid\.mts\(10,\d+\): error TS2353: Object literal may only specify known properties, and 'claims' does not exist/);
  assert.match(output, /invalid\.mts\(11,\d+\): error TS2322: Type 'string' is not assignable to type 'string\[\]'/);
  assert.match(output, /invalid\.mts\(12,\d+\): error TS2561: Object literal may only specify known properties, but 'tenantId' does not exist in type 'BrokerTokenRequest'\. Did you mean to write 'tenant'\?/);
});
