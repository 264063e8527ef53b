#!/usr/bin/env python3
"""Cold starts measured the way Lambda runs a function: a stub Lambda Runtime API, the binary
exec'd against it (inside a CPU cgroup capped at Lambda's 128 MB share, or uncapped), wall time
and CPU time (all threads, /proc/PID/task/*/schedstat) of init and of the first invocation, and
of one warm invocation of the same kind. See bench/coldstart/README.md.

    driver.py measure --binary NAME=PATH ... --env K=V ... --seed "CMD" --stats TLS_STATS.json \
                      --capped N --uncapped N --out RESULT.json [--log-dir DIR]
    driver.py perf --binary PATH --runs K --perf-out FILE --env K=V ... --seed "CMD"

Each run: re-seed (so that the first invocation is a real completion), exec the binary, answer
its first GET /next with the cold event and its second with the warm one, then answer the third
without a request id so that the runtime exits. Every answer must be a 200 API Gateway response.
"""

import argparse
import json
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NEXT = "/2018-06-01/runtime/invocation/next"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:connect-attachments"


def now_ns():
    return time.perf_counter_ns()


def cpu_ns(pid):
    """CPU time of every live thread of PID (ns), and how many threads it has."""
    total, threads = 0, 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return None, 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
            threads += 1
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total, threads


def minor_faults(pid):
    """Minor page faults of the whole process so far (every thread, live or exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[7])  # field 10 of stat(5): minflt
    except (FileNotFoundError, IndexError, ValueError):
        return None


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return None


def read_tls_stats(path):
    if not path:
        return {}
    try:
        with open(path) as f:
            return {name: s["handshakes"] for name, s in json.load(f).items()}
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def diff(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after}


class Run:
    """One process's life under the stub: the events it is fed and what it did with them."""

    def __init__(self, events, tls_stats=None, on_next=None, on_response=None):
        self.events = events
        self.tls_stats = tls_stats
        # Hooks (perf mode): on_next(index) before the answer to a /next, on_response(index)
        # when a response arrives.
        self.on_next = on_next
        self.on_response = on_response
        self.pid = None
        self.pid_known = threading.Event()
        self.nexts = []  # (arrived_ns, answered_ns, cpu_ns, threads, tls)
        self.responses = []  # (arrived_ns, cpu_ns, threads, path, body, tls, rss)
        self.done = threading.Event()
        self.ended = False
        self.lock = threading.Lock()


