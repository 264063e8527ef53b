#!/usr/bin/env bash
# Runs a command against a DynamoDB Local and a local S3 server of its own: both started on free
# ports, the tables and the bucket created, the endpoints and the local credentials exported,
# both stopped afterwards, pass or fail.
#   scripts/with-services.sh COMMAND [ARGS...]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

run_dir=$(mktemp -d /tmp/attachments-services.XXXXXX)
cleanup() {
  scripts/s3-local.sh stop "$run_dir/s3.pid"
  scripts/dynamodb-local.sh stop "$run_dir/dynamodb.pid"
  rm -rf "$run_dir"
}
trap cleanup EXIT
local_credentials
dynamodb_port=$(free_port)
scripts/dynamodb-local.sh start "$dynamodb_port" "$run_dir/dynamodb.pid"
s3_port=$(free_port)
scripts/s3-local.sh start "$s3_port" "$run_dir/s3.pid"
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$dynamodb_port
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$s3_port
devkit setup
echo "DynamoDB Local on $AWS_ENDPOINT_URL_DYNAMODB, S3 on $AWS_ENDPOINT_URL_S3"
"$@"
