#!/usr/bin/env python3
"""bench.py — measure the real daemon on loopback and rewrite BENCHMARKS.md.

Every daemon is build/zepix ($ZEPIX_BUILD/zepix) started by the integration
tests' Daemon helper in a fresh temporary directory (config and data dir), with
the paper broker, the pass-through test plugin ($ZEPIX_BUILD/testplugins/passthru)
enabled and log level "warn". Each figure is the median of several runs, with the
min and max of those runs. Only what is measured here is written, with the
machine (cores, CPU model, load average), the commit and the commands.

    python3 scripts/bench/bench.py                  # everything, rewrites BENCHMARKS.md
    python3 scripts/bench/bench.py --only openloop  # one part, prints only
    parts: startup throughput openloop telegram healthz attribution (where the
           time of a request at 500/s goes: fsyncs and checkpoints, 3 runs)

The whole run is bounded: every load phase has a fixed duration, every wait a
timeout (about 100 s in all with the defaults, plus the build).
"""
import argparse
import json
import math
import os
import platform
import re
import select
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import zx  # noqa: E402
from zx import BIN, BUILD, Daemon, deep_merge, plugin_dir  # noqa: E402

SECRET = "bench-secret"
PLUGIN = "passthru"
TOKEN = "123456:BENCHtoken_abcdefghijklmnopqrstuvwxyz0"
# Replies to one chat are paced at one a second (Telegram's limit, src/telegram.c
# CHAT_INTERVAL): the samples rotate over several admin chats, so that no sample
# waits behind that limit.
ADMINS = [111, 112, 113, 114, 115, 116]
LUA = os.path.join(HERE, "webhook.lua")
REL_LUA = os.path.relpath(LUA, ROOT)

# target key of a row -> (test on the row's median, the target as written in the table)
TARGETS = {
    "throughput": (lambda v: v >= 5000, ">= 5000"),
    "p99_load": (lambda v: v < 10, "< 10"),
    "p99_500": (lambda v: v < 1, "< 1"),
    "rss_idle": (lambda v: v < 16, "< 16"),
    "startup": (lambda v: v < 200, "< 200"),
    "reload": (lambda v: v < 20, "< 20"),
    "hook_p99": (lambda v: v < 50, "< 50"),
}


# ---------------------------------------------------------------- helpers

