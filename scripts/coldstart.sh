#!/usr/bin/env bash
# Cold starts at Lambda's 128 MB CPU share (a cgroup capped at 7.2% of one CPU) and uncapped, TLS
# included, against a straightforward Rust Lambda built in the same run (bench/coldstart/README.md).
# Writes target/bench/coldstart.json (and, with perf, target/bench/perf-coldstart*.{data,txt}).
#   scripts/coldstart.sh
# Settings (environment): COLDSTART_CAPPED=10 COLDSTART_UNCAPPED=20 runs per binary and mode;
# COLDSTART_FUNCTION=path to measure another build of the function (then it is not built here);
# COLDSTART_PERF=1 profile the cold starts with perf (0: skip); COLDSTART_PERF_RUNS=20;
# COLDSTART_PERF_SYMBOLS=1 profile a copy built with symbols in target/perf (0: the stripped
# release binary); COLDSTART_SYSTEM_ROOTS=1 trust the system's CA bundle plus the test CA (0:
# the test CA alone); COLDSTART_HOST=localhost (the name the function connects to);
# COLDSTART_EXTRA="name=path ..." more builds to measure side by side (variants being tried);
# COLDSTART_TLS=0 plain HTTP to the services (what TLS costs, by difference).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR
source scripts/lib.sh

BENCH=bench/coldstart
BASELINE_BIN=$BENCH/baseline/target/release/coldstart-baseline
HELLO_BIN=$BENCH/baseline/target/release/coldstart-hello
PERF_BIN=target/perf/release/connect-attachments
OUT_DIR=target/bench

if [ "${1:-}" != "--with-services" ]; then
  if [ -z "${COLDSTART_FUNCTION:-}" ]; then
    echo "==> cold start: release build of the function"
    cargo build --release --bin connect-attachments
  fi
  echo "==> cold start: release build of the baseline (bench/coldstart/baseline, default profile)"
  cargo build --release --manifest-path "$BENCH/baseline/Cargo.toml"
  if [ "${COLDSTART_PERF:-1}" = 1 ] && [ "${COLDSTART_PERF_SYMBOLS:-1}" = 1 ] && [ -z "${COLDSTART_FUNCTION:-}" ]; then
    echo "==> cold start: the function again, symbols kept, for perf ($PERF_BIN)"
    CARGO_PROFILE_RELEASE_STRIP=none CARGO_TARGET_DIR=target/perf \
      cargo build --release --bin connect-attachments
  fi
  exec scripts/with-services.sh "$0" --with-services
fi

