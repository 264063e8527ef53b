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

step "DynamoDB Local"
pidfile=$(mktemp -u /tmp/cau-dynamodb.XXXXXX)
trap 'scripts/dynamodb-local.sh stop "$pidfile"' EXIT
port=$(scripts/dynamodb-local.sh free-port)
scripts/dynamodb-local.sh start "$port" "$pidfile"
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$port
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export CONNECTIONS_TABLE=connections ATTACHMENTS_TABLE=attachments IDEMPOTENCY_TABLE=idempotency
scripts/tables.sh create
echo "listening on $AWS_ENDPOINT_URL_DYNAMODB"

step "cargo test (unit, fixture and integration tests)"
cargo test --all-targets
