#!/usr/bin/env python3
"""Writes the results table of the latest `make bench` run into BENCHMARKS.md, between its
result markers; the prose around them is kept as it is."""
import json
import os
import pathlib
import platform
import re
import subprocess

root = pathlib.Path(__file__).resolve().parent.parent
lam = json.loads((root / "target/bench/lambda.json").read_text())
def criterion_median_us(name):
    estimates = json.loads((root / f"target/criterion/cpu/{name}/new/estimates.json").read_text())
    return estimates["median"]["point_estimate"] / 1000


first_us = criterion_median_us("handler_first_completion")
replay_us = criterion_median_us("handler_replay")
sdk_us = criterion_median_us("handler_with_sdk_pipeline")
parse_us = criterion_median_us("parse_and_validate")
binary = root / "target/lambda/connect-attachments/bootstrap"
size = binary.stat().st_size

overhead = lam["handler_overhead"]
cold = lam["cold_start"]
rss = lam["peak_rss"]["peak_rss_mib"]
calls = cold["dynamodb_calls_cold_warm_replay_unknown_invalid"]


def verdict(ok):
    if ok is None:
        return "(information)"
    return "met" if ok else "**missed**"


rows = [
    ("DynamoDB calls, counted by the release binary: first success on a cold process / first success, connection seen / replay / unknown token / validation error",
     "2 / 1 / 1 / 1 / 0", " / ".join(map(str, calls)) + " (also asserted by `tests/counts.rs` in `make test`)",
     calls == [2, 1, 1, 1, 0]),
    ("Handler overhead: median handler invocation ÷ median bare `TransactWriteItems` (same items, same client, DynamoDB Local)",
     "≤ 1.10", f"{overhead['ratio']:.3f} ({overhead['handler_median_ms']:.3f} ms ÷ {overhead['bare_transaction_median_ms']:.3f} ms, {overhead['samples']} samples each)",
     overhead["ratio"] <= 1.10),
    ("CPU path without I/O, real handler: event in → route, parse, validate, hash, cached connection, build the transaction, map the answer, log line → response (criterion median)",
     "< 20 µs", f"first completion {first_us:.1f} µs, replay {replay_us:.1f} µs (of which parse + validate + hash: {parse_us:.2f} µs)",
     max(first_us, replay_us) < 20),
    ("The same plus the SDK's request pipeline (serialise, SigV4-sign, deserialise; HTTP answered in-process by aws-smithy-mocks)",
     "no target: the SDK's share", f"{sdk_us:.1f} µs", None),
    ("Cold start: exec of the release binary → first completed invocation (stub Runtime API, DynamoDB Local; median)",
     "≤ 15 ms", f"{cold['exec_to_first_response_median_ms']:.2f} ms (median of {cold['runs']}; best {cold['exec_to_first_response_min_ms']:.2f} ms)",
     cold["exec_to_first_response_median_ms"] <= 15),
    ("DynamoDB calls of the first invocation after start, then of a warm one",
     "first ≤ warm + 1 (the lookup)", f"{calls[0]} then {calls[1]}", calls[0] <= calls[1] + 1),
    ("Release `bootstrap` for arm64, stripped (`cargo lambda build --release --arm64`)",
     "≤ 8 MB", f"{size / 1_000_000:.2f} MB ({size} bytes)", size <= 8_000_000),
    ("Peak RSS after 1,000 invocations (release binary, VmHWM)",
     "≤ 20 MiB", f"{rss:.1f} MiB", rss <= 20),
]

cpu_model = ""
try:
    cpu_model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except (OSError, StopIteration):
    pass
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()

table = [
    f"Measured by `make bench` on {lam['cores']} cores ({cpu_model or platform.machine()}), {rustc}.",
    "",
    "| target | aim | measured | |",
    "|---|---|---|---|",
]
table += [f"| {t} | {aim} | {m} | {verdict(ok)} |" for t, aim, m, ok in rows]
block = "<!-- results:start -->\n" + "\n".join(table) + "\n<!-- results:end -->"

path = root / "BENCHMARKS.md"
text = path.read_text() if path.exists() else "# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n"
text = re.sub(r"<!-- results:start -->.*<!-- results:end -->", lambda _: block, text, flags=re.S)
path.write_text(text)
print("\n".join(table))
