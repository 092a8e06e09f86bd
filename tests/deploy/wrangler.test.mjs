// `wrangler deploy` is the whole deployment: wrangler.toml, with the Durable Object binding and
// its migration, must pass wrangler's own checks. A dry run builds (idempotently, through the
// [build] command) and bundles the Worker without any network access or account.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_readConfig } from "wrangler";

// Its own step in scripts/test.sh, before the Worker suites: the dry run runs the [build]
// command, which must not rewrite worker/build under a running suite.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

test("wrangler deploy --dry-run accepts wrangler.toml: the COORDINATOR Durable Object, its SQLite migration, the KV namespace", async () => {
  const outdir = await mkdtemp(join(tmpdir(), "cctoken-dry-run-"));
  try {
    const run = spawnSync(process.execPath, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 600_000,
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", DO_NOT_TRACK: "1", PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}` },
    });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, output);
    assert.match(output, /env\.COORDINATOR \(Coordinator\)\s+Durable Object/, output);
    assert.match(output, /env\.TOKEN_CACHE \([0-9a-f]{32}\)\s+KV Namespace/, output);
    assert.match(output, /--dry-run: exiting now\./, output);
    assert.doesNotMatch(output, /migration|\[WARNING\]|✘/i, "no warning about the migrations or anything else");
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
});

test("every Durable Object class the Worker binds is created by a migration, SQLite-backed (the free plan's kind), and exported by the build", async () => {
  const config = unstable_readConfig({ config: join(ROOT, "wrangler.toml") });
  const bound = config.durable_objects.bindings.map((binding) => binding.class_name);
  assert.deepEqual(bound, ["Coordinator"]);
  const created = config.migrations.flatMap((migration) => migration.new_sqlite_classes ?? []);
  assert.deepEqual(config.migrations.flatMap((migration) => migration.new_classes ?? []), [], "no key-value-backed classes");
  for (const name of bound) assert.ok(created.includes(name), `${name} has a new_sqlite_classes migration`);
  const { readFile } = await import("node:fs/promises");
  const entry = await readFile(config.main, "utf8"); // absolute, resolved by wrangler
  assert.match(entry, /as Coordinator[,}]/, "the built entry exports the class");
});
