#!/usr/bin/env bash
# `make test`: every check, from formatting to the integration tests against a DynamoDB Local and a
# local S3 server that this script starts on free ports and stops at the end.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "make check: formatting, clippy and the unit tests"
make --no-print-directory check

step "template.yaml: cfn-lint and sam validate --lint"
scripts/install.sh sam
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1
(use_venv sam && cfn-lint template.yaml && sam validate --lint)

step "the local services and test tools (DynamoDB Local, SeaweedFS, cargo-lambda, schemathesis, boto3, Chromium, chatjs)"
scripts/install.sh dynamodb s3 lambda apitests browser chatjs
export APITESTS_VENV="$VENV_DIR/venv-apitests"

step "cargo test (unit and integration tests), then a smoke test of make run, against services of their own"
scripts/with-services.sh bash -c 'cargo test --workspace --all-targets && scripts/smoke-run.sh'
