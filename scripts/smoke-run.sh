#!/usr/bin/env bash
# Smoke test of `make run`, run by `make test` against its own DynamoDB Local and S3: starts
# scripts/run.sh on a free port, runs the very walk-through it prints (start, upload, complete,
# get, download), checks each step, then stops it and checks that it stopped, quietly.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
: "${AWS_ENDPOINT_URL_DYNAMODB:?run me from scripts/with-services.sh}"

port=$(free_port)
demo_port=$(free_port)
log=$(mktemp)
PORT=$port DEMO_PORT=$demo_port setsid scripts/run.sh >"$log" 2>&1 &
run=$!
trap 'kill -- "-$run" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 240); do
  grep -q '^Ready\.' "$log" && break
  pid_alive "$run" || { cat "$log"; echo "make run exited early" >&2; exit 1; }
  sleep 0.5
done
grep -q '^Ready\.' "$log" || { cat "$log"; echo "make run was not ready within 120 s" >&2; exit 1; }

walkthrough=$(sed -n '/^----- 8< -----$/,/^----- 8< -----$/p' "$log" | sed '1d;$d')
out=$(bash -c "$walkthrough" 2>&1) || { echo "$out"; cat "$log"; echo "the walk-through failed" >&2; exit 1; }
expect() { # expect WHAT PATTERN
  if ! grep -q -- "$2" <<<"$out"; then
    echo "$out"; cat "$log"; echo "make run's walk-through: $1 missing ('$2')" >&2; exit 1
  fi
  echo "make run: $1"
}
expect "start answers an upload URL" '"UploadMetadata"'
expect "the upload is accepted by S3" '^upload: 200$'
expect "complete answers 200" '^complete: 200$'
expect "get answers a download URL" '"AttachmentSizeInBytes":29'
expect "the download is an attachment" '^[Cc]ontent-[Dd]isposition: attachment; filename="hello.txt"'
expect "the downloaded bytes are the uploaded ones" '^Hello from the walk-through!$'

# A background job ignores SIGINT (bash), so the test sends what a terminal's Ctrl-C leads to: the
# script's own trap, via SIGTERM.
page=$(grep -o "http://127.0.0.1:$demo_port/[^ ]*" "$log" | head -1)
[ "$(curl -s -o /dev/null -w '%{http_code}' "$page")" = 200 ] || { echo "the demo page is not served at $page" >&2; exit 1; }
echo "make run: the demo page is served at $page"
preflight=$(curl -s -D - -o /dev/null -X OPTIONS "http://127.0.0.1:$port/participant/start-attachment-upload" \
  -H "Origin: http://127.0.0.1:$demo_port" -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Headers: content-type,x-amz-bearer' | tr -d '\r')
grep -qi "^access-control-allow-origin: http://127.0.0.1:$demo_port$" <<<"$preflight" ||
  { echo "$preflight"; echo "the function does not answer the page's preflight" >&2; exit 1; }
echo "make run: the function answers the demo page's preflight"

kill -TERM "$run"
for _ in $(seq 1 80); do pid_alive "$run" || break; sleep 0.25; done
if pid_alive "$run"; then echo "make run did not stop" >&2; exit 1; fi
if port_open "$port"; then echo "the function still serves on $port" >&2; exit 1; fi
if grep -qi 'waitpid\|panicked' "$log"; then cat "$log"; echo "make run did not stop quietly" >&2; exit 1; fi
echo "make run: stopped cleanly"
