#!/usr/bin/env bash
# `make bench`: every benchmark, in one run, written up in BENCHMARKS.md (benches/report.rs).
# Settings of the cold starts (COLDSTART_*): benches/coldstart.rs. COLDSTART_PERF=0 skips the
# profile and the build with symbols it needs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

echo "==> release build of the function (for the cold-start and memory runs)"
cargo build --release --bin connect-attachments
# The binary as `cargo lambda` builds it, set aside: `cargo bench` relinks
# target/release/connect-attachments with the dev-dependencies' features unified in.
mkdir -p target/bench/bin
cp target/release/connect-attachments target/bench/bin/connect-attachments
echo "==> cold-start baseline and hello world (devkit/examples), Cargo's default release profile"
CARGO_TARGET_DIR=target/baseline CARGO_PROFILE_RELEASE_LTO=false \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_STRIP=none \
  cargo build --release -p devkit --example coldstart-baseline --example coldstart-hello
if [ "${COLDSTART_PERF:-1}" = 1 ]; then
  echo "==> the function again, symbols kept, for perf (target/perf)"
  CARGO_TARGET_DIR=target/perf CARGO_PROFILE_RELEASE_STRIP=none \
    cargo build --release --bin connect-attachments
fi
echo "==> handler overhead, cold starts (plain and at Lambda's CPU share, TLS), peak RSS"
scripts/with-services.sh cargo bench --bench lambda --bench coldstart
echo "==> CPU path (criterion)"
# No service is called, but the SDK clients are built with the local pair (scripts/lib.sh).
(local_credentials && cargo bench --bench cpu)
echo "==> arm64 release bootstrap"
scripts/build.sh
cargo bench --bench report