class Stub(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self._run = None
        self._changed = threading.Condition()
        self.measure_cpu = True

    @property
    def run(self):
        return self._run

    @run.setter
    def run(self, run):
        with self._changed:
            self._run = run
            self._changed.notify_all()

    def live_run(self, timeout_s=60):
        """The run a /next belongs to: a process that comes before its run is set up waits."""
        with self._changed:
            self._changed.wait_for(lambda: self._run is not None and not self._run.ended, timeout_s)
            return self._run

    @property
    def address(self):
        return "%s:%d" % self.server_address


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the Runtime API

    def setup(self):
        super().setup()
        # No Nagle: a small answer must not wait for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def _reply(self, status, headers=(), body=b""):
        """Status line, headers and body in one write."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def do_GET(self):
        arrived = now_ns()
        run = self.server.live_run() if self.path == NEXT else None
        if run is None or run.ended:
            self._reply(404)
            return
        run.pid_known.wait(10)
        cpu, threads = (cpu_ns(run.pid) if self.server.measure_cpu and run.pid else (None, 0))
        faults = minor_faults(run.pid) if self.server.measure_cpu and run.pid else None
        tls = read_tls_stats(run.tls_stats)
        with run.lock:
            index = len(run.nexts)
            run.nexts.append([arrived, None, cpu, threads, tls, faults])
        if run.on_next:
            run.on_next(index)
        if index < len(run.events):
            deadline = int(time.time() * 1000) + 30_000
            self._reply(
                200,
                [
                    ("content-type", "application/json"),
                    ("lambda-runtime-aws-request-id", f"invocation-{index}"),
                    ("lambda-runtime-deadline-ms", str(deadline)),
                    ("lambda-runtime-invoked-function-arn", FUNCTION_ARN),
                    ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000"),
                ],
                run.events[index],
            )
            run.nexts[index][1] = now_ns()
        else:
            # No request id: the runtime gives up and the process exits, as if Lambda froze it.
            with self.server._changed:
                run.ended = True
            self._reply(200, [("content-type", "application/json")], b"{}")
            run.done.set()

    def do_POST(self):
        arrived = now_ns()
        run = self.server.run
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if run is None:
            self._reply(404)
            return
        cpu, threads = (cpu_ns(run.pid) if self.server.measure_cpu and run.pid else (None, 0))
        faults = minor_faults(run.pid) if self.server.measure_cpu and run.pid else None
        tls = read_tls_stats(run.tls_stats)
        rss = peak_rss_kib(run.pid) if run.pid else None
        with run.lock:
            index = len(run.responses)
            run.responses.append([arrived, cpu, threads, self.path, body, tls, rss, faults])
        if run.on_response:
            run.on_response(index)
        self._reply(202, [("content-type", "application/json")], b'{"status":"OK"}')
        if not self.path.endswith("/response"):
            run.done.set()  # an /error or /init/error: the run failed


# --- cgroups ---------------------------------------------------------------------------------


class Cgroup:
    """A CPU cgroup capped at quota/period: cgroup v1's cpu controller, or v2's cpu.max."""

    def __init__(self, name, quota_us, period_us):
        self.quota_us, self.period_us = quota_us, period_us
        v1 = "/sys/fs/cgroup/cpu"
        v2 = self._v2_root()
        if os.path.exists(os.path.join(v1, "cpu.cfs_quota_us")):
            self.version, self.root = 1, v1
        elif v2:
            self.version, self.root = 2, v2
        else:
            raise SystemExit(
                "no CPU cgroup controller: neither /sys/fs/cgroup/cpu/cpu.cfs_quota_us (v1) nor a "
                "cgroup2 mount with the cpu controller is available"
            )
        self.path = os.path.join(self.root, name)
        os.makedirs(self.path, exist_ok=True)
        if self.version == 1:
            self._write("cpu.cfs_period_us", period_us)
            self._write("cpu.cfs_quota_us", quota_us)
        else:
            self._write("cpu.max", f"{quota_us} {period_us}")

    @staticmethod
    def _v2_root():
        for line in open("/proc/mounts"):
            fields = line.split()
            if fields[2] == "cgroup2":
                controllers = os.path.join(fields[1], "cgroup.controllers")
                if os.path.exists(controllers) and "cpu" in open(controllers).read().split():
                    subtree = os.path.join(fields[1], "cgroup.subtree_control")
                    try:
                        with open(subtree, "w") as f:
                            f.write("+cpu")
                    except OSError:
                        pass
                    return fields[1]
        return None

    def _write(self, file, value):
        with open(os.path.join(self.path, file), "w") as f:
            f.write(str(value))

    @property
    def setting(self):
        if self.version == 1:
            return f"cgroup v1 {self.path}: cpu.cfs_quota_us={self.quota_us} cpu.cfs_period_us={self.period_us}"
        return f"cgroup v2 {self.path}: cpu.max={self.quota_us} {self.period_us}"

    def spawn(self, argv, env, log_fd):
        """Starts argv inside the cgroup from its very first instruction; returns (pid, t0_ns).

        v1: the spawning thread alone joins the group (v1 moves single threads), posix_spawn
        (vfork + exec) starts the child there, the thread leaves. v2 cannot hold one thread of a
        process: the child joins before exec, from a pre-exec hook (that hook's CPU is counted)."""
        if self.version == 1:
            result = {}

            def launch():
                tid = threading.get_native_id()
                with open(os.path.join(self.path, "tasks"), "w") as f:
                    f.write(str(tid))
                try:
                    result["value"] = spawn(argv, env, log_fd)
                finally:
                    with open(os.path.join(self.root, "tasks"), "w") as f:
                        f.write(str(tid))

            thread = threading.Thread(target=launch)
            thread.start()
            thread.join()
            pid, t0 = result["value"]
        else:
            procs = os.path.join(self.path, "cgroup.procs")

            def join():
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))

            t0 = now_ns()
            pid = subprocess.Popen(
                argv, env=env, stdout=log_fd, stderr=log_fd, stdin=subprocess.DEVNULL, preexec_fn=join
            ).pid
        membership = open(f"/proc/{pid}/cgroup").read()
        name = os.path.basename(self.path)
        if f"/{name}\n" not in membership and not membership.rstrip().endswith("/" + name):
            raise SystemExit(f"pid {pid} is not in the cgroup {self.path}:\n{membership}")
        return pid, t0

    def remove(self):
        if not os.path.isdir(self.path):
            return
        procs = os.path.join(self.path, "cgroup.procs")
        for _ in range(50):
            try:
                left = open(procs).read().split()
            except FileNotFoundError:
                return
            for pid in left:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)
        print(f"warning: could not remove {self.path}", file=sys.stderr)


