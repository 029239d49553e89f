#!/usr/bin/env python3
"""bench.py — measure the real daemon on loopback and rewrite BENCHMARKS.md.

Each figure is the median of several runs, with min and max. Only what is
measured here is written; the machine (cores, CPU model) and commit are recorded.
"""
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from zx import Daemon, http  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def startup_ms():
    d = Daemon()
    try:
        d.write_config()
        t0 = time.perf_counter()
        d.start(wait=False)
        d.wait_healthy()
        return (time.perf_counter() - t0) * 1000, d
    except Exception:
        d.cleanup()
        raise


def wrk(url, seconds=5, conns=32, script=None):
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = p50 = p99 = None
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            rps = float(parts[1])
        elif parts[:1] == ["50%"]:
            p50 = parts[1]
        elif parts[:1] == ["99%"]:
            p99 = parts[1]
    return rps, p50, p99, " ".join(cmd + [url])


def hook_cost():
    """p50 and p99 (us) of on_signal_received through reg_call_signal, per isolation,
    from test_registry's printing test (2000 calls each)."""
    build = os.environ.get("ZEPIX_BUILD", "build")
    exe = os.path.join(ROOT, build, "tests", "test_registry")
    env = dict(os.environ, ZEPIX_BUILD=build, TR_FILTER="test_hook_round_trip_cost_is_printed")
    out = subprocess.run([exe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120).stdout
    got = {}
    for m in re.finditer(r"isolation (\w+)\s*: p50 ([\d.]+) us, p99 ([\d.]+) us", out):
        got[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return got


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "uncommitted"
    return "%d cores, %s, %s" % (os.cpu_count(), model, platform.platform()), commit


def main():
    rows = []
    starts, idles = [], []
    for _ in range(RUNS):
        ms, d = startup_ms()
        time.sleep(0.3)
        idles.append(rss_kb(d.proc.pid) / 1024)
        starts.append(ms)
        d.cleanup()
    rows.append(("start-up to first /healthz 200", "ms", stats(starts), "make bench (bench.py: startup_ms)"))
    rows.append(("resident memory, idle", "MB", stats(idles), "make bench (VmRSS 0.3 s after start)"))

    costs = [hook_cost() for _ in range(RUNS)]
    for iso in ("none", "process"):
        for i, q in ((0, "p50"), (1, "p99")):
            xs = [c[iso][i] for c in costs if iso in c]
            if xs:
                rows.append(("hook round trip (on_signal_received), isolation %s, %s" % (iso, q), "us", stats(xs),
                             "test_registry test_hook_round_trip_cost_is_printed"))

    if shutil.which("wrk"):
        d = Daemon().start()
        try:
            rps_runs = []
            cmd = ""
            for _ in range(3):
                rps, p50, p99, cmd = wrk(d.base + "/healthz", seconds=3)
                rps_runs.append(rps)
            rows.append(("GET /healthz throughput, 32 connections", "req/s", stats(rps_runs), cmd))
            rows.append(("resident memory after load", "MB", stats([rss_kb(d.proc.pid) / 1024]), "VmRSS after the wrk runs"))
        finally:
            d.cleanup()
    else:
        print("bench: wrk not installed (apt-get install wrk); skipping throughput")

    mach, commit = machine()
    lines = ["# Benchmarks", "",
             "Written by `make bench` (scripts/bench/bench.py); every figure measured on the machine below.",
             "", "- machine: " + mach, "- commit: " + commit,
             "- date: " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "",
             "| what | median | min | max | unit | command |", "|---|---|---|---|---|---|"]
    for name, unit, (med, lo, hi), cmd in rows:
        lines.append("| %s | %.2f | %.2f | %.2f | %s | `%s` |" % (name, med, lo, hi, unit, cmd))
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
