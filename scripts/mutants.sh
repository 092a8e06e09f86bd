#!/usr/bin/env bash
# Mutation testing (cargo-mutants): changes the code one small way at a time and checks that
# some test fails. Not part of `make test` (a full run takes about an hour on 2 cores).
#
#   scripts/mutants.sh                 the core's and the Worker crate's files named below
#   scripts/mutants.sh src/cache.rs    one file (a few minutes): the quick form while working
#
# Results go to target/mutants/<name>/mutants.out (missed.txt lists the survivors). Each
# survivor is killed by a test or explained in TESTING.md ("Mutants left alive").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

CARGO_MUTANTS_VERSION="27.1.0"
start=$(date +%s)
if cargo mutants --version 2>/dev/null | grep -q "$CARGO_MUTANTS_VERSION"; then
  say "cargo-mutants" "ok ($CARGO_MUTANTS_VERSION)"
else
  say "cargo-mutants" "installing $CARGO_MUTANTS_VERSION (about 5 minutes)…"
  cargo install --quiet cargo-mutants --version "$CARGO_MUTANTS_VERSION" >/dev/null
  say "cargo-mutants" "installed $CARGO_MUTANTS_VERSION in $(elapsed "$start")"
fi

CORE_FILES=(src/client.rs src/cache.rs src/response.rs src/request.rs src/scope.rs src/retry.rs src/credential.rs
  src/secret.rs src/error.rs src/client_options.rs src/option_value.rs src/request_fields.rs src/flight.rs src/coordinator.rs)
# The broker's rules live in the core behind the `broker` feature; the Worker crate is their I/O
# (KV, WebCrypto), which native tests cannot reach (TESTING.md says how those were checked).
BROKER_FILES=(src/broker/callers.rs src/broker/kv_entry.rs src/broker/budget_lease.rs src/broker/admission.rs src/broker/settings.rs
  src/broker/reply.rs src/broker/received_token_request.rs src/broker/address_throttle.rs src/broker/refresh_schedule.rs
  src/broker/coordination.rs src/broker/audit.rs)

# Doctests are skipped: they build slowly and test nothing the unit tests do not.
run() {
  local name="$1" package="$2"; shift 2
  local files=() features=()
  for file in "$@"; do
    files+=(-f "$file")
    case "$file" in src/broker/*) features=(--features broker) ;; esac
  done
  mkdir -p target/mutants
  cargo mutants --package "$package" "${features[@]}" "${files[@]}" --jobs 1 --output "target/mutants/$name" -- --lib --tests || true
  local out="target/mutants/$name/mutants.out"
  say "mutants $name" "$(grep -c . "$out/caught.txt" || true) caught, $(grep -c . "$out/missed.txt" || true) missed, $(grep -c . "$out/unviable.txt" || true) unviable, $(grep -c . "$out/timeout.txt" || true) timed out ($out)"
}

if [ $# -gt 0 ]; then
  for file in "$@"; do
    case "$file" in
      worker/*) run "$(basename "$file" .rs)" cctoken-worker "$file" ;;
      *) run "$(basename "$file" .rs)" cctoken "$file" ;;
    esac
  done
else
  run core cctoken "${CORE_FILES[@]}"
  run broker cctoken "${BROKER_FILES[@]}"
fi
