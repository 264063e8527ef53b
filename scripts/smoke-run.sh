#!/usr/bin/env bash
# Smoke test of `make run`'s serving path, run by `make test` against its DynamoDB Local: starts
# scripts/run.sh on a free port, sends the printed curl line (200), again (200, a replay), with a
# new ClientToken (409) and to another path (404), then stops it and checks that it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${AWS_ENDPOINT_URL_DYNAMODB:?run me from scripts/with-dynamodb.sh}"

port=$(scripts/dynamodb-local.sh free-port)
log=$(mktemp)
PORT=$port scripts/run.sh >"$log" 2>&1 &
run=$!
trap 'kill "$run" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 240); do
  grep -q '^Ready\.' "$log" && break
  kill -0 "$run" 2>/dev/null || { cat "$log"; echo "make run exited early" >&2; exit 1; }
  sleep 0.5
done
grep -q '^Ready\.' "$log" || { cat "$log"; echo "make run was not ready within 120 s" >&2; exit 1; }

complete() { # complete CLIENT_TOKEN [PATH]: prints the status and X-Amzn-ErrorType
  curl -s -o /dev/null -D - -X POST "http://127.0.0.1:$port${2:-/participant/complete-attachment-upload}" \
    -H 'X-Amz-Bearer: demo-connection-token' -H 'Content-Type: application/json' \
    -d "{\"AttachmentIds\":[\"demo-attachment\"],\"ClientToken\":\"$1\"}" |
    awk 'NR == 1 { status = $2 } tolower($1) == "x-amzn-errortype:" { type = $2 } END { printf "%s %s", status, type }' |
    tr -d '\r'
}
expect() { # expect WHAT GOT WANT
  if [ "$2" != "$3" ]; then cat "$log"; echo "make run: $1 answered '$2', expected '$3'" >&2; exit 1; fi
  echo "make run: $1 -> $2"
}
expect "the printed curl line" "$(complete demo-1)" "200 "
expect "the same again" "$(complete demo-1)" "200 "
expect "a new ClientToken" "$(complete demo-2)" "409 ConflictException"
expect "another path" "$(complete demo-3 /participant/other)" "404 UnknownOperationException"

kill -TERM "$run"
for _ in $(seq 1 40); do kill -0 "$run" 2>/dev/null || break; sleep 0.25; done
if kill -0 "$run" 2>/dev/null; then echo "make run did not stop" >&2; exit 1; fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "the function still serves on $port" >&2; exit 1; fi
echo "make run: stopped cleanly"
