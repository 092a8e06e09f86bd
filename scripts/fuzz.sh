#!/usr/bin/env bash
# Runs the libFuzzer targets in fuzz/ for a bounded time each, one after the other, starting
# from a temporary copy of the committed corpus (fuzz/corpus/<target>/) so a run never
# changes the tree. Prints one line per target; exits non-zero if any target crashed (the
# input that did is kept in fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh [seconds-per-target] [target…]      (default: 20 s, every target)
#
# Installs cargo-fuzz when missing. Uses the nightly toolchain when rustup has one, else stable
# with RUSTC_BOOTSTRAP=1 (FUZZ_TOOLCHAIN=stable forces that fallback).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CARGO_FUZZ_VERSION="0.13.2"
seconds="${1:-20}"
shift $(( $# > 0 ? 1 : 0 ))
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [seconds-per-target] [target…]" >&2
  exit 2
fi
cd "$ROOT/fuzz"

start=$(date +%s)
if [ "$(cargo fuzz --version 2>/dev/null)" = "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "cargo-fuzz" "ok ($CARGO_FUZZ_VERSION)"
else
  say "cargo-fuzz" "installing $CARGO_FUZZ_VERSION (about 3 minutes)…"
  cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" >/dev/null
  say "cargo-fuzz" "installed $CARGO_FUZZ_VERSION in $(elapsed "$start")"
fi

# No sanitizer: the core forbids unsafe code, so AddressSanitizer would add little beyond
# the panics and overflow checks, and it slows every execution. Debug assertions and overflow checks
# are on (cargo-fuzz's default, and fuzz/Cargo.toml's release profile).
flags=(--sanitizer none)

# libFuzzer's instrumentation flags are unstable rustc options. Each toolchain builds into a
# target directory of its own, so switching between them never rebuilds the other's.
if [ "${FUZZ_TOOLCHAIN:-}" != "stable" ] && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  export RUSTUP_TOOLCHAIN=nightly
  toolchain="nightly $(rustc --version | cut -d' ' -f2)"
else
  export RUSTUP_TOOLCHAIN=stable RUSTC_BOOTSTRAP=1
  toolchain="stable $(rustc --version | cut -d' ' -f2) with RUSTC_BOOTSTRAP=1"
  flags+=(--target-dir target/stable-bootstrap)
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
cargo fuzz build "${flags[@]}" >/dev/null 2>"$work/build.log" || {
  cat "$work/build.log" >&2
  exit 1
}
say "fuzz build" "with $toolchain in $(elapsed "$start")"
failed=0
for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  mkdir -p "$corpus"
  if [ -d "corpus/$target" ]; then
    cp -R "corpus/$target/." "$corpus/"
  fi
  seeds=$(find "$corpus" -type f | wc -l)
  options=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1)
  if [ -f "dict/$target.dict" ]; then
    options+=(-dict="dict/$target.dict")
  fi
  log="$work/$target.log"
  start=$(date +%s)
  if cargo fuzz run "${flags[@]}" "$target" "$corpus" -- "${options[@]}" >"$log" 2>&1; then
    outcome="ok"
  else
    outcome="CRASHED"
    failed=1
  fi
  # A crash while loading the corpus leaves no stats lines; that must not end the script.
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  coverage=$({ grep -E '^#[0-9]+.*cov: ' "$log" || true; } | tail -n1 |
    sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/cov \1, ft \2, corpus \3/')
  say "fuzz $target" "$outcome: ${runs:-?} execs in $(elapsed "$start") (${coverage:-no coverage line}; $seeds committed inputs)"
  if [ "$outcome" != "ok" ]; then
    grep -A4 -m1 'panicked at' "$log" >&2 || true
    grep -E 'ERROR: libFuzzer|Test unit written to' "$log" >&2 || tail -n 40 "$log" >&2
  fi
done
exit "$failed"