def spawn(argv, env, log_fd):
    """posix_spawn (vfork + exec: nothing runs in the child before exec); returns (pid, t0_ns)."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, log_fd, 1),
        (os.POSIX_SPAWN_DUP2, log_fd, 2),
    ]
    t0 = now_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    return pid, t0


def wait_exit(pid, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.005)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    return None


# --- the runs --------------------------------------------------------------------------------


def make_events(cold_path, warm_attachment, warm_token):
    cold = json.load(open(cold_path))
    warm = json.loads(json.dumps(cold))
    body = json.loads(warm["body"])
    body["AttachmentIds"] = [warm_attachment]
    body["ClientToken"] = warm_token
    warm["body"] = json.dumps(body, separators=(",", ":"))
    if "requestContext" in warm and "requestId" in warm["requestContext"]:
        warm["requestContext"]["requestId"] += "-warm"
    return [json.dumps(cold).encode(), json.dumps(warm).encode()]


def response_status(body):
    try:
        return json.loads(body).get("statusCode")
    except (ValueError, AttributeError):
        return None


def ms(ns):
    return None if ns is None else ns / 1e6


def one_run(stub, binary, env, events, seed, tls_stats, cgroup, log_path, timeout_s):
    if seed:
        subprocess.run(seed, shell=True, check=True, stdout=subprocess.DEVNULL)
    run = Run(events, tls_stats)
    stub.run = run
    tls_before = read_tls_stats(tls_stats)
    with open(log_path, "wb") as log:
        fd = log.fileno()
        pid, t0 = cgroup.spawn([binary], env, fd) if cgroup else spawn([binary], env, fd)
        run.pid = pid
        run.pid_known.set()
        finished = run.done.wait(timeout_s)
        status = wait_exit(pid, 5 if finished else 0)
    stub.run = None
    problems = []
    if not finished:
        problems.append(f"no answer within {timeout_s} s")
    if len(run.responses) < len(events) or len(run.nexts) < len(events):
        problems.append(
            f"{len(run.nexts)} /next, {len(run.responses)} responses: "
            + "; ".join(f"{r[3]}: {r[4][:300]!r}" for r in run.responses)
        )
    else:
        for i, r in enumerate(run.responses[: len(events)]):
            code = response_status(r[4])
            if not r[3].endswith("/response") or code != 200:
                problems.append(f"invocation {i}: {r[3]} statusCode={code}: {r[4][:300]!r}")
    if problems:
        log_text = open(log_path, "rb").read()[-3000:].decode(errors="replace")
        raise RuntimeError(f"{binary}: " + "; ".join(problems) + f"\n--- its output ({log_path}):\n{log_text}")
    (n0_at, n0_sent, n0_cpu, n0_threads, n0_tls, n0_faults) = run.nexts[0]
    (n1_at, n1_sent, n1_cpu, _, n1_tls, _) = run.nexts[1]
    (r0_at, r0_cpu, r0_threads, _, _, r0_tls, _, r0_faults) = run.responses[0]
    (r1_at, r1_cpu, _, _, _, r1_tls, r1_rss, _) = run.responses[1]
    return {
        "init_wall_ms": ms(n0_at - t0),
        "first_wall_ms": ms(r0_at - n0_sent),
        "cold_wall_ms": ms(r0_at - t0),
        "warm_wall_ms": ms(r1_at - n1_sent),
        "init_cpu_ms": ms(n0_cpu),
        "first_cpu_ms": ms(r0_cpu - n0_cpu),
        "cold_cpu_ms": ms(r0_cpu),
        "warm_cpu_ms": ms(r1_cpu - n1_cpu),
        "minor_faults_init": n0_faults,
        "minor_faults_first": None if r0_faults is None or n0_faults is None else r0_faults - n0_faults,
        "threads_at_first_next": n0_threads,
        "threads_at_first_response": r0_threads,
        "peak_rss_kib": r1_rss,
        "tls_handshakes_init": diff(n0_tls, tls_before),
        "tls_handshakes_first": diff(r0_tls, n0_tls),
        "tls_handshakes_warm": diff(r1_tls, n1_tls),
        "exit_status": status,
    }


METRICS = [
    "init_wall_ms", "first_wall_ms", "cold_wall_ms", "warm_wall_ms",
    "init_cpu_ms", "first_cpu_ms", "cold_cpu_ms", "warm_cpu_ms",
    "threads_at_first_next", "peak_rss_kib", "minor_faults_init", "minor_faults_first",
]


def summarize(runs):
    out = {}
    for metric in METRICS:
        values = [r[metric] for r in runs if r.get(metric) is not None]
        if values:
            out[metric] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
            }
    for phase in ("init", "first", "warm"):
        key = f"tls_handshakes_{phase}"
        names = sorted({n for r in runs for n in r[key]})
        out[key] = {n: statistics.median(r[key].get(n, 0) for r in runs) for n in names}
    return out


def env_from(pairs):
    env = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        env[key] = value
    return env


def lambda_env(stub, extra):
    env = {
        "AWS_LAMBDA_RUNTIME_API": stub.address,
        "AWS_LAMBDA_FUNCTION_NAME": "connect-attachments",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]coldstart",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/connect-attachments",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
    }
    env.update(extra)
    return env


def cmd_measure(args):
    stub = Stub()
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    env = lambda_env(stub, env_from(args.env))
    events = make_events(args.cold_event, args.warm_attachment, args.warm_client_token)
    binaries = [b.split("=", 1) for b in args.binary]
    os.makedirs(args.log_dir, exist_ok=True)
    cgroup = None
    result = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
        },
        "settings": {
            "quota_us": args.quota_us,
            "period_us": args.period_us,
            "runs": {"capped": args.capped, "uncapped": args.uncapped},
            "discarded_first_runs": 1,
            "cold_event": args.cold_event,
            "warm_event": f"{args.cold_event} with AttachmentIds=[{args.warm_attachment}], ClientToken={args.warm_client_token}",
            "cpu_source": "sum of the first field of /proc/PID/task/*/schedstat (ns on CPU, every live thread)",
            "init": "exec (posix_spawn) -> first GET /next arrives at the stub",
            "first": "first event handed out -> its POST /response arrives",
            "warm": "second event (same operation, another attachment) handed out -> its /response",
            "env": {k: v for k, v in env.items() if "SECRET" not in k},
        },
        "binaries": {
            name: {"path": path, "size_bytes": os.path.getsize(path)} for name, path in binaries
        },
        "results": {},
    }
    try:
        if args.capped:
            cgroup = Cgroup(args.cgroup_name, args.quota_us, args.period_us)
            result["settings"]["cgroup"] = cgroup.setting
        for mode, count, group in (("uncapped", args.uncapped, None), ("capped", args.capped, cgroup)):
            if not count:
                continue
            runs = {name: [] for name, _ in binaries}
            for i in range(count + 1):  # the first run of each binary warms the page cache
                for name, path in binaries:
                    log_path = os.path.join(args.log_dir, f"{name}-{mode}-{i}.log")
                    r = one_run(stub, path, env, events, args.seed, args.stats, group, log_path, args.timeout)
                    if i > 0:
                        runs[name].append(r)
                    print(
                        f"  {mode:8} {name:10} run {i:2}: init {r['init_wall_ms']:7.1f} ms wall "
                        f"{r['init_cpu_ms']:6.2f} ms CPU | first {r['first_wall_ms']:7.1f} ms wall "
                        f"{r['first_cpu_ms']:6.2f} ms CPU | warm {r['warm_wall_ms']:6.1f} ms wall"
                        + ("  (discarded)" if i == 0 else ""),
                        flush=True,
                    )
            for name, _ in binaries:
                result["results"].setdefault(name, {})[mode] = {
                    "median": summarize(runs[name]),
                    "runs": runs[name],
                }
    finally:
        if cgroup:
            cgroup.remove()
        stub.shutdown()
    result["ratios"] = ratios(result["results"])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print_table(result)
    print(f"wrote {args.out}")


def med(results, name, mode, metric):
    try:
        return results[name][mode]["median"][metric]["median"]
    except KeyError:
        return None


def ratios(results):
    """CPU of init + first invocation of each build over the baseline's; first over warm wall."""
    out = {}
    if "baseline" in results:
        base_all = statistics.median(
            r["cold_cpu_ms"] for mode in results["baseline"].values() for r in mode["runs"]
        )
        for name in results:
            if name == "baseline":
                continue
            for mode in ("capped", "uncapped"):
                f, b = med(results, name, mode, "cold_cpu_ms"), med(results, "baseline", mode, "cold_cpu_ms")
                if f and b:
                    out[f"cpu_init_plus_first_{name}_over_baseline_{mode}"] = f / b
            mine = statistics.median(r["cold_cpu_ms"] for mode in results[name].values() for r in mode["runs"])
            out[f"cpu_init_plus_first_{name}_over_baseline_all_runs"] = mine / base_all
    for name in results:
        for mode in ("capped", "uncapped"):
            first, warm = med(results, name, mode, "first_wall_ms"), med(results, name, mode, "warm_wall_ms")
            if first and warm:
                out[f"first_over_warm_wall_{name}_{mode}"] = first / warm
    return out


