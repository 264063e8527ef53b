#!/usr/bin/env bash
# `make run`: DynamoDB Local (unless AWS_ENDPOINT_URL_DYNAMODB points elsewhere), the tables, a demo
# connection and attachment, and the function served by `cargo lambda watch` on 127.0.0.1:9000.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

export CONNECTIONS_TABLE=${CONNECTIONS_TABLE:-connections}
export ATTACHMENTS_TABLE=${ATTACHMENTS_TABLE:-attachments}
export IDEMPOTENCY_TABLE=${IDEMPOTENCY_TABLE:-idempotency}
export MAX_ATTACHMENTS_PER_CONTACT=${MAX_ATTACHMENTS_PER_CONTACT:-100}
export IDEMPOTENCY_TTL_SECONDS=${IDEMPOTENCY_TTL_SECONDS:-86400}
export RUST_LOG=${RUST_LOG:-info}
# DynamoDB Local accepts any credentials; real ones are never needed here.
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
PORT=${PORT:-9000}
DEMO_TOKEN=demo-connection-token
DEMO_ATTACHMENT=demo-attachment

scripts/install.sh lambda dynamodb
export PATH="$PWD/.cache/venv-lambda/bin:$PATH"

pids=()
env_file=
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$env_file" ] && rm -f "$env_file"
  scripts/dynamodb-local.sh stop .cache/run-dynamodb.pid
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  echo "Starting DynamoDB Local on 127.0.0.1:8000 ..."
  scripts/dynamodb-local.sh start 8000 .cache/run-dynamodb.pid
  export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000
else
  echo "Using the DynamoDB at $AWS_ENDPOINT_URL_DYNAMODB"
fi
scripts/tables.sh create
scripts/tables.sh seed "$DEMO_TOKEN" "$DEMO_ATTACHMENT" demo-attachment-rest

# The function's environment, credentials included: a private file, removed on exit.
env_file=$(mktemp)
chmod 600 "$env_file"
for name in CONNECTIONS_TABLE ATTACHMENTS_TABLE IDEMPOTENCY_TABLE MAX_ATTACHMENTS_PER_CONTACT \
  IDEMPOTENCY_TTL_SECONDS RUST_LOG DYNAMODB_TIMEOUT_MS AWS_ENDPOINT_URL_DYNAMODB AWS_REGION \
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; do
  [ -n "${!name:-}" ] && echo "$name=${!name}" >>"$env_file"
done

echo "Building and serving the function on http://127.0.0.1:$PORT ..."
cargo lambda watch -A 127.0.0.1 -P "$PORT" --env-file "$env_file" &
pids+=($!)
cargo build --quiet # the same build cargo lambda watch runs; ready when it is
for _ in $(seq 1 120); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "cargo lambda watch exited" >&2; exit 1; }
  sleep 0.5
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { echo "nothing answers on port $PORT after 60 s" >&2; exit 1; }

cat <<MSG

Ready. Complete the demo attachment (answers 200 with an empty body):

  curl -i -X POST http://127.0.0.1:$PORT/participant/complete-attachment-upload \\
    -H 'X-Amz-Bearer: $DEMO_TOKEN' -H 'Content-Type: application/json' \\
    -d '{"AttachmentIds":["$DEMO_ATTACHMENT"],"ClientToken":"demo-1"}'

Repeat it as is: 200 again (a replay). With "ClientToken":"demo-2": 409 ConflictException.
Ctrl-C stops the function and DynamoDB Local.
MSG
wait
