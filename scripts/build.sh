#!/usr/bin/env bash
# Builds the npm module's wasm + JS glue into pkg/dist/ and the Worker into worker/build/.
# Usage: scripts/build.sh [npm|worker|all]   (default: all). Incremental builds take seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

WASM_OUT="target/$WASM_TARGET/release"

build_npm() {
  local start
  start=$(date +%s)
  with_wasm_toolchain cargo build --quiet --release --target "$WASM_TARGET" -p cctoken --features npm
  rm -rf pkg/dist target/wasm-bindgen-cjs
  # One glue and one wasm file serve every runtime and both module systems: each ESM entry
  # loads the web-target glue with bytes it reads itself, and the CommonJS entry require()s the
  # same ES modules (Node 20.19+/22.12+, Bun), so a process that uses both shares one instance.
  wasm-bindgen --remove-name-section --remove-producers-section --target web --out-dir pkg/dist/web "$WASM_OUT/cctoken.wasm"
  # The generated glue, whitespace and syntax minified (names kept, so stack traces still read):
  # 15 KB less installed. Its first line, which names cctoken.d.ts for Deno, is put back.
  local js
  for js in pkg/dist/web/cctoken.js pkg/dist/web/snippets/*/src/js/host_bridge.mjs; do
    { grep -m1 '^/\* @ts-self-types=' "$js" || true
      esbuild --log-level=warning --minify-whitespace --minify-syntax "$js"; } > "$js.min"
    mv "$js.min" "$js"
  done
  # cctoken.d.ts stays: the glue names it with @ts-self-types, and Deno type-checks through it.
  rm -f pkg/dist/web/cctoken_bg.wasm.d.ts pkg/dist/web/.gitignore
  # The same declarations serve require() consumers; a .d.cts tells TypeScript they are CommonJS.
  cp pkg/src/index.d.ts pkg/dist/index.d.cts
  # The package's README is the npm user's part of the repository's: the repository's two
  # commands, the broker, failure behaviour in detail, the Rust core and the design (about
  # 45 KB) stay in the repository, which keeps the installed package under its 600 KB budget.
  awk '/^## The two commands$/ { skip = 1; next }
    /^## Using the npm module$/ { skip = 0 }
    /^## The Worker token broker$/ { exit }
    !skip { print }
    END { print "## More\n\nThe Worker token broker (and calling it with `BrokerClient`), failure behaviour in detail, the\nRust core and the design: see the README of the cctoken source repository." }' README.md > pkg/README.md
  # After wasm-bindgen: 10 % smaller installed; gzip, and so the tarball, about 2 KB larger.
  optimize_wasm pkg/dist/web/cctoken_bg.wasm
  say "npm module" "built in $(elapsed "$start"): pkg/dist/web/cctoken_bg.wasm $(wasm_size pkg/dist/web/cctoken_bg.wasm) (before wasm-opt: $(wasm_size target/wasm-opt/cctoken_bg.wasm))"
}

build_worker() {
  local start worker_build
  start=$(date +%s)
  worker_build="$(command -v worker-build)"
  (
    cd worker
    # Point worker-build at local tools so it downloads nothing.
    WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild" \
      with_wasm_toolchain "$worker_build" --release >/dev/null 2>build.log ||
      { cat build.log >&2; exit 1; }
    rm -f build.log
  )
  local wasm=worker/build/index_bg.wasm
  # Here rather than inside worker-build (its wasm-opt step downloads binaryen): the same
  # binaryen and flags as the npm module. --debuginfo keeps the function names: a trap in a
  # deployed Worker (panics abort) then shows where it happened; they cost 21 KB gzipped.
  optimize_wasm "$wasm" --debuginfo
  say "worker" "built in $(elapsed "$start"): $wasm $(wasm_size "$wasm") (before wasm-opt: $(wasm_size target/wasm-opt/index_bg.wasm))"
}

case "${1:-all}" in
  npm) build_npm ;;
  worker) build_worker ;;
  all) build_npm; build_worker ;;
  *) echo "usage: scripts/build.sh [npm|worker|all]" >&2; exit 2 ;;
esac
