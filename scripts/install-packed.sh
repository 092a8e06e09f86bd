#!/usr/bin/env bash
# Packs pkg/ with `npm pack` and installs the tarball into an empty folder, as a user would,
# then copies the behavioural tests next to it. Usage: scripts/install-packed.sh <dir>
# Prints the packed and unpacked sizes. Dev tools the tests need (miniflare, esbuild,
# typescript) are linked from this checkout, not installed again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
app="$(mkdir -p "$1" && cd "$1" && pwd)"
rm -rf "$app" && mkdir -p "$app"
tarball="$(cd "$ROOT/pkg" && npm pack --silent --pack-destination "$app")"
(
  cd "$app"
  echo '{ "name": "cctoken-consumer", "private": true, "type": "module" }' > package.json
  npm install --silent --no-audit --no-fund --offline "./$tarball" >/dev/null 2>&1 ||
    npm install --silent --no-audit --no-fund "./$tarball" >/dev/null
  # What a fresh consumer's node_modules holds, before the test tools are linked in.
  du -sb node_modules | cut -f1 > consumer-bytes
  for tool in miniflare esbuild typescript @types/node proxy edge-runtime @edge-runtime undici; do
    mkdir -p "node_modules/$(dirname "$tool")"
    ln -sfn "$ROOT/node_modules/$tool" "node_modules/$tool"
  done
  mkdir -p tests
  cp -r "$ROOT/tests/node" "$ROOT/tests/package" "$ROOT/tests/token-endpoint" "$ROOT/tests/fixtures" tests/
)
packed=$(wc -c < "$app/$tarball")
unpacked=$(du -sb "$app/node_modules/cctoken" | cut -f1)
consumer=$(cat "$app/consumer-bytes")
say "packed package" "$tarball: $packed bytes packed, $unpacked bytes installed ($consumer bytes in a fresh consumer's node_modules)"
# The install budget (issue 16): a fresh consumer's node_modules under 600 KB. Exact, not timed.
if ((consumer >= 600000)); then
  echo "install-packed: a fresh consumer's node_modules is $consumer bytes, over the 600,000-byte budget" >&2
  exit 1
fi
