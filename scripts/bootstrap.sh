#!/usr/bin/env bash
# Installs everything the build, demo and tests need, idempotently: a wasm32 toolchain, the
# wasm-bindgen CLI matching the pinned crate, worker-build, the npm dev dependencies
# (Node 22, Deno, Miniflare, wrangler, esbuild, binaryen, OAuth2 client libraries), and curl and a
# Python venv for the broker's interop test. One line per step; fast when all is present.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- wasm32 std ------------------------------------------------------------------------
# Release wasm is built the same way on every machine: Debian's rustc-web building std from
# source with the size profile (scripts/lib.sh with_wasm_toolchain), never rustup's prebuilt
# wasm32 std, which some machines have and others cannot download. 30 to 50 s from apt.
debian_libdir_exists() {
  # worker-build asks rustc for the wasm32 libdir and refuses to build when it is missing;
  # with build-std it stays empty, so creating it is all that is needed.
  local libdir
  libdir="$("$DEBIAN_RUSTC" --print target-libdir --target "$WASM_TARGET")"
  mkdir -p "$libdir"
}
start=$(date +%s)
if ! has_debian_wasm_toolchain; then
  say "wasm32 std" "installing Debian rustc-web, cargo-web, rust-web-src, lld…"
  apt_install rustc-web cargo-web rust-web-src lld
  has_debian_wasm_toolchain || { echo "Debian wasm toolchain still incomplete" >&2; exit 1; }
  debian_libdir_exists
  say "wasm32 std" "installed Debian rustc-web $("$DEBIAN_RUSTC" --version | cut -d' ' -f2) in $(elapsed "$start")"
else
  debian_libdir_exists
  say "wasm32 std" "ok (Debian rustc-web $("$DEBIAN_RUSTC" --version | cut -d' ' -f2), std built from source)"
fi

# --- wasm-bindgen CLI ------------------------------------------------------------------
start=$(date +%s)
if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "wasm-bindgen" "ok ($WASM_BINDGEN_VERSION)"
else
  say "wasm-bindgen" "installing $WASM_BINDGEN_VERSION (about 4 minutes)…"
  # No --locked: the registry mirror can lack the newest patch releases a lock file names.
  cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" >/dev/null
  say "wasm-bindgen" "installed $WASM_BINDGEN_VERSION in $(elapsed "$start")"
fi

# --- worker-build ----------------------------------------------------------------------
start=$(date +%s)
if worker-build --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
  say "worker-build" "ok ($WORKER_BUILD_VERSION)"
else
  say "worker-build" "installing $WORKER_BUILD_VERSION (about 6 minutes)…"
  cargo install --quiet worker-build --version "$WORKER_BUILD_VERSION" >/dev/null
  say "worker-build" "installed $WORKER_BUILD_VERSION in $(elapsed "$start")"
fi

# --- npm dev dependencies --------------------------------------------------------------
start=$(date +%s)
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp="node_modules/.cctoken-lock-sha256"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ] && [ -x node_modules/.bin/node ]; then
  say "npm dev dependencies" "ok (Node $(node_modules/.bin/node --version), Deno $(node_modules/.bin/deno --version | head -n1 | cut -d' ' -f2))"
else
  say "npm dev dependencies" "installing (npm ci)…"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_hash" > "$stamp"
  say "npm dev dependencies" "installed in $(elapsed "$start")"
fi

# --- interop clients: curl, Python requests-oauthlib ----------------------------------
# The broker's interop test (tests/worker/interop.test.mjs) calls it as real clients do.
start=$(date +%s)
if command -v curl >/dev/null 2>&1; then
  say "curl" "ok ($(curl --version | head -n1 | cut -d' ' -f2))"
else
  say "curl" "installing (apt)…"
  apt_install curl
  say "curl" "installed in $(elapsed "$start")"
fi
start=$(date +%s)
requirements="tests/worker/interop/requirements.txt"
venv="target/interop-venv"
req_hash="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -f "$venv/.cctoken-requirements-sha256" ] && [ "$(cat "$venv/.cctoken-requirements-sha256")" = "$req_hash" ] &&
  "$venv/bin/python" -c 'import requests_oauthlib' 2>/dev/null; then
  say "python interop venv" "ok (requests-oauthlib $("$venv/bin/python" -c 'import requests_oauthlib; print(requests_oauthlib.__version__)'))"
else
  say "python interop venv" "installing $requirements…"
  rm -rf "$venv"
  # Debian's python3 has no venv (ensurepip) until python3-venv is installed.
  python3 -m venv "$venv" >/dev/null 2>&1 || { rm -rf "$venv"; apt_install python3-venv; python3 -m venv "$venv"; }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >/dev/null
  echo "$req_hash" > "$venv/.cctoken-requirements-sha256"
  say "python interop venv" "installed in $(elapsed "$start")"
fi
