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

# Prints "name: message" on one line.
say() { printf '%-22s %s\n' "$1:" "$2"; }

# Seconds since $1 (from `date +%s`), as "1m02s" or "12s".
elapsed() {
  local s=$(( $(date +%s) - $1 ))
  if (( s >= 60 )); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

has_rustup_wasm_target() {
  command -v rustup >/dev/null 2>&1 &&
    rustup target list --installed 2>/dev/null | grep -qx "$WASM_TARGET"
}

has_debian_wasm_toolchain() {
  [ -x "$DEBIAN_RUSTC" ] && [ -x /usr/bin/cargo ] && [ -d "$DEBIAN_RUST_SRC" ] &&
    command -v wasm-ld >/dev/null 2>&1
}

# Runs "$@" with the environment that builds for wasm32: rustup's target when it is
# installed, else Debian's rustc-web building std from source (-Zbuild-std under
# RUSTC_BOOTSTRAP=1, linked by lld's wasm-ld), which needs no download from rustup.
with_wasm_toolchain() {
  if has_rustup_wasm_target; then
    "$@"
  elif has_debian_wasm_toolchain; then
    # std is built from source here anyway, so panics can compile to a bare trap: no panic
    # messages, locations or formatting machinery in the wasm (about 30 KB of the npm
    # module's 309 KB). Nothing reachable from input panics; a bug would trap either way.
    # std's optimize_for_size picks its smaller algorithms (sorting, formatting): 9 KB less,
    # none of it on a hot path.
    PATH="/usr/bin:$PATH" RUSTC="$DEBIAN_RUSTC" RUSTC_BOOTSTRAP=1 \
      CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
      CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld \
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
      "$@"
  else
    echo "no wasm32 toolchain: run scripts/bootstrap.sh" >&2
    return 1
  fi
}
