#!/usr/bin/env bash
# The demo: installs and builds what is missing, then acquires tokens through the npm module
# (Node 22, Deno) and the Worker broker (wrangler dev --local) and prints where each came from.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
scripts/bootstrap.sh
scripts/build.sh all
exec "$ROOT/node_modules/.bin/node" demo/run.mjs