def print_table(result):
    results = result["results"]
    header = (
        f"{'':20} {'init wall':>10} {'init CPU':>9} {'1st wall':>9} {'1st CPU':>8} "
        f"{'init+1st':>9} {'init+1st':>9} {'warm wall':>10} {'warm CPU':>9} {'1st/warm':>9} {'RSS':>7} {'threads':>7} {'faults':>7}"
    )
    units = (
        f"{'(medians, ms)':20} {'':>10} {'':>9} {'':>9} {'':>8} {'wall':>9} {'CPU':>9} "
        f"{'':>10} {'':>9} {'wall':>9} {'MiB':>7} {'at next':>7} {'init+1':>7}"
    )
    print()
    print(header)
    print(units)
    for name in results:
        for mode in ("capped", "uncapped"):
            if mode not in results[name]:
                continue
            g = lambda m: med(results, name, mode, m)  # noqa: E731
            label = f"{name} {'7.2%' if mode == 'capped' else 'uncapped'}"
            rss = g("peak_rss_kib")
            print(
                f"{label:20} {g('init_wall_ms'):10.1f} {g('init_cpu_ms'):9.2f} {g('first_wall_ms'):9.1f} "
                f"{g('first_cpu_ms'):8.2f} {g('cold_wall_ms'):9.1f} {g('cold_cpu_ms'):9.2f} "
                f"{g('warm_wall_ms'):10.2f} {g('warm_cpu_ms'):9.2f} {g('first_wall_ms') / g('warm_wall_ms'):9.1f} "
                f"{(rss or 0) / 1024:7.1f} {g('threads_at_first_next'):7.0f} "
                f"{(g('minor_faults_init') or 0) + (g('minor_faults_first') or 0):7.0f}"
            )
    print()
    for key, value in result["ratios"].items():
        if key.startswith("cpu_"):
            print(f"{key}: {value:.2f}")
    for name in results:
        for mode in ("capped", "uncapped"):
            if mode in results[name]:
                m = results[name][mode]["median"]
                print(
                    f"TLS handshakes ({name}, {mode}, median per run): init {m['tls_handshakes_init']}, "
                    f"first {m['tls_handshakes_first']}, warm {m['tls_handshakes_warm']}"
                )


