#!/usr/bin/env bash
# Every test, from a fresh machine: installs what is missing, builds, then runs the core's
# native and property tests, lints and a short fuzzing run; the packed npm module under
# Node 20 (the machine's) and Node 22 (ESM, CommonJS, CLI, inside a Worker, TypeScript, load),
# Deno and Bun; the Worker broker under workerd (Miniflare); and a scan of all their output
# for the suite's secrets. Ends with one summary line.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

scripts/bootstrap.sh || exit 1
scripts/build.sh all || exit 1

LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
failed_steps=()
NODE22="$ROOT/node_modules/.bin/node"
NODE_TESTS=(tests/node/*.test.mjs tests/node/*.test.cjs)

# step NAME COMMAND…: runs one suite with a time bound, shows its output, keeps it for the summary.
step() {
  local name="$1"; shift
  local log="$LOGS/$(echo "$name" | tr -c 'a-zA-Z0-9' '_').log"
  echo "=== $name"
  if timeout 900 "$@" 2>&1 | tee "$log"; then
    echo "--- $name: ok"
  else
    echo "--- $name: FAILED"
    failed_steps+=("$name")
  fi
}

step "cargo fmt" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --quiet --workspace --all-targets --all-features -- -D warnings
step "cargo test (core, broker logic)" cargo test --workspace --quiet
# src/js/ is behind the npm feature: its pure parts' unit tests (the persistent cache's key
# material, header lines) run natively too.
step "cargo test (src/js, npm feature)" cargo test -p cctoken --lib --features npm --quiet js::
# The plain Rust path: examples/acquire_token.rs (a native host) against the local token endpoint.
step "native example (Rust host over ureq)" "$NODE22" --test tests/examples/*.test.mjs
# The benchmark's reference builds (bench/floors) are a workspace of their own; lint them too.
step "bench floors: fmt, clippy" bash -c 'cargo fmt --manifest-path bench/floors/Cargo.toml --all -- --check &&
  cargo clippy --quiet --manifest-path bench/floors/Cargo.toml --target-dir target --all-targets -- -D warnings'
step "fuzz (libFuzzer, 20 s per target, from the committed corpus)" scripts/fuzz.sh 20

# The npm module is tested as users get it: packed with `npm pack`, installed into an empty
# folder, and exercised there by the same behavioural suite in every runtime.
APP="$ROOT/target/packed-app"
step "npm pack + install" scripts/install-packed.sh "$APP"
SUITE=(tests/node/*.test.mjs)
if [ -n "$SYSTEM_NODE" ] && [ "$SYSTEM_NODE" != "$NODE22" ]; then
  step "npm module, Node $("$SYSTEM_NODE" --version) (ESM, CJS, CLI)" \
    bash -c 'cd "$1" && shift && exec "$@"' _ "$APP" "$SYSTEM_NODE" --test "${SUITE[@]}" tests/node/*.test.cjs tests/package/cli.test.mjs tests/package/proxy.test.mjs
fi
step "npm module, Node $("$NODE22" --version) (ESM, CJS, CLI, workerd, edge-light, JSR, TypeScript)" \
  bash -c 'cd "$1" && shift && exec "$@"' _ "$APP" "$NODE22" --test "${SUITE[@]}" tests/node/*.test.cjs tests/package/*.test.mjs
# Deno and Bun run the same node:test files unchanged; "cctoken" resolves through the
# package's "deno" and "bun" export conditions.
step "npm module, Deno $(deno --version | head -n1 | cut -d' ' -f2)" \
  bash -c 'cd "$1" && shift && exec "$@"' _ "$APP" deno test --allow-read --allow-write --allow-net=127.0.0.1 --allow-env "${SUITE[@]}"
step "npm module, Bun $(bun --version)" \
  bash -c 'cd "$1" && shift && exec "$@"' _ "$APP" bun test "${SUITE[@]/#/./}"
step "wrangler deploy --dry-run (wrangler.toml, migrations)" "$NODE22" --test tests/deploy/*.test.mjs
step "Worker broker (workerd, Miniflare)" "$NODE22" --test tests/worker/*.test.mjs
# Last: every suite's output so far (stdout, stderr, Worker logs) must hold none of the
# suite's secrets, private keys or tokens.
step "no secret in any output" bash -c '"$1" --test tests/leaks/scan.test.mjs && "$1" tests/leaks/scan.mjs "$2"' _ "$NODE22" "$LOGS"

# Totals across the runners: cargo ("test result: ok. N passed; M failed"), node --test
# ("# pass N" / "# fail M"), Deno ("ok | N passed | M failed") and Bun (" N pass" / " N fail").
passed=0; failed=0
for log in "$LOGS"/*.log; do
  read -r p f < <(awk '
    /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
    /^# pass / { p += $3 } /^# fail / { f += $3 }
    /^ [0-9]+ pass$/ { p += $1 } /^ [0-9]+ fail$/ { f += $1 }
    /\| [0-9]+ passed \| [0-9]+ failed/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "passed") p += $i; if ($(i+1) == "failed") f += $i } }
    END { print p + 0, f + 0 }' "$log")
  passed=$((passed + p)); failed=$((failed + f))
done
if ((${#failed_steps[@]})); then
  echo "failed suites: ${failed_steps[*]}"
  (( failed > 0 )) || failed=${#failed_steps[@]}
fi
echo "${passed} passed, ${failed} failed"
((${#failed_steps[@]} == 0 && failed == 0))
