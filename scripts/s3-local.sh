#!/usr/bin/env bash
# A local S3: SeaweedFS (`weed mini`) on 127.0.0.1, with a fresh data folder of its own, PIDFILE.data.
#   scripts/s3-local.sh start PORT PIDFILE   start it in the background, wait until it answers
#   scripts/s3-local.sh stop PIDFILE         stop it, wait until it is gone, remove its data
#   scripts/s3-local.sh free-port            print a free TCP port on 127.0.0.1
# It checks SigV4 signatures against the local pair of lib.sh's local_credentials, whatever the shell
# exports: without credentials SeaweedFS would let anyone in, and tests would not see a request that
# the real S3 refuses. Its log is PIDFILE.log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

start() {
  local port=$1 pidfile=$2 ports master volume filer admin s3_grpc
  may_start SeaweedFS "$port" "$pidfile" AWS_ENDPOINT_URL_S3 || exit 1
  scripts/install.sh s3
  # Besides S3, weed mini runs a master, a volume server, a filer and an admin server, each on an HTTP
  # port and for gRPC on that port + 10000 (its maintenance worker dials admin + 10000 whatever
  # -admin.port.grpc says): four such pairs, and S3's own gRPC port, set apart so PORT may be any port.
  for _ in 1 2 3; do
    mapfile -t ports < <(free_port 5 10000)
    [[ " ${ports[*]} " != *" $port "* && " ${ports[*]} " != *" $((port - 10000)) "* ]] && break
  done
  master=${ports[0]} volume=${ports[1]} filer=${ports[2]} admin=${ports[3]} s3_grpc=${ports[4]}
  # For `stop`: every port it listens on, to check they are closed and to find its sockets.
  echo "$port $s3_grpc $master $((master + 10000)) $volume $((volume + 10000))" \
    "$filer $((filer + 10000)) $admin $((admin + 10000))" >"$pidfile.ports"
  rm -rf "$pidfile.data" && mkdir -p "$pidfile.data"
  # -logtostderr: glog would also write log files into /tmp. -master.telemetry=false: no reports home.
  # -s3.allowedOrigins= (none): like S3, a bucket without a CORS rule answers no origin (SeaweedFS
  # would allow any); a bucket with one (devkit setup puts the template's) answers its origins.
  local_credentials
  "$VENV_DIR/venv-s3/bin/weed" -logtostderr mini -dir="$pidfile.data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3.port="$port" -s3.port.grpc="$s3_grpc" -master.port="$master" -volume.port="$volume" \
    -filer.port="$filer" -admin.port="$admin" -admin.ui=false -webdav=false -s3.port.iceberg=0 \
    -s3.port.lance=0 -master.telemetry=false -s3.allowedOrigins= </dev/null >"$pidfile.log" 2>&1 &
  echo $! >"$pidfile"
  wait_for_port "$port" "$!" 30 SeaweedFS "$pidfile.log" || { stop "$pidfile"; exit 1; }
}

stop() {
  local pidfile=$1 ports=() p
  # It takes 2 to 5 s to stop, the volume server last.
  stop_pid "$pidfile" 15
  [ -f "$pidfile.ports" ] && read -r -a ports <"$pidfile.ports"
  for p in "${ports[@]}"; do
    if port_open "$p"; then echo "port $p still answers after SeaweedFS stopped" >&2; fi
    # Its Unix sockets in /tmp, named by port: even a clean stop leaves some behind.
    rm -f "${TMPDIR:-/tmp}"/seaweedfs-*-"$p".sock
  done
  rm -rf "$pidfile.data" "$pidfile.log" "$pidfile.ports"
}

case "${1:-}" in
  start) start "${2:?usage: $0 start PORT PIDFILE}" "${3:?usage: $0 start PORT PIDFILE}" ;;
  stop) stop "${2:?usage: $0 stop PIDFILE}" ;;
  free-port) free_port 1 ;;
  *)
    echo "usage: $0 start PORT PIDFILE | stop PIDFILE | free-port" >&2
    exit 2
    ;;
esac
