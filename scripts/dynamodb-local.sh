#!/usr/bin/env bash
# DynamoDB Local, in memory, on 127.0.0.1.
#   scripts/dynamodb-local.sh start PORT PIDFILE   start it in the background, wait until it answers
#   scripts/dynamodb-local.sh stop PIDFILE         stop it, and wait until it is gone
#   scripts/dynamodb-local.sh free-port            print a free TCP port on 127.0.0.1
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

case "${1:-}" in
  start)
    port=$2 pidfile=$3
    may_start "DynamoDB Local" "$port" "$pidfile" AWS_ENDPOINT_URL_DYNAMODB || exit 1
    scripts/install.sh dynamodb
    emulator=.cache/dynamodb-local/package/emulator
    # -sharedDb: every client sees the same tables, whatever credentials and region it signs with.
    java -Djava.library.path="$emulator/DynamoDBLocal_lib" -jar "$emulator/DynamoDBLocal.jar" \
      -inMemory -sharedDb -disableTelemetry -port "$port" </dev/null >"$pidfile.log" 2>&1 &
    echo $! >"$pidfile"
    wait_for_port "$port" "$!" 15 "DynamoDB Local" "$pidfile.log" || { stop_pid "$pidfile"; exit 1; }
    ;;
  stop)
    pidfile=$2
    stop_pid "$pidfile"
    rm -f "$pidfile.log"
    ;;
  free-port)
    free_port 1
    ;;
  *)
    echo "usage: $0 start PORT PIDFILE | stop PIDFILE | free-port" >&2
    exit 2
    ;;
esac