# --- inside scripts/with-services.sh: DynamoDB Local and S3 up, plain HTTP, endpoints exported ---
FUNCTION_BIN=${COLDSTART_FUNCTION:-target/release/connect-attachments}
HOST=${COLDSTART_HOST:-localhost}
mkdir -p "$OUT_DIR"
work=$(mktemp -d /tmp/coldstart.XXXXXX)
cgroup_name=coldstart-$$
cleanup() {
  stop_pid "$work/proxy.pid" 5
  for dir in /sys/fs/cgroup/cpu/"$cgroup_name" /sys/fs/cgroup/unified/"$cgroup_name" /sys/fs/cgroup/"$cgroup_name"; do
    [ -d "$dir" ] || continue
    while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$dir/cgroup.procs"
    for _ in $(seq 50); do rmdir "$dir" 2>/dev/null && break; sleep 0.1; done
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> cold start: a test CA (root -> intermediate -> leaf for $HOST and 127.0.0.1), RSA 2048 as AWS's"
(
  cd "$work"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=coldstart test root CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj "/CN=coldstart test intermediate CA" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >int.ext
  openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out int.pem -days 2 -extfile int.ext 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=$HOST" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:$HOST,DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >leaf.ext
  openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -out leaf.pem -days 2 -extfile leaf.ext 2>/dev/null
  cat leaf.pem int.pem >chain.pem
  openssl verify -CAfile ca.pem -untrusted int.pem leaf.pem >/dev/null
)
# The function trusts what Lambda's would (the system bundle, ~140 roots, as rustls-native-certs
# loads from SSL_CERT_FILE) plus the test CA.
system_bundle=
if [ "${COLDSTART_SYSTEM_ROOTS:-1}" = 1 ]; then
  for candidate in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
    [ -f "$candidate" ] && { system_bundle=$candidate; break; }
  done
fi
cat ${system_bundle:+"$system_bundle"} "$work/ca.pem" >"$work/bundle.pem"
roots=$(grep -c "BEGIN CERTIFICATE" "$work/bundle.pem")

echo "==> cold start: TLS terminator in front of DynamoDB Local and S3"
read -r dynamodb_tls s3_tls < <(free_port 2 | paste -sd' ')
python3 "$BENCH/tls_proxy.py" --cert "$work/chain.pem" --key "$work/leaf.key" \
  --stats "$work/tls-stats.json" --ready "$work/proxy.ready" \
  "dynamodb=$dynamodb_tls:${AWS_ENDPOINT_URL_DYNAMODB##*:}" "s3=$s3_tls:${AWS_ENDPOINT_URL_S3##*:}" \
  >"$work/proxy.log" 2>&1 &
echo $! >"$work/proxy.pid"
wait_for_port "$s3_tls" "$(cat "$work/proxy.pid")" 10 "the TLS terminator" "$work/proxy.log"
wait_for_port "$dynamodb_tls" "$(cat "$work/proxy.pid")" 10 "the TLS terminator" "$work/proxy.log"
# A handshake the way the function makes it: it must verify against the bundle.
curl -sS --cacert "$work/bundle.pem" -o /dev/null "https://$HOST:$dynamodb_tls/" ||
  { echo "the TLS terminator does not verify against the test CA" >&2; exit 1; }

# The demo data, re-seeded before each cold start, with a private copy of the dev kit (with-services.sh
# just built it): another build replacing target/debug/devkit mid-run does not disturb us.
cp target/debug/devkit "$work/devkit"
seed="$work/devkit seed"

function_env=(
  --env "AWS_REGION=$AWS_REGION" --env "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
  --env "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
  --env "AWS_ENDPOINT_URL_DYNAMODB=https://$HOST:$dynamodb_tls"
  --env "AWS_ENDPOINT_URL_S3=https://$HOST:$s3_tls"
  --env "ATTACHMENTS_BUCKET=${ATTACHMENTS_BUCKET:-attachments}"
  --env "SSL_CERT_FILE=$work/bundle.pem"
)
if [ "${COLDSTART_TLS:-1}" = 0 ]; then
  echo "    COLDSTART_TLS=0: plain HTTP to DynamoDB Local and S3 (not what AWS costs)"
  function_env=("${function_env[@]/#AWS_ENDPOINT_URL_DYNAMODB=*/AWS_ENDPOINT_URL_DYNAMODB=http://$HOST:${AWS_ENDPOINT_URL_DYNAMODB##*:}}")
  function_env=("${function_env[@]/#AWS_ENDPOINT_URL_S3=*/AWS_ENDPOINT_URL_S3=http://$HOST:${AWS_ENDPOINT_URL_S3##*:}}")
fi

# The TLS path is real: the function answers through the terminator, and not without the test CA.
if [ "${COLDSTART_TLS:-1}" = 1 ]; then
  mkdir -p "$OUT_DIR/coldstart-logs"
  if [ -n "$system_bundle" ]; then cp "$system_bundle" "$work/untrusted.pem"; else : >"$work/untrusted.pem"; fi
  untrusted=("${function_env[@]/#SSL_CERT_FILE=*/SSL_CERT_FILE=$work/untrusted.pem}")
  python3 "$BENCH/driver.py" check --binary "$FUNCTION_BIN" "${function_env[@]}" --seed "$seed" \
    --cold-event events/success.json --log "$work/check.log" ||
    { echo "the function does not answer 200 through the TLS terminator; its output:" >&2; cat "$work/check.log" >&2; exit 1; }
  if python3 "$BENCH/driver.py" check --binary "$FUNCTION_BIN" "${untrusted[@]}" --seed "$seed" \
    --cold-event events/success.json --timeout 30 --log "$OUT_DIR/coldstart-logs/untrusted-ca.log" >/dev/null; then
    echo "the function answered 200 without trusting the test CA: TLS is not what is measured" >&2
    exit 1
  fi
  echo "    checked: 200 through TLS with the test CA in SSL_CERT_FILE, and no 200 without it"
fi

echo "==> cold start: ${COLDSTART_CAPPED:-10} capped (7.2% of a CPU) and ${COLDSTART_UNCAPPED:-20} uncapped runs each;"
echo "    https://$HOST for DynamoDB and S3, $roots roots in SSL_CERT_FILE"
extra=()
for pair in ${COLDSTART_EXTRA:-}; do extra+=(--binary "$pair"); done
python3 "$BENCH/driver.py" measure \
  --binary "function=$FUNCTION_BIN" "${extra[@]}" --binary "baseline=$BASELINE_BIN" --binary "hello=$HELLO_BIN" \
  "${function_env[@]}" --seed "$seed" --stats "$work/tls-stats.json" \
  --cold-event events/success.json \
  --capped "${COLDSTART_CAPPED:-10}" --uncapped "${COLDSTART_UNCAPPED:-20}" \
  --cgroup-name "$cgroup_name" --out "$OUT_DIR/coldstart.json" --log-dir "$OUT_DIR/coldstart-logs"
python3 - "$OUT_DIR/coldstart.json" "$work/tls-stats.json" "$roots" <<'PY'
import json, sys
path, stats, roots = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
result = json.load(open(path))
result["settings"]["tls"] = {
    "terminator": "bench/coldstart/tls_proxy.py (Python ssl/OpenSSL), RSA-2048 leaf + intermediate",
    "roots_in_SSL_CERT_FILE": roots,
    "totals": stats,
}
json.dump(result, open(path, "w"), indent=2)
PY

if [ "${COLDSTART_PERF:-1}" = 1 ]; then
  perf_bin=$FUNCTION_BIN
  [ "${COLDSTART_PERF_SYMBOLS:-1}" = 1 ] && [ -z "${COLDSTART_FUNCTION:-}" ] && perf_bin=$PERF_BIN
  # function: init + first invocation ("cold"), and the phases COLDSTART_PERF_PHASES names
  # (init, first, warm); the baseline: cold.
  for target in "function:cold:$perf_bin" $(for phase in ${COLDSTART_PERF_PHASES:-}; do echo "function:$phase:$perf_bin"; done) \
    "baseline:cold:$BASELINE_BIN"; do
    IFS=: read -r name phase bin <<<"$target"
    suffix=$([ "$name" = function ] && echo "" || echo "-$name")$([ "$phase" = cold ] && echo "" || echo "-$phase")
    data=$OUT_DIR/perf-coldstart$suffix.data
    echo "==> cold start: perf record of ${COLDSTART_PERF_RUNS:-20} uncapped cold starts of $bin ($phase)"
    rm -f "$data" "$data.old"
    python3 "$BENCH/driver.py" perf --binary "$bin" --runs "${COLDSTART_PERF_RUNS:-20}" --phase "$phase" \
      "${function_env[@]}" --seed "$seed" --cold-event events/success.json \
      --perf-out "$data" --log "$work/perf-$name.log"
    # Only the cold-started process's threads, not the shell loop that exec'd it.
    case $phase in
      cold) what="init + first invocation" ;; init) what="init (exec -> first /next)" ;;
      first) what="the first invocation" ;; warm) what="the second (warm) invocation" ;;
    esac
    python3 "$BENCH/perf_top.py" "$data" "${COLDSTART_PERF_RUNS:-20}" 40 "$what" >"$OUT_DIR/perf-coldstart$suffix.txt"
    sed -n '1,30p;/^# by shared/,$p' "$OUT_DIR/perf-coldstart$suffix.txt"
  done
fi
