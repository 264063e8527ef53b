#!/usr/bin/env bash
# Runs a command against a DynamoDB Local of its own: started on a free port with the tables
# created, its endpoint and the local credentials exported, stopped afterwards, pass or fail.
#   scripts/with-dynamodb.sh COMMAND [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

pidfile=$(mktemp -u /tmp/cau-dynamodb.XXXXXX)
trap 'scripts/dynamodb-local.sh stop "$pidfile"' EXIT
port=$(scripts/dynamodb-local.sh free-port)
scripts/dynamodb-local.sh start "$port" "$pidfile"
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$port
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export CONNECTIONS_TABLE=connections ATTACHMENTS_TABLE=attachments IDEMPOTENCY_TABLE=idempotency
scripts/tables.sh create
echo "DynamoDB Local on $AWS_ENDPOINT_URL_DYNAMODB"
"$@"
