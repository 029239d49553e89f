"""Reliability of the real build/zepix under hostile conditions.

(a) DiskFull: the data directory on a 1 MiB tmpfs that is then filled: a
    signal gets a clear 503 (never a 2xx that was not recorded, never a crash),
    the databases stay intact, and once space is freed signals work again.
    Start-up with a data directory that cannot be created or written exits 1
    with a message naming the path. (Needs root for mount; skipped otherwise.)
(b) SlowTelegram: a Bot API that answers getUpdates/sendMessage only after
    seconds, or answers garbage, does not slow the webhook: every signal is
    answered 200 within 200 ms meanwhile.
(c) SlowLoris: 1,000 connections that send half a request line and stall do
    not keep a normal alert from being served within 1 s, and are closed after
    webhook.read_timeout_s.
(d) Burst: 2,000 signals with unique ids from 16 threads: every one answered
    200, every one executed exactly once (one trade row per signal_id).
(e) Garbage: random bytes, a huge header, a binary body, wrong content types:
    a 4xx (or a closed connection for bytes that are not HTTP at all), never a
    2xx or 5xx, and the daemon is healthy after.

Bounded time: the whole file runs in well under a minute.
"""
import http.client
import json
import os
import random
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_telegram import FakeTelegram  # noqa: E402
from zx import BIN, ROOT, Daemon, plugin_dir, wait_for  # noqa: E402

SECRET = "test-secret"
TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
ENV = {"no_proxy": "*", "NO_PROXY": "*"}


def trade_counts(path):
    """{signal_id: number of trade rows} of one plugin database."""
    con = sqlite3.connect(path, timeout=5)
    try:
        return dict(con.execute("SELECT signal_id, count(*) FROM trades GROUP BY signal_id"))
    finally:
        con.close()


def integrity(path):
    con = sqlite3.connect(path, timeout=5)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


