#!/usr/bin/env python3
"""Summarizes a `perf record` of cold starts (driver.py perf): only the cold-started process's own
threads (not the shell loop that exec'd it), top symbols and shared objects by self time, and a
rough split by what the code is for. Times are CPU ms per cold start (perf's cpu-clock periods
divided by the number of runs).

    perf_top.py PERF.DATA RUNS [TOP [WHAT]]
"""

import collections
import re
import subprocess
import sys

# Threads of the cold-started binary: its main thread (comm = the binary's name, cut to 15
# characters by the kernel) and tokio's (workers and the blocking pool, by tokio version).
NOT_OURS = {"sh", "dash", "seq", "perf", "perf-exec"}

ROW = re.compile(r"^\s*([\d.]+)%\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$")

# First match wins: (category, DSO regex, symbol regex).
CATEGORIES = [
    ("aws-lc CPU jitter entropy (RNG seeding)", r".", r"jent_|^rol64$|xoshiro128starstar|^ptr_to_le(32|64)$|^uint32rotl$|jitter"),
    ("dynamic loader (ld.so: relocations, symbol lookup)", r"^ld-linux|^ld-", r"."),
    ("kernel: exec, mmap, page faults", r"kernel", r"page|fault|exec|mmap|elf|vma|pte|lru|folio|memcg|zap|unmap|do_wp|handle_mm|filemap|rmqueue|alloc_pages|clear_"),
    ("kernel: scheduler, syscalls, network, other", r"kernel", r"."),
    ("root certificates (PEM read, parse)", r".", r"rustls_native_certs|rustls_pki_types::(pem|base64)|RootCertStore|TrustAnchor|anchor_from|webpki::.*(anchor|der)|x509_parser|add_parsable"),
    ("TLS handshake + crypto (rustls, aws-lc)", r".", r"rustls|aws_lc|webpki|x25519|sha256|sha512|gcm|aes|bn_|ec_|EVP_|RSA|p256|p384|mlkem|kyber|fiat|CRYPTO_|OPENSSL_|hmac|hkdf"),
    ("memory (malloc, free, memcpy)", r"libc|connect|baseline|hello", r"malloc|free|memmove|memcpy|memset|realloc|calloc|_int_|cfree|tcache|arena"),
    ("tracing / logging / JSON", r".", r"tracing|serde_json|fmt::|core::fmt|Formatter|write_str|metrique"),
    ("tokio runtime", r".", r"tokio::|mio::|epoll"),
    ("hyper / http / smithy / SDK", r".", r"hyper|http::|h2::|aws_smithy|aws_sdk|aws_sigv4|aws_runtime|aws_config|aws_types|aws_credential"),
    ("libc other", r"libc", r"."),
    ("other (the binary)", r".", r"."),
]


def main():
    data, runs = sys.argv[1], int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    what = sys.argv[4] if len(sys.argv) > 4 else "init + first invocation"
    report = subprocess.run(
        ["perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none", "-n",
         "--show-total-period", "--sort", "comm,dso,sym", "--percent-limit", "0"],
        capture_output=True, text=True, check=True,
    ).stdout
    by_sym, by_dso, by_cat, comms = collections.Counter(), collections.Counter(), collections.Counter(), collections.Counter()
    total = everyone = 0
    for line in report.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        _, _samples, period, comm, dso, _kind, sym = m.groups()
        period = int(period)
        everyone += period
        if comm in NOT_OURS:
            continue
        total += period
        comms[comm] += period
        by_sym[(dso, sym)] += period
        by_dso[dso] += period
        for name, dso_re, sym_re in CATEGORIES:
            if re.search(dso_re, dso) and re.search(sym_re, sym):
                by_cat[name] += period
                break
    if not total:
        sys.exit(f"no samples of the cold-started process in {data}")
    per_run = lambda p: p / runs / 1e6  # noqa: E731 - cpu-clock periods are ns
    print(f"# {data}: {runs} cold starts, profiled: {what}; {per_run(total):.2f} ms CPU per run on average (inflated by perf's own sampling)")
    print("# threads: " + ", ".join(f"{c} {per_run(p):.2f} ms" for c, p in comms.most_common()))
    print(f"\n# top {top} symbols by self CPU time")
    print(f"{'share':>7} {'ms/run':>7}  {'shared object':24} symbol")
    for (dso, sym), p in by_sym.most_common(top):
        print(f"{100 * p / total:6.2f}% {per_run(p):7.3f}  {dso[:24]:24} {sym[:110]}")
    print("\n# by shared object")
    for dso, p in by_dso.most_common(10):
        print(f"{100 * p / total:6.2f}% {per_run(p):7.3f}  {dso}")
    print("\n# by what the code is for (symbol-name heuristics)")
    for name, p in by_cat.most_common():
        print(f"{100 * p / total:6.2f}% {per_run(p):7.3f}  {name}")

    # Kernel entry points, everything under each (call chains): page faults and system calls.
    children = subprocess.run(
        ["perf", "report", "-i", data, "--stdio", "--children", "-g", "none", "--sort", "comm,sym",
         "--percent-limit", "0"],
        capture_output=True, text=True, check=True,
    ).stdout
    entry = re.compile(r"^\s*([\d.]+)%\s+[\d.]+%\s+(\S+)\s+\[k\]\s+(asm_exc_page_fault|__x64_sys_\w+|__do_sys_\w+|ret_from_fork\w*)\s*$")
    kernel = collections.Counter()
    for line in children.splitlines():
        m = entry.match(line)
        if m and m.group(2) not in NOT_OURS:
            kernel[m.group(3)] += float(m.group(1)) / 100 * everyone
    print("\n# kernel entry points (self + callees, the process's threads)")
    for name, p in kernel.most_common(12):
        print(f"{100 * p / total:6.2f}% {per_run(p):7.3f}  {name}")


if __name__ == "__main__":
    main()
