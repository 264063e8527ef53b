#!/usr/bin/env bash
# `make run`: DynamoDB Local and a local S3 (unless AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_S3
# both point at endpoints of your own), the tables and the bucket, the demo data, and the function
# served by `cargo lambda watch` on 127.0.0.1:$PORT (9000), then the walk-through to paste.
# Credentials: the servers it starts, devkit and the function sign with a local pair, whatever the
# shell exports; with endpoints of your own, everything signs with the shell's (session token too).
# Ctrl-C stops everything this script started, quietly.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT=${PORT:-$FUNCTION_PORT_DEFAULT}
DEMO_PORT=${DEMO_PORT:-$DEMO_PORT_DEFAULT}
DYNAMODB_PORT=${DYNAMODB_PORT:-$DYNAMODB_PORT_DEFAULT}
S3_PORT=${S3_PORT:-$S3_PORT_DEFAULT}
export RUST_LOG=${RUST_LOG:-info}
# The demo page's origin may call the function and PUT/GET the bucket's files (CORS on both).
export ALLOWED_ORIGINS=${ALLOWED_ORIGINS:-http://127.0.0.1:$DEMO_PORT,http://localhost:$DEMO_PORT}
case "${AWS_ENDPOINT_URL_DYNAMODB:+d}${AWS_ENDPOINT_URL_S3:+s}" in
  "") local_credentials ;;
  ds)
    if [ -z "${AWS_ACCESS_KEY_ID:-}" ] || [ -z "${AWS_SECRET_ACCESS_KEY:-}" ]; then
      echo "With endpoints of your own, export the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY they accept" >&2
      exit 2
    fi
    export AWS_REGION=${AWS_REGION:-us-east-1}
    ;;
  *)
    echo "Set both AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_S3 (endpoints of your own), or neither" >&2
    exit 2
    ;;
esac
scripts/install.sh lambda dynamodb s3
use_venv lambda

run_dir=$(mktemp -d /tmp/attachments-run.XXXXXX)
watch_pid= output_pid= page_pid=
cleanup() {
  trap - EXIT INT TERM
  # Silence the function's output first: cargo-lambda's own shutdown report is noise.
  [ -z "$output_pid" ] || kill "$output_pid" 2>/dev/null || true
  [ -z "$page_pid" ] || kill -TERM -- "-$page_pid" 2>/dev/null || true
  if [ -n "$watch_pid" ]; then
    kill -TERM -- "-$watch_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do pid_alive "$watch_pid" || break; sleep 0.25; done
    kill -KILL -- "-$watch_pid" 2>/dev/null || true
  fi
  scripts/s3-local.sh stop "$run_dir/s3.pid"
  scripts/dynamodb-local.sh stop "$run_dir/dynamodb.pid"
  rm -rf "$run_dir"
  echo "Stopped."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# local_service NAME SCRIPT PORT ENDPOINT_VARIABLE: starts it, unless the variable points elsewhere.
local_service() {
  if [ -z "${!4:-}" ]; then
    echo "Starting $1 on 127.0.0.1:$3 ..."
    "scripts/$2-local.sh" start "$3" "$run_dir/$2.pid"
    export "$4=http://127.0.0.1:$3"
  else
    echo "Using the $1 at ${!4}"
  fi
}
local_service "DynamoDB Local" dynamodb "$DYNAMODB_PORT" AWS_ENDPOINT_URL_DYNAMODB
local_service "a local S3 (SeaweedFS)" s3 "$S3_PORT" AWS_ENDPOINT_URL_S3
devkit setup
devkit seed

# The function's environment, credentials included: a private file, removed on exit.
(umask 077 && devkit function-env >"$run_dir/function.env")

echo "Building and serving the function on http://127.0.0.1:$PORT ..."
mkfifo "$run_dir/output"
cat <"$run_dir/output" &
output_pid=$!
# In a session of its own, so that Ctrl-C reaches this script only, which stops it. cargo-lambda's
# own log at warn: at info it prints the function's environment, credentials included (the
# function's RUST_LOG is in its env file). --disable-cors: the function's CORS only, as deployed.
RUST_LOG=warn setsid cargo lambda watch --disable-cors --bin connect-attachments -A 127.0.0.1 -P "$PORT" --env-file "$run_dir/function.env" \
  >"$run_dir/output" 2>&1 &
watch_pid=$!
cargo build --quiet --bin connect-attachments # the build cargo lambda watch runs; ready when it is
wait_for_port "$PORT" "$watch_pid" 120 "cargo lambda watch" /dev/null
# In a process group of its own, so that stopping it stops cargo's child, the server, too.
setsid cargo run --quiet -p devkit -- serve "127.0.0.1:$DEMO_PORT" demo >/dev/null 2>&1 &
page_pid=$!
wait_for_port "$DEMO_PORT" "$page_pid" 10 "the demo page's server" /dev/null

cat <<MSG

Ready. The demo chat has a customer (X-Amz-Bearer: demo-connection-token) and an agent
(demo-agent-token). Paste these lines: the customer uploads a file, the agent downloads it.
----- 8< -----
$(devkit walkthrough "$PORT")
----- 8< -----
In a browser: http://127.0.0.1:$DEMO_PORT/?api=http://127.0.0.1:$PORT (the demo page: pick a file, Upload)
Sample events: make invoke EVENT=events/success.json PORT=$PORT
Ctrl-C stops the function, DynamoDB Local and the S3 server.
MSG
wait "$watch_pid"