class Client:
    """A keep-alive HTTP/1.1 client for one thread (http.client; reconnects when needed)."""

    def __init__(self, port, timeout=10, source=None):
        self.port, self.timeout, self.conn = port, timeout, None
        self.source = (source, 0) if source else None

    def post(self, path, body, ctype="application/json", headers=None):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        h = {"Content-Type": ctype}
        h.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout,
                                                       source_address=self.source)
            try:
                self.conn.request("POST", path, body, h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class PassthruDaemon(unittest.TestCase):
    """A daemon with the passthru plugin enabled (accepts every signal)."""
    overrides = {}

    def make_daemon(self, tmp, extra=None, env=None):
        pdir = plugin_dir(tmp, {"passthru": "passthru"})
        cfg = {"log": {"level": "info"},
               "plugin_system": {"plugin_dir": pdir},
               "plugins": {"passthru": {"enabled": True}}}
        cfg.update(self.overrides)
        for k, v in (extra or {}).items():
            if isinstance(v, dict) and isinstance(cfg.get(k), dict):
                cfg[k] = dict(cfg[k], **v)
            else:
                cfg[k] = v
        return Daemon(cfg, tmp=tmp, env=env)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-rel-")
        self.addCleanup(shutil.rmtree, self.tmp, True)     # last: after any umount
        self.d = None

    def tearDown(self):
        if self.d is not None:
            code, _ = self.d.stop()
            self.d.cleanup()
            self.assertEqual(code, 0, self.d.log()[-3000:])

    def signal_body(self, **kw):
        body = {"secret": SECRET, "action": "buy", "symbol": "EURUSD", "price": 1.1}
        body.update(kw)
        return body

    def passthru_db(self, data_dir=None):
        return os.path.join(data_dir or os.path.join(self.tmp, "data"), "zepix_passthru.db")


# ---- (a) a full or unusable data directory -------------------------------------------------

def _mount_tmpfs(path, opts):
    if os.geteuid() != 0:
        return "not root: cannot mount a tmpfs for the data directory"
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return "mount -t tmpfs refused (%s): %s" % (p.returncode, (p.stderr or p.stdout).strip())
    return None


def _umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


class DiskFull(PassthruDaemon):
    def setUp(self):
        super().setUp()
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        why = _mount_tmpfs(self.data, "size=1m,mode=0755")
        if why:
            self.skipTest(why)
        self.addCleanup(_umount, self.data)

    def fill(self):
        """Fill the tmpfs to the last byte; returns the filler's path."""
        path = os.path.join(self.data, "filler")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 4096, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    pass
        finally:
            os.close(fd)
        return path

    def test_full_data_dir_gives_503_and_recovers(self):
        self.d = self.make_daemon(self.tmp).start()
        c = Client(self.d.port)
        st, b = c.post("/webhook", self.signal_body(id="before-1"))
        self.assertEqual(st, 200, b)

        filler = self.fill()
        answers = {}
        for i in range(30):     # enough to outgrow any space SQLite already holds in its WAL
            st, b = c.post("/webhook", self.signal_body(id="full-%d" % i))
            answers["full-%d" % i] = (st, json.loads(b))
            self.assertIn(st, (200, 503), b)
            if st == 503:
                break
        codes = [a[0] for a in answers.values()]
        self.assertIn(503, codes, "a full disk never gave 503: %r" % answers)
        st, b = c.post("/webhook", self.signal_body(id="full-last"))
        self.assertEqual(st, 503, b)
        err = json.loads(b)
        self.assertFalse(err["ok"])
        self.assertIn("journal", err["error"])
        self.assertEqual(self.d.get("/healthz")[0], 200)        # alive, still serving
        self.assertIsNone(self.d.proc.poll())

        os.remove(filler)
        st, b = c.post("/webhook", self.signal_body(id="after-1"))
        self.assertEqual(st, 200, b)
        after = json.loads(b)
        self.assertEqual(after["results"][0]["status"], "executed", after)
        # A refused signal was not executed: it may be sent again and runs now.
        st, b = c.post("/webhook", self.signal_body(id="full-last"))
        self.assertEqual(st, 200, b)
        self.assertFalse(json.loads(b)["duplicate"])
        c.close()

        code, _ = self.d.stop()
        self.assertEqual(code, 0, self.d.log()[-3000:])
        self.assertEqual(integrity(os.path.join(self.data, "zepix.db")), "ok")
        self.assertEqual(integrity(self.passthru_db()), "ok")
        # No corrupt state: every 2xx signal has exactly one trade, every 503 none,
        # and no journal entry is left half done.
        counts = trade_counts(self.passthru_db())
        con = sqlite3.connect(os.path.join(self.data, "zepix.db"))
        rows = dict(con.execute("SELECT ext_id, id FROM signals WHERE ext_id IS NOT NULL"))
        states = dict(con.execute("SELECT state, count(*) FROM signals GROUP BY state"))
        con.close()
        self.assertNotIn("received", states)
        for ext, (st, j) in answers.items():
            if st == 200:
                self.assertEqual(counts.get(j["signal_id"]), 1, ext)
            else:
                self.assertNotIn(ext, rows, "a 503 signal is in the journal: %s" % ext)
        for ext in ("before-1", "after-1", "full-last"):
            self.assertEqual(counts.get(rows[ext]), 1, ext)
        self.assertEqual(sum(counts.values()), len(counts))

    def test_plugin_db_full_never_answers_2xx_without_a_trade(self):
        """The journal still has room (its WAL is reused after a checkpoint), the plugin's
        trade database has none: a 2xx must still mean a recorded trade."""
        self.d = self.make_daemon(self.tmp).start()
        c = Client(self.d.port)
        for i in range(5):
            self.assertEqual(c.post("/webhook", self.signal_body(id="warm-%d" % i))[0], 200)

        def checkpoint(path, mode):
            con = sqlite3.connect(path, timeout=5)
            try:
                return wait_for(lambda: con.execute("PRAGMA wal_checkpoint(%s)" % mode).fetchone()[0] == 0
                                or None, what="checkpoint " + mode)
            finally:
                con.close()
        checkpoint(os.path.join(self.data, "zepix.db"), "RESTART")     # WAL space to reuse
        checkpoint(self.passthru_db(), "TRUNCATE")                      # none: must grow
        filler = self.fill()
        answers = {}
        for i in range(4):
            st, b = c.post("/webhook", self.signal_body(id="pfull-%d" % i))
            answers["pfull-%d" % i] = (st, json.loads(b))
        self.assertEqual(self.d.get("/healthz")[0], 200)
        os.remove(filler)
        counts = trade_counts(self.passthru_db())
        trade_ids = []
        not_saved = 0
        for ext, (st, j) in answers.items():
            if 200 <= st < 300 and j["results"][0]["status"] == "executed":
                self.assertEqual(counts.get(j["signal_id"]), 1, "2xx without a trade row: %s %r" % (ext, j))
                trade_ids.append(j["results"][0].get("trade_id"))
            elif 200 <= st < 300:       # journaled and dispatched, the trade could not be saved
                r = j["results"][0]
                self.assertEqual(r["status"], "failed", j)
                self.assertIn("could not be saved", r["reason"])
                self.assertIsNone(counts.get(j["signal_id"]), ext)
                not_saved += 1
            else:
                self.assertEqual(st, 503, j)
        self.assertGreater(not_saved, 0, answers)       # the full disk was really hit
        st, _, m = self.d.get("/metrics")
        self.assertIn("zepix_open_trades %d" % sum(counts.values()), m.decode())   # no phantom positions
        self.assertEqual(len(trade_ids), len(set(trade_ids)), "one trade_id given to two signals")
        st, b = c.post("/webhook", self.signal_body(id="pfull-after"))
        self.assertEqual(st, 200, b)
        self.assertEqual(trade_counts(self.passthru_db()).get(json.loads(b)["signal_id"]), 1)
        c.close()

    def test_full_data_dir_at_start_exits_1_naming_the_path(self):
        self.fill()
        d = self.make_daemon(self.tmp)
        d.write_config()
        p = subprocess.run([BIN, "-c", d.config_path], cwd=ROOT, capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(self.data, p.stderr)


class UnusableDataDir(PassthruDaemon):
    def start_fails(self, data_dir, expect_in_msg):
        d = self.make_daemon(self.tmp, {"plugin_system": {"data_dir": data_dir}})
        d.write_config()
        p = subprocess.run([BIN, "-c", d.config_path], cwd=ROOT, capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(expect_in_msg, p.stderr)
        return p.stderr

    def test_missing_parent(self):
        path = os.path.join(self.tmp, "no", "such", "parent", "data")
        self.start_fails(path, path)

    def test_parent_is_a_file(self):
        f = os.path.join(self.tmp, "afile")
        open(f, "w").close()
        path = os.path.join(f, "data")
        self.start_fails(path, path)

    def test_data_dir_is_a_file(self):
        path = os.path.join(self.tmp, "datafile")
        open(path, "w").close()
        self.start_fails(path, path)

    def test_read_only_data_dir(self):
        # Root ignores permission bits; a read-only mount binds root too.
        path = os.path.join(self.tmp, "ro")
        os.makedirs(path)
        why = _mount_tmpfs(path, "ro,size=1m")
        if why:
            self.skipTest(why)
        self.addCleanup(_umount, path)
        self.start_fails(path, path)


# ---- (b) a slow or broken Bot API does not stall webhooks --------------------------------------

class SlowTelegram(PassthruDaemon):
    def setUp(self):
        super().setUp()
        self.srv = FakeTelegram(token=TOKEN).start()
        self.addCleanup(self.srv.stop)
        self.d = self.make_daemon(self.tmp, {"telegram": {
            "token": TOKEN, "api_base": self.srv.base_url, "admin_chat_ids": [ADMIN],
            "poll_timeout_s": 1}}, env=ENV).start()
        wait_for(lambda: self.srv.getupdates_calls() >= 1, what="the first getUpdates")

    def assert_fast_webhooks(self, n, tag):
        c = Client(self.d.port)
        slow = []
        for i in range(n):
            t0 = time.monotonic()
            st, b = c.post("/webhook", self.signal_body(id="%s-%d" % (tag, i)))
            dt = time.monotonic() - t0
            self.assertEqual(st, 200, b)
            self.assertEqual(json.loads(b)["results"][0]["status"], "executed")
            # A webhook held behind a hanging Bot API call would wait its 4 s
            # delay; 1 s tells that apart from a slow fsync on a busy disk
            # (speed itself is make bench's, not a test's).
            if dt >= 1.0:
                slow.append(round(dt, 3))
            time.sleep(0.05)
        c.close()
        self.assertEqual(slow, [], "webhook answers over 1 s while Telegram misbehaves")

    def test_delayed_bot_api_does_not_stall_webhooks(self):
        self.srv.set_delay("getUpdates", 4)
        self.srv.set_delay("sendMessage", 4)
        since = self.srv.last_seq()
        # A command whose reply (sendMessage) will hang, and a poll that hangs.
        self.srv.push_message(ADMIN, "/status")
        wait_for(lambda: self.srv.sent("sendMessage", since=since), timeout=8,
                 what="a sendMessage to be in flight")
        t0 = time.monotonic()
        self.assert_fast_webhooks(20, "slow")
        self.assertLess(time.monotonic() - t0, 4, "the test did not run while the calls hung")
        # Both calls are still hanging: the webhooks really ran meanwhile.
        pending = [r for r in self.srv.sent("sendMessage", since=since) if not r["answered"]]
        self.assertTrue(pending, "sendMessage was not delayed")

    def test_garbage_bot_api_does_not_stall_webhooks(self):
        self.srv.set_garbage("getUpdates")
        self.srv.set_garbage("sendMessage")
        calls = self.srv.getupdates_calls()
        self.srv.push_message(ADMIN, "/status")
        wait_for(lambda: self.srv.getupdates_calls() > calls, timeout=5, what="a garbage poll")
        self.assert_fast_webhooks(20, "garbage")
        self.srv.set_garbage("getUpdates", False)
        self.srv.set_garbage("sendMessage", False)
        self.assertEqual(self.d.get("/healthz")[0], 200)


# ---- (c) slow-loris ----------------------------------------------------------------------------

class SlowLoris(PassthruDaemon):
    N = 1000
    overrides = {"webhook": {"max_connections": 1100, "per_ip_connections": 2000,
                             "read_timeout_s": 2}}

    def setUp(self):
        super().setUp()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 4 * self.N + 256         # our sockets, and the daemon inherits the limit
        if soft < want:
            if hard != resource.RLIM_INFINITY and hard < want:
                self.skipTest("RLIMIT_NOFILE hard limit %d < %d" % (hard, want))
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        self.d = self.make_daemon(self.tmp).start()
        self.socks = []
        self.addCleanup(self.close_all)

    def close_all(self):
        for s in self.socks:
            s.close()

    def test_stalled_connections_do_not_block_alerts_and_are_closed(self):
        for i in range(self.N):
            s = socket.create_connection(("127.0.0.1", self.d.port), timeout=5)
            s.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            self.socks.append(s)
        t_open = time.monotonic()
        # A normal alert (from another address: this one is past its fair share)
        # is served promptly while they all hang.
        t0 = time.monotonic()
        c = Client(self.d.port, timeout=5, source="127.0.0.2")
        self.addCleanup(c.close)
        st, b = c.post("/webhook", self.signal_body(id="loris-1"))
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(st, 200, b)
        self.assertEqual(json.loads(b)["results"][0]["status"], "executed")
        h = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=2, source_address=("127.0.0.2", 0))
        h.request("GET", "/healthz")
        self.assertEqual(h.getresponse().status, 200)
        h.close()

        # After read_timeout_s (2 s) every stalled connection is closed by the server.
        for s in self.socks:
            s.setblocking(False)
        open_socks = set(range(self.N))
        deadline = t_open + 2 + 4
        while open_socks and time.monotonic() < deadline:
            for i in list(open_socks):
                try:
                    data = self.socks[i].recv(4096)
                except BlockingIOError:
                    continue
                except OSError:             # reset: closed too
                    data = b""
                if data == b"" or data.startswith(b"HTTP/1.1 4"):
                    open_socks.discard(i)
            time.sleep(0.05)
        closed_after = time.monotonic() - t_open
        self.assertEqual(len(open_socks), 0, "%d of %d stalled connections still open after %.1f s"
                         % (len(open_socks), self.N, closed_after))
        self.assertGreater(closed_after, 1.0, "closed before read_timeout_s")
        # And the daemon serves as before.
        st, b = c.post("/webhook", self.signal_body(id="loris-2"))
        self.assertEqual(st, 200, b)


# ---- admission before work: allowed addresses at accept, fair share, the request deadline ----

def attacker(port, src, data=b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Le"):
    """A connection from source address src that sends data and then nothing."""
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(data)
    except OSError:
        pass
    return s


def still_open(s):
    s.setblocking(False)
    try:
        return s.recv(4096) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


class Admission(PassthruDaemon):
    """Ten addresses (127.0.0.2 ... 127.0.0.11: all of 127/8 is loopback) try to
    fill the house with stalled connections under the shipped limits (512 in
    all, 64 per address); legitimate alerts from another address still run."""
    ATTACKERS = ["127.0.0.%d" % i for i in range(2, 12)]

    def setUp(self):
        super().setUp()
        self.socks = []
        self.addCleanup(lambda: [s.close() for _, s in self.socks])

    def test_ten_addresses_cannot_fill_the_house(self):
        self.d = self.make_daemon(self.tmp).start()
        for src in self.ATTACKERS:
            for _ in range(64):
                self.socks.append((src, attacker(self.d.port, src)))
        time.sleep(0.5)
        held = {}
        for src, s in self.socks:
            if still_open(s):
                held[src] = held.get(src, 0) + 1
        total = sum(held.values())
        self.assertTrue(all(n <= 64 for n in held.values()), held)
        self.assertLess(total, 512 - 10, held)
        # ten alerts at once from another address: all answered, promptly
        results = [None] * 10

        def alert(i):
            t0 = time.monotonic()
            c = Client(self.d.port, timeout=5)
            try:
                st, b = c.post("/webhook", self.signal_body(id="adm-%d" % i))
                results[i] = (st, json.loads(b)["results"][0]["status"], time.monotonic() - t0)
            except OSError as e:
                results[i] = (None, repr(e), time.monotonic() - t0)
            finally:
                c.close()
        threads = [threading.Thread(target=alert, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for st, status, secs in results:
            self.assertEqual((st, status), (200, "executed"), results)
            self.assertLess(secs, 2.0, results)
        self.assertEqual(self.d.get("/healthz", timeout=2)[0], 200)
        self.assertIn("per-address limit or fair share", self.d.log())

    def test_a_request_trickled_byte_by_byte_is_cut_at_the_deadline(self):
        # MHD's own timeout is idle time: one byte every 0.3 s kept a connection
        # forever. read_timeout_s is now the whole request's deadline.
        self.d = self.make_daemon(self.tmp, {"webhook": {"read_timeout_s": 2}}).start()
        s = attacker(self.d.port, "127.0.0.2", b"P")
        self.socks.append(("127.0.0.2", s))
        t0 = time.monotonic()
        closed = None
        for ch in b"OST /webhook HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                s.sendall(bytes([ch]))
            except OSError:
                closed = time.monotonic() - t0
                break
            if not still_open(s):
                closed = time.monotonic() - t0
                break
            s.setblocking(True)
            time.sleep(0.3)
        self.assertIsNotNone(closed, "still open after %.1f s" % (time.monotonic() - t0))
        self.assertGreater(closed, 1.5)
        self.assertLess(closed, 4.0)
        # a keep-alive client that sends whole requests is not affected
        c = Client(self.d.port, timeout=5)
        self.addCleanup(c.close)
        for i in range(3):
            st, b = c.post("/webhook", self.signal_body(id="keep-%d" % i))
            self.assertEqual(st, 200, b)
            time.sleep(0.8)

    def test_an_address_not_allowed_is_closed_at_accept(self):
        self.d = self.make_daemon(self.tmp, {"webhook": {"allowed_ips": ["127.0.0.1", "127.0.0.3"]}}).start()
        body = json.dumps(self.signal_body(id="stranger")).encode()
        req = (b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        s = attacker(self.d.port, "127.0.0.2", req)
        self.socks.append(("127.0.0.2", s))
        s.settimeout(3)
        try:
            answer = s.recv(4096)
        except OSError:
            answer = b""
        self.assertEqual(answer, b"")           # closed before a byte was read: no answer at all
        self.assertEqual(trade_counts(self.passthru_db()), {})
        s = attacker(self.d.port, "127.0.0.3", req.replace(b"stranger", b"friend00"))
        self.socks.append(("127.0.0.3", s))
        answer = s.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer)
        self.assertEqual(sum(trade_counts(self.passthru_db()).values()), 1)


# ---- (d) a burst from many threads executes each signal exactly once ---------------------------

class Burst(PassthruDaemon):
    N, THREADS = 2000, 16

    def test_burst_of_unique_signals_each_executed_once(self):
        self.d = self.make_daemon(self.tmp, {"log": {"level": "warn"}}).start()
        answers, errors, lock = {}, [], threading.Lock()

        def sender(k):
            c = Client(self.d.port, timeout=20)
            try:
                for i in range(k, self.N, self.THREADS):
                    ext = "burst-%d" % i
                    st, b = c.post("/webhook", self.signal_body(id=ext, lot=0.01))
                    with lock:
                        answers[ext] = (st, b)
            except Exception as e:      # reported below, with the count
                with lock:
                    errors.append(repr(e))
            finally:
                c.close()
        t0 = time.monotonic()
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        took = time.monotonic() - t0
        self.assertEqual(errors, [])
        self.assertEqual(len(answers), self.N)
        bad = {k: v for k, v in answers.items() if v[0] != 200}
        self.assertEqual(bad, {}, "non-200 answers")
        ids = {}
        for ext, (_, b) in answers.items():
            j = json.loads(b)
            self.assertFalse(j["duplicate"], ext)
            self.assertEqual(j["results"][0]["status"], "executed", (ext, j))
            ids[ext] = j["signal_id"]
        self.assertEqual(len(set(ids.values())), self.N, "two ids share a signal_id")
        counts = trade_counts(self.passthru_db())
        for ext, sid in ids.items():
            self.assertEqual(counts.get(sid), 1, ext)
        self.assertEqual(sum(counts.values()), self.N)
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix.db"))
        done = con.execute("SELECT count(*) FROM signals WHERE state = 'done'").fetchone()[0]
        con.close()
        self.assertEqual(done, self.N)
        print("\n  burst: %d signals from %d threads in %.2f s" % (self.N, self.THREADS, took),
              file=sys.stderr)


# ---- (e) garbage on the webhook ---------------------------------------------------------------

class Garbage(PassthruDaemon):
    def setUp(self):
        super().setUp()
        self.d = self.make_daemon(self.tmp).start()

    def raw(self, data, timeout=0.5):
        """Send raw bytes, return the status code of the answer (None: closed, or no
        answer within timeout: bytes without a line end leave MHD waiting for more,
        until webhook.read_timeout_s closes the connection)."""
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=timeout) as s:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass            # the server may close while we still write
            buf = b""
            try:
                while b"\r\n" not in buf:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        if not buf.startswith(b"HTTP/1."):
            return None
        return int(buf.split(b" ", 2)[1])

    def assert_refused(self, status, what):
        self.assertTrue(status is None or 400 <= status < 500, "%s: answered %r" % (what, status))

    def assert_healthy(self):
        self.assertIsNone(self.d.proc.poll(), "the daemon died")
        self.assertEqual(self.d.get("/healthz", timeout=2)[0], 200)
        st, _, b = self.d.post("/webhook", self.signal_body(id="after-%d" % random.randrange(1 << 30)))
        self.assertEqual(st, 200, b)

    def test_random_bytes(self):
        rnd = random.Random(1234)
        for i in range(40):
            data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 2048)))
            self.assert_refused(self.raw(data), "random bytes #%d" % i)
        for data in (b"\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 200,  # TLS hello
                     b"GET\r\n\r\n", b"POST /webhook\x00 HTTP/1.1\r\n\r\n",
                     b"POST /webhook HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                     b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
                     b"POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            self.assert_refused(self.raw(data), repr(data[:40]))
        # An unknown HTTP version gets the one 5xx made for it (RFC 9110 15.6.6).
        self.assertIn(self.raw(b"POST /webhook HTTP/9.9\r\nHost: x\r\n\r\n"), (505, None))
        self.assert_healthy()

    def test_huge_header(self):
        for size in (70000, 1 << 20):
            data = (b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"a" * size +
                    b"\r\nContent-Length: 2\r\n\r\n{}")
            self.assert_refused(self.raw(data, timeout=5), "a %d-byte header" % size)
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
        self.assert_refused(self.raw(b"POST /webhook HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"),
                            "5000 headers")
        self.assert_healthy()

    def test_binary_body(self):
        rnd = random.Random(99)
        for i in range(20):
            body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 4096)))
            st, _, b = self.d.post("/webhook", body, ctype="application/octet-stream")
            self.assertTrue(400 <= st < 500, (i, st, b))
            self.assertFalse(json.loads(b)["ok"])
        # Binary junk inside an otherwise authenticated JSON body: 4xx, not 2xx
        # (a NUL makes the body unreadable, so its secret is unknown: 401).
        for junk in (b"\x00", b"\xff\xfe", b"\xc3\x28", "\u202e".encode()):
            body = b'{"secret":"%s","action":"buy","symbol":"EUR' % SECRET.encode() + junk + b'USD"}'
            st, _, b = self.d.post("/webhook", body)
            self.assertIn(st, (400, 401), (junk, b))
        self.assert_healthy()

    def test_wrong_content_type_with_garbage(self):
        for ctype, body in (("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
                            ("multipart/form-data; boundary=x",
                             b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nbuy\r\n--x--\r\n"),
                            ("application/x-www-form-urlencoded", b"action=buy&symbol=EURUSD&secret=x"),
                            ("application/json", b"not json at all"),
                            ("text/plain", b"{\"secret\": \"nope\""),
                            ("", b"\x00\x01\x02")):
            st, _, b = self.d.post("/webhook", body, ctype=ctype)
            self.assertTrue(400 <= st < 500, (ctype, st, b))
        self.assertEqual(trade_counts(self.passthru_db()), {})
        self.assert_healthy()

    def test_content_type_is_not_trusted_the_body_decides(self):
        # TradingView sends text/plain for messages that are not valid JSON and curl -d
        # sends form-encoded: zepix reads the body itself (JSON if it starts with '{').
        st, _, b = self.d.post("/webhook", self.signal_body(id="ctype-1"), ctype="application/x-www-form-urlencoded")
        self.assertEqual(st, 200, b)
        self.assertEqual(sum(trade_counts(self.passthru_db()).values()), 1)

    def test_duplicated_json_key_is_refused(self):
        body = ('{"secret":"%s","action":"buy","symbol":"EURUSD","price":1.1,"action":"sell",'
                '"id":"dupkey-1"}' % SECRET)
        st, _, b = self.d.post("/webhook", body)
        self.assertEqual(st, 400, b)
        self.assertIn("action", json.loads(b)["error"])
        self.assertEqual(trade_counts(self.passthru_db()), {})

    def test_escaped_secret_is_not_journaled(self):
        body = '{"secret":"test\\u002dsecret","action":"buy","symbol":"EURUSD","price":1.1,"id":"esc-1"}'
        st, _, b = self.d.post("/webhook", body)
        self.assertEqual(st, 200, b)
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix.db"))
        raw = con.execute("SELECT raw FROM signals WHERE ext_id = 'esc-1'").fetchone()[0]
        con.close()
        self.assertNotIn("secret", json.loads(raw), raw)
        self.assertNotIn("u002d", raw)


    def test_escaped_duplicate_key_is_refused(self):
        # "\u0061ction" is "action" once unescaped: a SELL must not replace the BUY
        body = ('{"secret":"%s","action":"buy","symbol":"EURUSD","price":1.1,"\\u0061ction":"sell",'
                '"id":"dupkey-2"}' % SECRET)
        st, _, b = self.d.post("/webhook", body)
        self.assertEqual(st, 400, b)
        self.assertIn("action: given twice", json.loads(b)["error"])
        self.assertEqual(trade_counts(self.passthru_db()), {})

    def exchange(self, data):
        """Raw bytes in, every answer's status line out (until the server closes)."""
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=3) as s:
            s.sendall(data)
            buf = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        return re.findall(rb"HTTP/1\.1 (\d{3}) ", buf)

    def test_ambiguous_body_length_is_refused_and_nothing_is_smuggled(self):
        body = json.dumps(self.signal_body(id="smuggle-%d" % random.randrange(1 << 30))).encode()
        smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        both = (b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
                % (len(body), len(body), body) + smuggled)
        two = (b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n%s%s"
               % (len(body), len(body) + len(smuggled), body, smuggled))
        for data in (both, two):
            self.assertEqual(self.exchange(data), [b"400"])
        self.assertEqual(trade_counts(self.passthru_db()), {})
        self.assert_healthy()

    def test_a_byte_order_mark_before_json_is_read_and_no_secret_part_is_ever_quoted(self):
        st, _, b = self.d.post("/webhook", b"\xef\xbb\xbf" + json.dumps(self.signal_body(id="bom-1")).encode())
        self.assertEqual(st, 200, b)
        wrong = "Zq7Lw2Xv9Kp4Rt6Yb1Nm3Hc8Jd5Gf0SaUe2Wi4Oo"
        for body in ('\ufeff{"secret":"%s","action":"buy","symbol":"EURUSD"}' % wrong,
                     'x{"secret":"%s","action":"buy","symbol":"EURUSD"}' % wrong,
                     '{"secret":"%s","%s":1,"action":"buy","symbol":"EURUSD"}' % (wrong, wrong)):
            st, _, b = self.d.post("/webhook", body.encode())
            self.assertIn(st, (400, 401), b)
            for i in range(len(wrong) - 7):
                self.assertNotIn(wrong[i:i + 8].encode(), b)
        time.sleep(0.2)
        log = self.d.log()
        self.assertIn("401 from", log)
        for i in range(len(wrong) - 7):
            self.assertNotIn(wrong[i:i + 8], log)

if __name__ == "__main__":
    unittest.main()
