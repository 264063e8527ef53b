#!/usr/bin/env bash
# `make build`: the release `bootstrap` of both functions (the API's and the reaper's) for Lambda on
# arm64 (Graviton), cross-compiled with cargo-lambda and zig (both from PyPI); prints where they
# are and their sizes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
scripts/install.sh lambda
use_venv lambda
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
cargo lambda build --release --arm64 --bin connect-attachments --bin reaper
for binary in target/lambda/connect-attachments/bootstrap target/lambda/reaper/bootstrap; do
  file "$binary" 2>/dev/null || true
  echo "$binary: $(stat -c %s "$binary") bytes ($(du -h "$binary" | cut -f1))"
done
