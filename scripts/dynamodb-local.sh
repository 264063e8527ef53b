#!/usr/bin/env bash
# DynamoDB Local, in memory, on 127.0.0.1.
#   scripts/dynamodb-local.sh start PORT PIDFILE   start it in the background, wait until it answers
#   scripts/dynamodb-local.sh stop PIDFILE         stop it
#   scripts/dynamodb-local.sh free-port            print a free TCP port on 127.0.0.1
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  start)
    port=$2 pidfile=$3
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "port $port is already taken: stop what listens there, or set AWS_ENDPOINT_URL_DYNAMODB to use it" >&2
      exit 1
    fi
    scripts/install.sh dynamodb
    emulator=.cache/dynamodb-local/package/emulator
    # -sharedDb: every client sees the same tables, whatever credentials and region it signs with.
    java -Djava.library.path="$emulator/DynamoDBLocal_lib" -jar "$emulator/DynamoDBLocal.jar" \
      -inMemory -sharedDb -disableTelemetry -port "$port" >"$pidfile.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 150); do
      if curl -s -o /dev/null "http://127.0.0.1:$port"; then exit 0; fi
      kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$pidfile.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "DynamoDB Local did not answer on port $port within 15 s" >&2
    cat "$pidfile.log" >&2
    exit 1
    ;;
  stop)
    pidfile=$2
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile" "$pidfile.log"
    ;;
  free-port)
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    ;;
  *)
    echo "usage: $0 start PORT PIDFILE | stop PIDFILE | free-port" >&2
    exit 2
    ;;
esac
