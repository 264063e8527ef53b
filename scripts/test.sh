#!/usr/bin/env bash
# `make test`: every check, from formatting to the integration tests against a DynamoDB Local
# that this script starts on a free port and stops at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

step "template.yaml: cfn-lint and sam validate --lint"
scripts/install.sh sam
export SAM_CLI_TELEMETRY=0
PATH="$PWD/.cache/venv-sam/bin:$PATH" AWS_DEFAULT_REGION=us-east-1 cfn-lint template.yaml
PATH="$PWD/.cache/venv-sam/bin:$PATH" AWS_DEFAULT_REGION=us-east-1 sam validate --lint

step "schemathesis and boto3 (PyPI) for the API tests"
scripts/install.sh apitests
export APITESTS_VENV="$PWD/.cache/venv-apitests"

step "cargo test (unit, fixture and integration tests), then a smoke test of make run, against a DynamoDB Local of its own"
scripts/with-dynamodb.sh bash -c 'cargo test --all-targets && scripts/smoke-run.sh'
