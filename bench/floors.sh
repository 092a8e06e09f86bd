#!/usr/bin/env bash
# Builds the reference wasm builds in bench/floors (see its Cargo.toml) into
# target/floors/out/<name>/ and prints their sizes. Called by bench/run.sh; about 2 minutes
# the first time, seconds after.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT/bench/floors"
export CARGO_TARGET_DIR="$ROOT/target/floors"
with_wasm_toolchain cargo build --quiet --release --target "$WASM_TARGET"
for name in toolchain core_slice sans_io; do
  out="$CARGO_TARGET_DIR/out/$name"
  rm -rf "$out"
  wasm-bindgen --remove-name-section --remove-producers-section --target web --out-dir "$out" \
    "$CARGO_TARGET_DIR/$WASM_TARGET/release/floor_$name.wasm"
  wasm="$out/floor_${name}_bg.wasm"
  # Optimised as the npm module's wasm is (scripts/build.sh), so the two compare like for like.
  optimize_wasm "$wasm"
  say "floor $name" "$(wasm_size "$wasm") (before wasm-opt: $(wasm_size "$ROOT/target/wasm-opt/floor_${name}_bg.wasm"))"
done
