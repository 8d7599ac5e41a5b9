#!/usr/bin/env bash
# Builds btcd and btcctl at a pinned version into the project's git-ignored .tools/bin with
# `go install`, only when they are missing or were built at another version (a stamp file records
# the version). Idempotent and instant when already present.
#
# Why pinned at v0.26.x: before v0.26.0 regtest btcd activates CSV/segwit only at height 432 and
# enforces CLTV only from 1351 (DESIGN.md, "The chain").
set -euo pipefail

BTCD_VERSION=v0.26.2
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"
stamp="$root/.tools/btcd.version"

if [ -x "$bin/btcd" ] && [ -x "$bin/btcctl" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$BTCD_VERSION" ]; then
  exit 0
fi

# Go is often installed outside PATH (the official tarball lands in /usr/local/go).
if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "install-btcd: Go is not installed — install Go 1.22 or newer (https://go.dev/dl/) and rerun 'npm run install-btcd'" >&2
    exit 1
  fi
fi

mkdir -p "$bin"
echo "install-btcd: building btcd and btcctl $BTCD_VERSION into .tools/bin (first time only, about a minute)" >&2
GOBIN="$bin" go install \
  "github.com/btcsuite/btcd@$BTCD_VERSION" \
  "github.com/btcsuite/btcd/cmd/btcctl@$BTCD_VERSION"
echo "$BTCD_VERSION" > "$stamp"
echo "install-btcd: btcd $BTCD_VERSION ready in $bin" >&2