class PerfControl:
    """perf record --control: enable and disable its events, each command acknowledged."""

    def __init__(self, directory):
        self.ctl, self.ack = os.path.join(directory, "perf-ctl"), os.path.join(directory, "perf-ack")
        os.mkfifo(self.ctl)
        os.mkfifo(self.ack)
        self._ctl = self._ack = None
        self.lock = threading.Lock()

    @property
    def option(self):
        return f"fifo:{self.ctl},{self.ack}"

    def open(self):  # after perf has started: each open waits for perf's
        self._ctl = open(self.ctl, "w")
        self._ack = open(self.ack, "r")

    def send(self, command):
        with self.lock:
            self._ctl.write(command + "\n")
            self._ctl.flush()
            self._ack.readline()


def cmd_perf(args):
    """K cold starts of one binary (uncapped) under one `perf record`, fed by the stub. The events
    are on only during --phase: init (exec -> first /next), first (the first invocation), cold
    (both, the default) or warm (the second invocation)."""
    import tempfile

    stub = Stub()
    stub.measure_cpu = False
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    env = lambda_env(stub, env_from(args.env))
    events = make_events(args.cold_event, args.warm_attachment, args.warm_client_token)
    if args.phase != "warm":
        events = events[:1]
    tmp = tempfile.mkdtemp(prefix="coldstart-perf.")
    control = PerfControl(tmp)
    go = os.path.join(tmp, "go")
    os.mkfifo(go)
    # The shell waits for a line on `go` before each exec, so that seeding and enabling the
    # events happen while no function runs; the shell's own samples are left out of the report.
    loop = 'for i in $(seq "$1"); do read line < "$3"; "$2" || true; done'
    # Only the sampling event is switched on and off: perf's tracking event (exec, mmap, comm)
    # stays on, or the samples of a process exec'd while off could not be resolved to symbols.
    argv = ["perf", "record", "-e", "cpu-clock", "-F", str(args.freq), "-g", "-o", args.perf_out, "--control", control.option,
            "-D", "-1", "--", "sh", "-c", loop, "sh", str(args.runs), args.binary, go]
    log = open(args.log, "wb") if args.log else subprocess.DEVNULL
    child = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
    control.open()
    on_at_exec = args.phase in ("init", "cold")

    def on_next(index):
        if index == 0 and args.phase == "init":
            control.send("disable cpu-clock")
        elif (index == 0 and args.phase == "first") or (index == 1 and args.phase == "warm"):
            control.send("enable cpu-clock")

    def on_response(index):
        if (index == 0 and args.phase in ("first", "cold")) or (index == 1 and args.phase == "warm"):
            control.send("disable cpu-clock")

    ok = 0
    try:
        for i in range(args.runs):
            if args.seed:
                subprocess.run(args.seed, shell=True, check=True, stdout=subprocess.DEVNULL)
            run = Run(events, on_next=on_next, on_response=on_response)
            run.pid_known.set()
            stub.run = run
            if on_at_exec:
                control.send("enable cpu-clock")
            with open(go, "w") as f:
                f.write("go\n")
            if not run.done.wait(args.timeout):
                raise RuntimeError(f"perf run {i}: no answer within {args.timeout} s")
            codes = [response_status(r[4]) for r in run.responses]
            if any(c != 200 for c in codes) or len(codes) < len(run.events):
                raise RuntimeError(f"perf run {i}: responses {[(r[3], r[4][:200]) for r in run.responses]}")
            ok += 1
        child.wait(60)
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        stub.shutdown()
        for name in ("perf-ctl", "perf-ack", "go"):
            try:
                os.unlink(os.path.join(tmp, name))
            except FileNotFoundError:
                pass
        os.rmdir(tmp)
    print(f"perf: {ok} cold starts of {args.binary}, phase {args.phase}, recorded in {args.perf_out}")


