# Shared helpers for the scripts in this folder. Source it; do not run it.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The machine's own Node (20 here), found before node_modules/.bin (Node 22) goes first.
SYSTEM_NODE="${SYSTEM_NODE:-$(command -v node || true)}"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

WASM_BINDGEN_VERSION="0.2.130"
WORKER_BUILD_VERSION="0.8.7"
WASM_TARGET="wasm32-unknown-unknown"
DEBIAN_RUSTC="/usr/bin/rustc"
DEBIAN_RUST_SRC="/usr/lib/rustlib/src/rust/library/std"
# wasm-opt from the npm package binaryen (a devDependency, pinned exactly in package.json).
# Debian's binaryen is too old for what rustc emits. WASM_OPT may name another copy of the
# same version.
BINARYEN_VERSION="132"
WASM_OPT="${WASM_OPT:-$ROOT/node_modules/.bin/wasm-opt}"

# Prints "name: message" on one line.
say() { printf '%-22s %s\n' "$1:" "$2"; }

# Seconds since $1 (from `date +%s`), as "1m02s" or "12s".
elapsed() {
  local s=$(( $(date +%s) - $1 ))
  if (( s >= 60 )); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

has_debian_wasm_toolchain() {
  [ -x "$DEBIAN_RUSTC" ] && [ -x /usr/bin/cargo ] && [ -d "$DEBIAN_RUST_SRC" ] &&
    command -v wasm-ld >/dev/null 2>&1
}

# Runs "$@" with the environment that builds for wasm32, the same on every machine: Debian's
# rustc-web building std from source (-Zbuild-std under RUSTC_BOOTSTRAP=1, linked by lld's
# wasm-ld) with the size profile below. rustup's prebuilt wasm32 std, where a machine has it,
# is not used: it is built for speed, with panic messages, and made the npm wasm 18 % larger
# (345 KB against 292 KB before wasm-opt), so what shipped depended on the machine. Native cargo test and
# clippy stay on rustup's stable toolchain (this only wraps the wasm builds).
with_wasm_toolchain() {
  if ! has_debian_wasm_toolchain; then
    echo "no Debian wasm32 toolchain (rustc-web, cargo-web, rust-web-src, lld): run scripts/bootstrap.sh" >&2
    return 1
  fi
  # std is built from source, so panics can compile to a bare trap: no panic messages,
  # locations or formatting machinery in the wasm (about 30 KB of the npm module's 309 KB).
  # Nothing reachable from input panics; a bug would trap either way. std's
  # optimize_for_size picks its smaller algorithms (sorting, formatting): 9 KB less, none of
  # it on a hot path.
  PATH="/usr/bin:$PATH" RUSTC="$DEBIAN_RUSTC" RUSTC_BOOTSTRAP=1 \
    CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
    CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
    "$@"
}

# Optimises the wasm file $1 in place with wasm-opt -Oz; further arguments go to wasm-opt.
# Run it on wasm-bindgen's output (the _bg.wasm), never before: wasm-bindgen reads custom
# sections and function names that wasm-opt would remove or rename. The features are the ones
# rustc enables for wasm32-unknown-unknown plus exception handling (wasm-bindgen's catch
# wrappers in the Worker), named rather than --all-features so that wasm-opt never emits
# an instruction a runtime (Node 20, workerd) does not have. Keeps the input as
# target/wasm-opt/<name> so the sizes before and after can be compared.
optimize_wasm() {
  local wasm="$1"; shift
  if [ "$("$WASM_OPT" --version 2>/dev/null | cut -d' ' -f3)" != "$BINARYEN_VERSION" ]; then
    echo "wasm-opt $BINARYEN_VERSION not found at $WASM_OPT: run scripts/bootstrap.sh (npm ci installs binaryen)" >&2
    return 1
  fi
  mkdir -p "$ROOT/target/wasm-opt"
  cp "$wasm" "$ROOT/target/wasm-opt/$(basename "$wasm")"
  "$WASM_OPT" -Oz \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling \
    "$@" "$wasm" -o "$wasm.opt"
  mv "$wasm.opt" "$wasm"
}

# "N bytes, G gzipped" for file $1 (gzip -9, as the npm tarball and Cloudflare count it).
wasm_size() {
  printf '%s bytes, %s gzipped' "$(wc -c < "$1")" "$(gzip -9c < "$1" | wc -c)"
}