def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def rss_mb(pid, field="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def pct(xs, q):
    """The q-quantile (0..1) of xs, nearest rank."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, math.ceil(q * len(s)) - 1))]


def cpu_snapshot():
    """(seconds of CPU used on the machine, seconds used by this process and its
    reaped children: the daemons and wrk), for others_cpu()."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    t = os.times()
    return (sum(v) - v[3] - v[4]) / tick, t.user + t.system + t.children_user + t.children_system


def others_cpu(before, after, wall, extra=0.0):
    """CPU used by other work on the machine between two snapshots, in cores
    (0.25 = a quarter of one core); extra: CPU of still-running children of ours."""
    return max(0.0, (after[0] - before[0]) - (after[1] - before[1]) - extra) / max(wall, 1e-9)


def proc_cpu(pid):
    """CPU seconds of a still-running process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            p = f.read().rsplit(")", 1)[1].split()
        return (int(p[11]) + int(p[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def bench_daemon(extra=None, env=None):
    """A Daemon (not started) in its own temp dir with the pass-through plugin."""
    d = Daemon(env=env)
    pdir = plugin_dir(d.tmp, {PLUGIN: PLUGIN})
    over = {"log": {"level": "warn"},
            "webhook": {"secret": SECRET},
            "plugin_system": {"plugin_dir": pdir},
            "plugins": {PLUGIN: {"enabled": True}}}
    deep_merge(d.config, over)
    if extra:
        deep_merge(d.config, extra)
    return d


def healthz_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def scrape_histogram(d, name):
    """{bound: cumulative count} of a histogram in GET /metrics."""
    _, _, body = d.get("/metrics")
    out = {}
    for m in re.finditer(r'^%s_bucket\{le="([^"]+)"\} (\d+)$' % re.escape(name), body.decode(), re.M):
        out[float(m.group(1))] = int(m.group(2))
    return out


def histogram_quantile(q, buckets):
    """Prometheus histogram_quantile(): linear interpolation inside the bucket."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total == 0:
        return float("nan")
    rank = q * total
    prev_b, prev_c = 0.0, 0
    for b in bounds:
        c = buckets[b]
        if c >= rank:
            if math.isinf(b):
                return prev_b
            return prev_b + (b - prev_b) * ((rank - prev_c) / max(1, c - prev_c))
        prev_b, prev_c = b, c
    return prev_b


def signal_body(i, tag):
    return json.dumps({"secret": SECRET, "plugin": PLUGIN, "action": "buy", "symbol": "EURUSD",
                       "price": 1.1, "lot": 0.01, "id": "%s-%d" % (tag, i)}, separators=(",", ":"))


def alert_to_order_ms(d):
    """entry_ms of each trade minus received_ms of its signal (1 ms resolution)."""
    con = sqlite3.connect(os.path.join(d.tmp, "data", "zepix.db"))
    con.execute("ATTACH ? AS p", (os.path.join(d.tmp, "data", "zepix_%s.db" % PLUGIN),))
    rows = con.execute("SELECT t.entry_ms - s.received_ms FROM p.trades t JOIN signals s"
                       " ON s.id = t.signal_id").fetchall()
    done = con.execute("SELECT count(*) FROM signals WHERE state = 'done'").fetchone()[0]
    con.close()
    return [r[0] for r in rows], done


class RssSampler(threading.Thread):
    def __init__(self, pid, every=0.05):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.stop_ev = pid, every, 0.0, threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self.stop_ev.wait(self.every)

    def finish(self):
        self.stop_ev.set()
        self.join()
        return max(self.peak, rss_mb(self.pid))


# ---------------------------------------------------------------- wrk

def run_wrk(url, seconds, conns, script=None, args=()):
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if args:
        cmd += ["--"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    out = p.stdout
    r = {"requests": 0, "secs": float(seconds), "non2xx": 0, "errors": 0, "out": out}
    units = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    for line in out.splitlines():
        parts = line.split()
        m = re.match(r"\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", line)
        if m:
            r["requests"] = int(m.group(1))
            r["secs"] = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(3)]
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            r["non2xx"] = int(parts[-1])
        elif line.strip().startswith("Socket errors:"):
            r["errors"] = sum(int(x) for x in re.findall(r"\d+", line))
        elif parts[:1] in (["50%"], ["99%"]):
            m = re.match(r"([\d.]+)(us|ms|s)$", parts[1])
            r["p" + parts[0][:-1]] = float(m.group(1)) * units[m.group(2)]
    if not r["requests"]:
        raise RuntimeError("wrk gave no result (exit %d): %s %s" % (p.returncode, out, p.stderr))
    shown = {script: REL_LUA, url: url.replace(url.split("/")[2], "127.0.0.1:PORT")}
    if args:
        shown[args[-1]] = "runN"
    cmd_txt = " ".join(shown.get(c, c) for c in cmd)
    return r, cmd_txt


# ---------------------------------------------------------------- open-loop sender

def open_loop(port, path, rate, seconds, tag, conns=16):
    """Send rate requests/s for seconds on a schedule fixed in advance (open loop:
    a send never waits for an answer), over a pool of keep-alive connections.

    Latency of a request: from just before its bytes are written to the end of the
    answer. lag: how late each send was against its schedule (all connections busy,
    or the sender woke late). Returns a dict of lists and counts."""
    n = int(rate * seconds)
    ep = select.epoll()
    socks, free, state = {}, [], {}

    def connect():
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        socks[s.fileno()] = s
        ep.register(s.fileno(), select.EPOLLIN)
        free.append(s.fileno())

    for _ in range(conns):
        connect()
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    reqs = []
    for i in range(n):
        b = signal_body(i, tag)
        reqs.append((head % (path, len(b)) + b).encode())
    lat, lag, status = [], [], {}
    waited = 0
    start = time.perf_counter() + 0.05
    hard_end = start + seconds + 10
    i = inflight = 0
    while (i < n or inflight) and time.perf_counter() < hard_end:
        now = time.perf_counter()
        while i < n and start + i / rate <= now and free:
            fd = free.pop()
            t = time.perf_counter()
            socks[fd].sendall(reqs[i])
            state[fd] = [t, b""]
            lag.append(t - (start + i / rate))
            i += 1
            inflight += 1
        if i < n and start + i / rate <= now and not free:
            waited += 1
        timeout = max(0.0, start + i / rate - time.perf_counter()) if (i < n and free) else 0.05
        for fd, _ in ep.poll(timeout):
            s = socks[fd]
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            t = time.perf_counter()
            if fd not in state:         # the server closed an idle connection
                ep.unregister(fd)
                s.close()
                del socks[fd]
                if fd in free:
                    free.remove(fd)
                connect()
                continue
            st = state[fd]
            st[1] += data
            buf = st[1]
            h = buf.find(b"\r\n\r\n")
            if h < 0:
                if not data:
                    raise RuntimeError("connection closed mid-answer")
                continue
            m = re.search(rb"\r\ncontent-length: *(\d+)", buf[:h], re.I)
            if m and len(buf) < h + 4 + int(m.group(1)):
                continue
            code = int(buf[9:12])
            status[code] = status.get(code, 0) + 1
            lat.append(t - st[0])
            del state[fd]
            inflight -= 1
            free.append(fd)
    for s in socks.values():
        s.close()
    ep.close()
    return {"lat_ms": [x * 1000 for x in lat], "lag_ms": [x * 1000 for x in lag], "status": status,
            "sent": i, "waited": waited}


# ---------------------------------------------------------------- parts

def part_startup(runs, rows):
    starts, idles = [], []
    for _ in range(runs):
        d = bench_daemon()
        try:
            d.write_config()
            t0 = time.perf_counter()
            d.start(wait=False)
            end = t0 + 10
            while not healthz_ok(d.port):
                if d.proc.poll() is not None or time.perf_counter() > end:
                    raise RuntimeError("zepix did not start:\n" + d.log())
                time.sleep(0.001)
            starts.append((time.perf_counter() - t0) * 1000)
            time.sleep(1.0)
            idles.append(rss_mb(d.proc.pid))
        finally:
            d.cleanup()
    rows.append(("start-up: exec to first GET /healthz 200 (fresh data dir, 1 plugin)", "ms", starts,
                 "startup", "bench.py --only startup (polls /healthz every 1 ms)"))
    rows.append(("resident memory idle (VmRSS 1 s after start-up)", "MB", idles, "rss_idle",
                 "bench.py --only startup"))


def part_throughput(runs, rows, seconds=5, conns=32):
    rps, p50, p99, hp50, hp99, peak, a2o50, a2o99, a2omax, others = ([] for _ in range(10))
    cmd = ""
    for r_i in range(runs):
        d = bench_daemon().start()
        try:
            sampler = RssSampler(d.proc.pid)
            sampler.start()
            c0, t0, d0 = cpu_snapshot(), time.time(), proc_cpu(d.proc.pid)
            r, cmd = run_wrk(d.base + "/webhook", seconds, conns, LUA, (SECRET, PLUGIN, "run%d" % r_i))
            others.append(others_cpu(c0, cpu_snapshot(), time.time() - t0, proc_cpu(d.proc.pid) - d0))
            peak.append(sampler.finish())
            ok = r["requests"] - r["non2xx"]
            hist = scrape_histogram(d, "zepix_webhook_latency_seconds")
            code, _ = d.stop()
            diffs, done = alert_to_order_ms(d)
            if r["non2xx"] or r["errors"]:
                log("throughput run %d: %d non-2xx, %d socket errors" % (r_i, r["non2xx"], r["errors"]))
            if done < ok:
                raise RuntimeError("%d answers 200 but only %d signals done in zepix.db" % (ok, done))
            rps.append(ok / r["secs"])
            p50.append(r["p50"])
            p99.append(r["p99"])
            hp50.append(histogram_quantile(0.5, hist) * 1000)
            hp99.append(histogram_quantile(0.99, hist) * 1000)
            a2o50.append(pct(diffs, 0.5))
            a2o99.append(pct(diffs, 0.99))
            a2omax.append(max(diffs))
            log("throughput run %d: %d x 200 in %.2f s = %.0f/s, p99 %.2f ms, %d trades, exit %s; "
                "other work on the machine: %.2f cores" %
                (r_i, ok, r["secs"], ok / r["secs"], r["p99"], len(diffs), code, others[-1]))
        finally:
            d.cleanup()
    c = "%d connections" % conns
    rows.append(("durable webhook signals/s (200 answers = journaled, executed, recorded), %s" % c,
                 "signals/s", rps, "throughput", cmd))
    rows.append(("webhook latency p50 at %s (wrk, client side)" % c, "ms", p50, None, cmd))
    rows.append(("webhook latency p99 at %s (wrk, client side)" % c, "ms", p99, "p99_load", cmd))
    rows.append(("in-daemon request-to-answer p50 at %s (zepix_webhook_latency_seconds)" % c, "ms", hp50,
                 None, "GET /metrics after the wrk run; histogram_quantile, linear in bucket"))
    rows.append(("in-daemon request-to-answer p99 at %s (zepix_webhook_latency_seconds)" % c, "ms", hp99,
                 None, "GET /metrics after the wrk run; histogram_quantile, linear in bucket"))
    rows.append(("alert-to-order p50 at %s: trades.entry_ms - signals.received_ms" % c, "ms", a2o50, None,
                 "sqlite3 data/zepix.db + zepix_passthru.db after the run (1 ms resolution)"))
    rows.append(("alert-to-order p99 at %s: trades.entry_ms - signals.received_ms" % c, "ms", a2o99, None,
                 "same (1 ms resolution)"))
    rows.append(("alert-to-order max at %s: trades.entry_ms - signals.received_ms" % c, "ms", a2omax, None,
                 "same (1 ms resolution)"))
    rows.append(("resident memory peak under load (VmRSS sampled every 50 ms, %d s at %s)" % (seconds, c),
                 "MB", peak, None, cmd))
    rows.append(("CPU used by other work on the machine during the wrk runs", "cores", others, None,
                 "/proc/stat minus bench.py, its daemon and wrk: a check on the measurement"))


def part_openloop(runs, rows, rate=500, seconds=4):
    p50, p99, pmax, hp50, hp99, lag99, others = ([] for _ in range(7))
    runs = max(runs, 7)     # a tail figure: more runs, so that a disturbed one or three do not move the median
    for r_i in range(runs):
        d = bench_daemon().start()
        try:
            c0, t0, d0 = cpu_snapshot(), time.time(), proc_cpu(d.proc.pid)
            res = open_loop(d.port, "/webhook", rate, seconds, "ol%d" % r_i)
            others.append(others_cpu(c0, cpu_snapshot(), time.time() - t0, proc_cpu(d.proc.pid) - d0))
            hist = scrape_histogram(d, "zepix_webhook_latency_seconds")
            d.stop()
            _, done = alert_to_order_ms(d)
            ok = res["status"].get(200, 0)
            if ok != res["sent"] or done < ok:
                raise RuntimeError("open loop: sent %d, answers %r, %d done in zepix.db" %
                                   (res["sent"], res["status"], done))
            lat = res["lat_ms"]
            p50.append(pct(lat, 0.5))
            p99.append(pct(lat, 0.99))
            pmax.append(max(lat))
            hp50.append(histogram_quantile(0.5, hist) * 1000)
            hp99.append(histogram_quantile(0.99, hist) * 1000)
            lag99.append(pct(res["lag_ms"], 0.99))
            log("open loop run %d: %d x 200, p50 %.3f p99 %.3f max %.3f ms, send lag p99 %.3f ms, "
                "%d waits for a free connection; other work on the machine: %.2f cores" %
                (r_i, ok, p50[-1], p99[-1], pmax[-1], lag99[-1], res["waited"], others[-1]))
        finally:
            d.cleanup()
    cmd = "bench.py --only openloop (Python epoll open-loop sender, %d/s for %d s, 16 keep-alive connections)" % (
        rate, seconds)
    rows.append(("webhook latency p50 at %d signals/s (open loop, client side)" % rate, "ms", p50, None, cmd))
    rows.append(("webhook latency p99 at %d signals/s (open loop, client side)" % rate, "ms", p99, "p99_500",
                 cmd))
    rows.append(("webhook latency max at %d signals/s (open loop, client side)" % rate, "ms", pmax, None, cmd))
    rows.append(("in-daemon request-to-answer p50 at %d/s (zepix_webhook_latency_seconds)" % rate, "ms", hp50,
                 None, "GET /metrics after the run; histogram_quantile"))
    rows.append(("in-daemon request-to-answer p99 at %d/s (zepix_webhook_latency_seconds)" % rate, "ms", hp99,
                 None, "GET /metrics after the run; histogram_quantile"))
    rows.append(("open-loop sender: send lag behind schedule, p99", "ms", lag99, None,
                 "a check on the sender itself, not a daemon figure"))
    rows.append(("CPU used by other work on the machine during the 500/s runs", "cores", others, None,
                 "/proc/stat minus bench.py, its daemon and wrk: a check on the measurement"))


def part_telegram(runs, rows, samples=20):
    import fake_telegram
    # Python's http.server writes an answer's headers and body in two send()s; with
    # Nagle on, the body then waits for the daemon's delayed ACK (~40 ms on Linux).
    # The real Bot API does not answer that way: switch Nagle off in the fake.
    fake_telegram._Handler.disable_nagle_algorithm = True
    srv = fake_telegram.FakeTelegram(token=TOKEN).start()
    d = bench_daemon({"telegram": {"token": TOKEN, "api_base": srv.base_url, "admin_chat_ids": ADMINS,
                                   "poll_timeout_s": 10}},
                     env={"no_proxy": "*", "NO_PROXY": "*"})
    reload_ms, reload_rt, status_rt = [], [], []
    try:
        d.start()
        for i in range(100):    # a few trades to carry over the reloads
            st, _, _ = d.post("/webhook", signal_body(i, "tg"))
            assert st == 200, st

        turn = [0]

        def ask(text, expect):
            """The reply containing expect (trade notifications skipped), ms from push to it."""
            chat = ADMINS[turn[0] % len(ADMINS)]
            turn[0] += 1
            since = srv.last_seq()
            t0 = time.time()
            srv.push_message(chat, text)
            rec = srv.wait_sent(lambda r: r["method"] == "sendMessage" and r["args"].get("chat_id") == chat
                                and expect in r["args"].get("text", ""), timeout=5, since=since)
            time.sleep(max(0.0, 0.25 - (time.time() - t0)))     # each chat every 1.5 s
            return rec["args"]["text"], (rec["time"] - t0) * 1000

        # Let the trade notifications go out, then settle each chat's pace.
        time.sleep(1.5)
        for _ in ADMINS:
            ask("/status", "Plugins:")
        for _ in range(samples):
            text, ms = ask("/status", "Plugins:")
            status_rt.append(ms)
        for _ in range(max(runs, 10)):
            text, ms = ask("/reload_plugin %s" % PLUGIN, PLUGIN)
            m = re.search(r"reloaded: .* in ([\d.]+) ms", text)
            if not m:
                raise RuntimeError("unexpected reload reply: %r" % text)
            reload_ms.append(float(m.group(1)))
            reload_rt.append(ms)
    finally:
        d.cleanup()
        srv.stop()
    rows.append(("hot reload of a plugin (daemon's own figure, the reply's \"in X ms\")", "ms", reload_ms, "reload",
                 "bench.py --only telegram: /reload_plugin passthru via the fake Bot API"))
    rows.append(("hot reload, command round trip (push update -> reply at the Bot API)", "ms", reload_rt, None,
                 "same"))
    rows.append(("Telegram /status round trip (push update -> sendMessage at the fake Bot API)", "ms", status_rt,
                 None, "bench.py --only telegram (tests/fixtures/fake_telegram.py, long polling)"))


def part_healthz(runs, rows, seconds=2):
    d = bench_daemon().start()
    xs, cmd = [], ""
    try:
        for _ in range(min(runs, 3)):
            r, cmd = run_wrk(d.base + "/healthz", seconds, 32)
            xs.append((r["requests"] - r["non2xx"]) / r["secs"])
    finally:
        d.cleanup()
    rows.append(("GET /healthz (no journal, no fsync), 32 connections: HTTP layer ceiling", "req/s", xs, None,
                 cmd))


def snapshot_build():
    """Copy the daemon and the test plugin aside and run those for the whole bench,
    so that a rebuild of build/ by someone else during the run changes nothing.
    Returns (directory, sha256 prefix of the daemon binary)."""
    import hashlib
    import tempfile
    snap = tempfile.mkdtemp(prefix="zepix-bench-bin-")
    shutil.copy2(BIN, os.path.join(snap, "zepix"))
    # isolation "process" (the default) runs plugins in this helper, found next to zepix
    shutil.copy2(os.path.join(os.path.dirname(BIN), "zepix-plugin-host"), os.path.join(snap, "zepix-plugin-host"))
    os.makedirs(os.path.join(snap, "testplugins", PLUGIN))
    shutil.copy2(os.path.join(BUILD, "testplugins", PLUGIN, "plugin.so"),
                 os.path.join(snap, "testplugins", PLUGIN, "plugin.so"))
    zx.BIN = os.path.join(snap, "zepix")
    zx.BUILD = snap
    with open(zx.BIN, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    return snap, digest


def build_shim():
    out_dir = os.path.join(BUILD, "bench")
    so = os.path.join(out_dir, "syscall_shim.so")
    src = os.path.join(HERE, "syscall_shim.c")
    if not os.path.exists(so) or os.path.getmtime(so) < os.path.getmtime(src):
        os.makedirs(out_dir, exist_ok=True)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", so, src, "-ldl"], check=True)
    return so


def attribute(records, fds):
    """Per webhook request (first read on a client socket -> next write on it): its
    time and the fsyncs that ran inside it. fds: fd -> file name of the daemon."""
    import bisect
    db = {fd: os.path.basename(p) for fd, p in fds.items() if ".db" in p}
    syncs = [r for r in records if r[2] == 0]
    starts = [r[0] for r in syncs]
    pend, reqs = {}, []
    for t0, t1, kind, fd, _ in records:
        if kind == 1 and fd not in db:
            pend.setdefault(fd, t0)
        elif kind == 2 and fd in pend:
            s = pend.pop(fd)
            inside = syncs[bisect.bisect_left(starts, s):bisect.bisect_right(starts, t1)]
            ckpt = any(not db.get(r[3], "").endswith("-wal") for r in inside)
            reqs.append(((t1 - s) / 1e6, sum(r[1] - r[0] for r in inside) / 1e6, len(inside), ckpt))
    wal = [(r[1] - r[0]) / 1e6 for r in syncs if db.get(r[3], "").endswith("-wal")]
    main_db = [(r[1] - r[0]) / 1e6 for r in syncs if db.get(r[3], "").endswith(".db")]
    return reqs, wal, main_db


def part_attribution(runs, rows, rate=500, seconds=5):
    """Where a webhook request's time goes at 500/s: fsyncs (WAL commits, and WAL
    checkpoints, i.e. fsyncs of a main .db file) timed by syscall_shim.so."""
    so = build_shim()
    runs = min(runs, 3)
    cols = {k: [] for k in ("t50", "t99", "f50", "nsync", "share", "ckpt_top", "ckpt_all", "wal50", "wal99",
                            "db50", "ckpt_s", "c99", "ck_n", "ck_max", "ck_frames")}
    for r_i in range(runs):
        out = os.path.join(BUILD, "bench", "shim.out")
        d = bench_daemon(env={"LD_PRELOAD": so, "SHIM_OUT": out}).start()
        try:
            res = open_loop(d.port, "/webhook", rate, seconds, "at%d" % r_i)
            fds = {}
            for f in os.listdir("/proc/%d/fd" % d.proc.pid):
                try:
                    fds[int(f)] = os.readlink("/proc/%d/fd/%s" % (d.proc.pid, f))
                except OSError:
                    pass
            d.stop()
        finally:
            d.cleanup()
        with open(out) as f:
            records = [tuple(int(x) for x in line.split()) for line in f]
        os.unlink(out)
        reqs, wal, main_db = attribute(records, fds)
        reqs.sort()
        top = reqs[-max(1, len(reqs) // 100):]
        cols["c99"].append(pct(res["lat_ms"], 0.99))
        cols["t50"].append(pct([r[0] for r in reqs], 0.5))
        cols["t99"].append(pct([r[0] for r in reqs], 0.99))
        cols["f50"].append(pct([r[1] for r in reqs], 0.5))
        cols["nsync"].append(pct([r[2] for r in reqs], 0.5))
        cols["share"].append(100 * sum(r[1] for r in top) / sum(r[0] for r in top))
        cols["ckpt_top"].append(100.0 * sum(r[3] for r in top) / len(top))
        cols["ckpt_all"].append(100.0 * sum(r[3] for r in reqs) / len(reqs))
        cols["wal50"].append(pct(wal, 0.5))
        cols["wal99"].append(pct(wal, 0.99))
        cols["db50"].append(pct(main_db, 0.5) if main_db else float("nan"))
        cols["ckpt_s"].append(len(main_db) / seconds)
        calls = [r for r in records if r[2] == 3]
        cols["ck_n"].append(len(calls) / seconds)
        cols["ck_max"].append(max(((r[1] - r[0]) / 1e6 for r in calls), default=0.0))
        cols["ck_frames"].append(statistics.median(r[4] for r in calls) if calls else 0)
        log("attribution run %d: %d requests, in-daemon p99 %.3f ms, client p99 %.3f ms, slowest 1%%: "
            "%.0f%% in fsync, %.0f%% with a checkpoint" % (r_i, len(reqs), cols["t99"][-1], cols["c99"][-1],
                                                            cols["share"][-1], cols["ckpt_top"][-1]))
    how = "bench.py --only attribution (LD_PRELOAD scripts/bench/syscall_shim.c, %d/s for %d s)" % (rate, seconds)
    rows.append(("[attribution] webhook latency p99 at %d/s, client side, shim loaded" % rate, "ms", cols["c99"],
                 None, how))
    rows.append(("[attribution] in daemon, first read -> answer write, p50", "ms", cols["t50"], None, how))
    rows.append(("[attribution] in daemon, first read -> answer write, p99", "ms", cols["t99"], None, how))
    rows.append(("[attribution] fsyncs per request (median)", "count", cols["nsync"], None, how))
    rows.append(("[attribution] time in fsync per request, p50", "ms", cols["f50"], None, how))
    rows.append(("[attribution] slowest 1% of requests: share of their time in fsync", "%", cols["share"], None,
                 how))
    rows.append(("[attribution] slowest 1% of requests: share that include a WAL checkpoint", "%",
                 cols["ckpt_top"], None, how))
    rows.append(("[attribution] all requests: share that include a WAL checkpoint", "%", cols["ckpt_all"], None,
                 how))
    rows.append(("[attribution] sqlite3_wal_checkpoint_v2 calls per second", "1/s", cols["ck_n"], None, how))
    rows.append(("[attribution] sqlite3_wal_checkpoint_v2: WAL frames when called (median)", "frames",
                 cols["ck_frames"], None, how))
    rows.append(("[attribution] sqlite3_wal_checkpoint_v2: longest call", "ms", cols["ck_max"], None, how))
    rows.append(("[attribution] fdatasync of a -wal file, p50", "ms", cols["wal50"], None, how))
    rows.append(("[attribution] fdatasync of a -wal file, p99", "ms", cols["wal99"], None, how))
    rows.append(("[attribution] fdatasync of a main .db file (checkpoint), p50", "ms", cols["db50"], None, how))


def part_hooks(runs, rows):
    """The cost of one on_signal_received round trip per isolation mode, from
    test_registry's printing test (2000 calls each; no assertion there)."""
    exe = os.path.join(BUILD, "tests", "test_registry")
    if not os.path.exists(exe):
        log("bench: %s not built (make tests-bin); skipping hook costs" % exe)
        return
    costs = {"none": ([], []), "process": ([], [])}
    for _ in range(runs):
        env = dict(os.environ, ZEPIX_BUILD=os.path.relpath(BUILD, ROOT), TR_FILTER="test_hook_round_trip_cost_is_printed")
        out = subprocess.run([exe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120).stdout
        for m in re.finditer(r"isolation (\w+)\s*: p50 ([\d.]+) us, p99 ([\d.]+) us", out):
            if m.group(1) in costs:
                costs[m.group(1)][0].append(float(m.group(2)))
                costs[m.group(1)][1].append(float(m.group(3)))
    how = "TR_FILTER=test_hook_round_trip_cost_is_printed build/tests/test_registry (2000 hooks)"
    for iso, (p50, p99) in costs.items():
        if p50:
            rows.append(("signal hook round trip, isolation %s, p50" % iso, "us", p50, None, how))
            rows.append(("signal hook round trip, isolation %s, p99" % iso, "us", p99,
                         "hook_p99" if iso == "process" else None, how))


PARTS = {"hooks": part_hooks, "attribution": part_attribution, "startup": part_startup, "throughput": part_throughput, "openloop": part_openloop,
         "telegram": part_telegram, "healthz": part_healthz}


# ---------------------------------------------------------------- report

def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    mem = 0
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return {"cores": os.cpu_count(), "model": model, "platform": platform.platform(), "mem_mb": mem,
            "commit": commit}


def fmt(v):
    if v != v:
        return "n/a"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v if abs(v) >= 1 else "%.3f" % v


def render(rows):
    """(table lines, targets missed by the median, targets met by the median but missed by some runs)."""
    head = ["| what | median | min | max | unit | target | met | how |", "|---|---|---|---|---|---|---|---|"]
    missed, shaky = [], []
    lines = []
    for name, unit, xs, target, how in rows:
        med = statistics.median(xs)
        tgt, met = "", ""
        if target:
            fn, tgt = TARGETS[target]
            met = "yes" if fn(med) else "**MISSED**"
            if not fn(med):
                missed.append("%s: median %s %s, target %s %s" % (name, fmt(med), unit, tgt, unit))
            elif not all(fn(x) for x in xs):
                shaky.append("%s: median %s %s meets %s %s, but %d of %d runs did not (worst %s)" % (
                    name, fmt(med), unit, tgt, unit, sum(1 for x in xs if not fn(x)), len(xs),
                    fmt(max(xs) if tgt.startswith("<") else min(xs))))
        lines.append("| %s | %s | %s | %s | %s | %s | %s | `%s` |" % (name, fmt(med), fmt(min(xs)), fmt(max(xs)),
                                                                    unit, tgt, met, how))
    return head + lines, missed, shaky


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")))
    ap.add_argument("--only", choices=sorted(PARTS), action="append")
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    ap.add_argument("--rewrite", action="store_true",
                    help="measure nothing: rewrite BENCHMARKS.md from the last full run (%s) with the current "
                         "FINDINGS.md" % os.path.relpath(LAST_RUN, ROOT))
    a = ap.parse_args()
    if a.rewrite:
        with open(LAST_RUN) as f:
            write_md(**json.load(f))
        return
    if not os.access(BIN, os.X_OK) or not os.path.exists(os.path.join(BUILD, "testplugins", PLUGIN, "plugin.so")):
        sys.exit("bench: build first (make bench builds %s and the test plugins)" % BIN)
    need_wrk = not a.only or {"throughput", "healthz"} & set(a.only)
    if need_wrk and not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (scripts/install-deps.sh --bench, or apt-get install wrk)")
    parts = a.only or ["startup", "throughput", "openloop", "telegram", "healthz", "hooks", "attribution"]
    snap, digest = snapshot_build()
    try:
        run(a, parts, digest)
    finally:
        shutil.rmtree(snap, ignore_errors=True)


def run(a, parts, digest):
    load_before = loadavg()
    t0, c0 = time.time(), cpu_snapshot()
    rows = []
    for p in parts:
        log("%s (%d runs) ..." % (p, a.runs))
        PARTS[p](a.runs, rows)
    elapsed = time.time() - t0
    others = others_cpu(c0, cpu_snapshot(), elapsed)
    load_after = loadavg() + " (this run's own load included)"
    m = machine()
    m["binary"] = "%s/zepix, sha256 %s..." % (os.path.relpath(BUILD, ROOT), digest)
    table, missed, shaky = render(rows)
    print("\n".join(table))
    print("\nmachine: %d cores, %s; load average before %s, after %s; other work %.2f cores; %.0f s" %
          (m["cores"], m["model"], load_before, load_after, others, elapsed))
    if missed:
        print("targets missed:\n  " + "\n  ".join(missed))
    else:
        print("every target among these figures met by the median")
    if shaky:
        print("met by the median, not by every run:\n  " + "\n  ".join(shaky))
    if a.only or a.no_write:
        return
    last = dict(table=table, missed=missed, shaky=shaky, m=m, load_before=load_before, load_after=load_after,
                others=others, runs=a.runs, elapsed=elapsed, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(LAST_RUN, "w") as f:
        json.dump(last, f)
    write_md(**last)


LAST_RUN = os.path.join(BUILD, "bench", "last-run.json")


def write_md(table, missed, shaky, m, load_before, load_after, others, runs, elapsed, date):
    notes_path = os.path.join(HERE, "FINDINGS.md")
    notes = open(notes_path).read().strip() if os.path.exists(notes_path) else ""
    out = ["# Benchmarks", "",
           "Written by `make bench` (scripts/bench/bench.py). Every figure below was measured by that",
           "run on the machine below; nothing is estimated or copied from elsewhere.", "",
           "## Machine and run", "",
           "- machine: %d cores, %s, %d MB RAM, %s" % (m["cores"], m["model"], m["mem_mb"], m["platform"]),
           "- commit: `%s` (`-dirty`: the tree had uncommitted changes, built into the binary);"
           " binary %s" % (m["commit"], m["binary"]),
           "- date: %s" % date,
           "- load average (1/5/15 min) before the run: %s; after: %s%s" % (
               load_before, load_after,
               "" if float(load_before.split()[0]) < 0.5 else
               " — **the machine was busy** (other work was running): latency tails are then"
               " inflated; re-run on a quiet machine"),
           "- CPU used by other work on the machine during the run (all CPU time less that of"
           " bench.py, its daemons and wrk): %.2f cores on average" % others,
           "- runs per figure: %d, 500/s runs: %d (one fresh daemon and temp data dir per run; the"
           " Telegram figures are samples on one daemon); whole run %.0f s" % (runs, max(runs, 7), elapsed),
           "- wrk: %s" % (subprocess.run(["sh", "-c", "wrk --version 2>&1 | head -1"], capture_output=True,
                                         text=True).stdout.strip() or "?"),
           "", "## Commands", "",
           "```sh",
           "make bench                                   # = scripts/install-deps.sh --bench (wrk),",
           "                                             #   make all + test plugins, scripts/bench/run.sh",
           "python3 scripts/bench/bench.py --only PART   # PART: startup throughput openloop telegram healthz attribution",
           "wrk -t2 -c32 -d5s --latency --timeout 5s -s %s http://127.0.0.1:PORT/webhook -- %s %s runN" % (
               REL_LUA, SECRET, PLUGIN),
           "```", "",
           "Every daemon: `build/zepix -c <tmp>/zepix.json`, loopback port, paper broker, the pass-through",
           "test plugin (`build/testplugins/passthru/plugin.so`, accepts every signal), log level `warn`,",
           "`synchronous=FULL` (how many fsyncs a request waits for: the [attribution] rows), data dir on",
           "the machine's disk (`/tmp`, ext4).",
           "Each signal is a JSON buy with its own `id`, so each one is journaled, executed (one paper",
           "trade) and recorded before its 200.", "",
           "## Figures", ""] + table + [""]
    out += ["## Targets", ""]
    if missed:
        out += ["Missed (median of the runs against the target):", ""] + ["- " + x for x in missed]
    else:
        out += ["Every target in the table is met by the median of the runs."]
    if shaky:
        out += ["", "Met by the median but not by every run (see Findings):", ""] + ["- " + x for x in shaky]
    out += ["", "## What the figures are", "",
            "- **durable signals/s**: 200 answers counted by wrk (non-2xx excluded), divided by wrk's",
            "  duration; after each run the count of `done` signals in `data/zepix.db` is checked to be at",
            "  least that. wrk runs on the same 2 cores as the daemon.",
            "- **latency at 32 connections**: wrk's own latency distribution (closed loop: each connection",
            "  sends its next request when the answer arrives).",
            "- **latency at 500/s**: wrk2 is not in Debian 12, so a Python open-loop sender (bench.py,",
            "  `open_loop`: one thread, epoll, 16 keep-alive connections) writes each request at its",
            "  scheduled time whether or not earlier ones were answered, and measures from the write to",
            "  the end of the answer; the sender's own lag behind schedule is reported as a check. Python",
            "  adds some tens of microseconds to each measured latency.",
            "- **in-daemon request-to-answer**: the daemon's `zepix_webhook_latency_seconds` histogram",
            "  (from the request's arrival in libmicrohttpd to its answer being queued: parse, journal",
            "  group commit with fsync, plugin hook, paper fill, ledger commit, outcome commit), scraped",
            "  from `GET /metrics`; quantiles interpolated linearly inside the buckets",
            "  (0.1, 0.25, 0.5, 1, 2.5, 5, 10 ms ...) as Prometheus' histogram_quantile does.",
            "- **alert-to-order**: `trades.entry_ms` (paper fill time) minus `signals.received_ms` (the",
            "  group commit's timestamp) joined on `trades.signal_id`; millisecond clock, so 0 means",
            "  under a millisecond.",
            "- **start-up**: from just before exec to the first 200 of `GET /healthz`, polled every 1 ms;",
            "  fresh data dir, so it includes creating both SQLite databases.",
            "- **hot reload**: the daemon's own timing in the reply to `/reload_plugin passthru` (load and",
            "  init the new copy, disable/shutdown the old, swap, enable); the round trip adds the fake",
            "  Bot API (Python) and long polling.",
            "- **[attribution]**: 500/s again, with scripts/bench/syscall_shim.c preloaded into the daemon:",
            "  it times each `fdatasync`, socket read/write and `sqlite3_wal_checkpoint_v2` call. A request",
            "  is the span from its first read to its answer's write; a checkpoint inside a request shows",
            "  as an fsync of a main `.db` file within that span.",
            "- **CPU used by other work**: all CPU time on the machine (`/proc/stat`) less that of bench.py,",
            "  its daemons and wrk; above about 0.1 core, tails of that run are not the daemon's alone.",
            ""]
    if notes:
        out += [notes, ""]
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    log("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