def cmd_check(args):
    """One cold start; exit status 0 if both invocations answered 200, 1 if not."""
    stub = Stub()
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    env = lambda_env(stub, env_from(args.env))
    events = make_events(args.cold_event, args.warm_attachment, args.warm_client_token)
    log_path = args.log or os.devnull
    try:
        r = one_run(stub, args.binary, env, events, args.seed, None, None, log_path, args.timeout)
        print(f"{args.binary}: answered 200 (init {r['init_wall_ms']:.1f} ms)")
        sys.exit(0)
    except RuntimeError as error:
        print(f"{args.binary}: did not answer 200: {str(error).splitlines()[0][:300]}")
        sys.exit(1)
    finally:
        stub.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--env", action="append", default=[], help="K=V for the function")
    common.add_argument("--seed", help="shell command run before each cold start")
    common.add_argument("--cold-event", required=True)
    common.add_argument("--warm-attachment", default="demo-attachment-rest")
    common.add_argument("--warm-client-token", default="demo-2")
    common.add_argument("--timeout", type=float, default=60)

    m = sub.add_parser("measure", parents=[common])
    m.add_argument("--binary", action="append", required=True, help="NAME=PATH")
    m.add_argument("--stats", help="the TLS terminator's stats file")
    m.add_argument("--capped", type=int, default=10)
    m.add_argument("--uncapped", type=int, default=20)
    m.add_argument("--quota-us", type=int, default=7200)
    m.add_argument("--period-us", type=int, default=100000)
    m.add_argument("--cgroup-name", default=f"coldstart-{os.getpid()}")
    m.add_argument("--out", required=True)
    m.add_argument("--log-dir", default="target/bench/coldstart-logs")

    p = sub.add_parser("perf", parents=[common])
    p.add_argument("--binary", required=True)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--freq", type=int, default=20000)
    p.add_argument("--perf-out", required=True)
    p.add_argument("--log")
    p.add_argument("--phase", choices=["cold", "init", "first", "warm"], default="cold",
                   help="what the profile covers: init + first invocation (cold), or one of them, or the warm invocation")

    c = sub.add_parser("check", parents=[common])
    c.add_argument("--binary", required=True)
    c.add_argument("--log")

    args = parser.parse_args()
    {"measure": cmd_measure, "perf": cmd_perf, "check": cmd_check}[args.command](args)


if __name__ == "__main__":
    main()
