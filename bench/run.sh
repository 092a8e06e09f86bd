#!/usr/bin/env bash
# `make bench`: builds cctoken, installs it (packed) beside the peers it is compared with, runs
# bench/run.mjs with Node 22, and writes BENCHMARKS.md. Not part of CI: it times things.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
scripts/bootstrap.sh
scripts/build.sh all
bench/floors.sh
cd bench
rm -f cctoken-*.tgz cctoken.tgz
mv "$(cd ../pkg && npm pack --silent --pack-destination "$ROOT/bench")" cctoken.tgz
npm install --silent --no-audit --no-fund --no-save ./cctoken.tgz @azure/msal-node@7 @azure/identity@4 >/dev/null
exec "$ROOT/node_modules/.bin/node" run.mjs
