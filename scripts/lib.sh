# shellcheck shell=bash
# Helpers shared by the scripts, written once: `source "$(dirname "$0")/lib.sh"`. Defines, runs nothing.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# scripts/install.sh puts each tool set in its own virtualenv, $VENV_DIR/venv-NAME, so versions never fight.
VENV_DIR=$ROOT/.cache
# The fixed ports of `make run`; tests take free ports instead, so that they never collide with it.
# shellcheck disable=SC2034 # used by the scripts that source this file
DYNAMODB_PORT_DEFAULT=8000 S3_PORT_DEFAULT=8333 FUNCTION_PORT_DEFAULT=9000 DEMO_PORT_DEFAULT=8080

use_venv() { # use_venv NAME...: put the tools of .cache/venv-NAME first on PATH, in the order given
  local i
  for ((i = $#; i >= 1; i--)); do PATH="$VENV_DIR/venv-${!i}/bin:$PATH"; done
  export PATH
}

free_port() { # free_port [COUNT [OFFSET]]: COUNT (1) distinct free ports on 127.0.0.1, one a line
  # (with OFFSET, port+OFFSET is free too; devkit/src/server.rs says how they are chosen).
  devkit free-ports "${1:-1}" "${2:-0}"
}

port_open() { # port_open PORT: true if something accepts connections on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pid_alive() { # pid_alive PID: true while PID runs (a zombie, exited but not yet reaped, does not count)
  local stat
  stat=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $stat != Z* ]]
}

wait_for_port() { # wait_for_port PORT PID TIMEOUT_S NAME LOGFILE: wait until PID's server accepts on PORT
  local port=$1 pid=$2 timeout=$3 name=$4 log=$5 tenths=0
  until port_open "$port"; do
    if ! pid_alive "$pid"; then
      echo "$name exited before it answered on port $port; its log, $log:" >&2
      cat "$log" >&2
      return 1
    fi
    if ((tenths++ >= timeout * 10)); then
      echo "$name did not answer on port $port within $timeout s; its log, $log:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
}

stop_pid() { # stop_pid PIDFILE [GRACE_S]: SIGTERM, up to GRACE_S (10) s to exit, then SIGKILL
  # Waits until the process is gone, so that its ports are free when this returns.
  local pidfile=$1 grace=${2:-10} pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -TERM "$pid" 2>/dev/null; then
    local tenths=0
    while pid_alive "$pid" && ((tenths++ < grace * 10)); do sleep 0.1; done
    if pid_alive "$pid"; then
      echo "process $pid ($pidfile) still runs $grace s after SIGTERM: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      while pid_alive "$pid" && ((tenths++ < grace * 10 + 50)); do sleep 0.1; done
    fi
  fi
  rm -f "$pidfile"
}

may_start() { # may_start NAME PORT PIDFILE ENDPOINT_VARIABLE: fails, saying why, if NAME cannot start there
  if port_open "$2"; then
    echo "port $2 is already taken: stop what listens there, or set $4 to use it" >&2
    return 1
  fi
  if [ -f "$3" ] && pid_alive "$(cat "$3")"; then
    echo "$1 of $3 already runs: stop it first" >&2
    return 1
  fi
}

devkit() { # devkit ARGS...: the project's Rust tooling (tables, bucket, demo data, events, walk-through)
  cargo run --quiet -p devkit -- "$@"
}

# One rule for credentials: the local servers, devkit, the tests' clients and the function all sign
# with the pair in the environment. Servers this project starts get a local pair, never a real key,
# whatever the shell exports; endpoints of your own keep the shell's credentials (scripts/run.sh).
local_credentials() {
  export AWS_REGION=${AWS_REGION:-us-east-1}
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  # SeaweedFS's static identity refuses URLs signed with a session token.
  unset AWS_SESSION_TOKEN
}
