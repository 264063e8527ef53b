#!/usr/bin/env bash
# `make bench`: every benchmark, in one run, written up in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> release build of the function (for the cold-start and memory runs)"
cargo build --release --bin connect-attachments
echo "==> handler overhead, cold start, peak RSS (against DynamoDB Local)"
scripts/with-services.sh cargo bench --bench lambda
echo "==> CPU path (criterion)"
cargo bench --bench cpu
echo "==> arm64 release bootstrap"
scripts/build.sh
scripts/coldstart.sh  # cold start at 128 MB (7.2% CPU cgroup) and uncapped, TLS included, vs a baseline: target/bench/coldstart.json
python3 scripts/write-benchmarks.py
