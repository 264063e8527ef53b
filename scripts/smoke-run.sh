#!/usr/bin/env bash
# Smoke test of `make run`, run by `make test`: starts scripts/run.sh on free ports from a shell
# that exports AWS credentials (a session token included), as most AWS developers' shells and CI's
# do, so that it starts its own DynamoDB Local and S3 with the local pair; runs the very
# walk-through it prints (start, upload, complete, get, download), checks each step and its CORS,
# checks that no secret of the shell was printed, then stops it and checks that it stopped, quietly.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
: "${AWS_ENDPOINT_URL_DYNAMODB:?run me from scripts/with-services.sh}"

port=$(free_port)
demo_port=$(free_port)
dynamodb_port=$(free_port)
s3_port=$(free_port 1 10000)
log=$(mktemp)
# Credentials that look like a developer's: none may be printed, and none reaches a local server.
shell_key=AKIASMOKETEST$RANDOM$RANDOM shell_secret=smoke-secret-$RANDOM$RANDOM$RANDOM
shell_token=smoke-session-token-$RANDOM$RANDOM$RANDOM
env -u AWS_ENDPOINT_URL_DYNAMODB -u AWS_ENDPOINT_URL_S3 -u RUST_LOG \
  AWS_ACCESS_KEY_ID="$shell_key" AWS_SECRET_ACCESS_KEY="$shell_secret" AWS_SESSION_TOKEN="$shell_token" \
  PORT=$port DEMO_PORT=$demo_port DYNAMODB_PORT=$dynamodb_port S3_PORT=$s3_port \
  setsid scripts/run.sh >"$log" 2>&1 &
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
preflight=$(curl -s -D - -o /dev/null -X OPTIONS "http://127.0.0.1:$port/participant/start-attachment-upload" \
  -H "Origin: http://evil.example" -H 'Access-Control-Request-Method: POST' | tr -d '\r')
if grep -qi "^access-control-" <<<"$preflight"; then
  echo "$preflight"; echo "a page of another origin got CORS headers (cargo-lambda's own CORS?)" >&2; exit 1
fi
echo "make run: a preflight from another origin gets no CORS headers"
for secret in "$shell_key" "$shell_secret" "$shell_token"; do
  if grep -qF -- "$secret" "$log" || grep -qF -- "$secret" <<<"$out"; then
    echo "make run printed a credential of the shell" >&2; exit 1
  fi
done
echo "make run: no credential of the shell was printed"

kill -TERM "$run"
for _ in $(seq 1 80); do pid_alive "$run" || break; sleep 0.25; done
if pid_alive "$run"; then echo "make run did not stop" >&2; exit 1; fi
if port_open "$port"; then echo "the function still serves on $port" >&2; exit 1; fi
if port_open "$demo_port"; then echo "the demo page is still served on $demo_port" >&2; exit 1; fi
if grep -qi 'waitpid\|panicked' "$log"; then cat "$log"; echo "make run did not stop quietly" >&2; exit 1; fi
echo "make run: stopped cleanly"
