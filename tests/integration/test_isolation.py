"""Plugin isolation "process" (the default) through the real daemon: a plugin that
crashes, loops or makes a forbidden call (tests/plugins/tp_hostile) costs only
itself. The admin chat is told, its open trade stays, the other plugin and the
chat commands keep working, and /enable_plugin or /reload_plugin starts it again.
In "none" mode the same segfault takes the daemon down (not contained)."""
import fcntl
import os
import pty
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_telegram import FakeTelegram  # noqa: E402
from zx import BIN, BUILD, Daemon, plugin_dir  # noqa: E402

# `make asan` builds the test plugins with the sanitizers: the null store of
# "segv" is then reported by UBSan (which opens files: the filter kills that in
# process mode) and ends the "none" daemon with exit status 1, not SIGSEGV.
SANITIZED = "asan" in os.path.basename(os.path.normpath(BUILD))

TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
ENV = {"no_proxy": "*", "NO_PROXY": "*"}


class Base(unittest.TestCase):
    iso = None          # the default

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-iso-")
        self.pdir = plugin_dir(self.tmp, {"passthru": "passthru", "tp_hostile": "tp_hostile"})
        self.srv = FakeTelegram(token=TOKEN).start()
        ps = {"plugin_dir": self.pdir}
        if self.iso:
            ps["isolation"] = self.iso
        self.cfg = {"telegram": {"token": TOKEN, "api_base": self.srv.base_url,
                                 "admin_chat_ids": [ADMIN], "poll_timeout_s": 2},
                    "plugin_system": ps,
                    "plugins": {"passthru": {"enabled": True}, "tp_hostile": {"enabled": True}}}
        self.d = Daemon(self.cfg, tmp=self.tmp, env=ENV).start()

    def tearDown(self):
        code = None
        if self.d.proc and self.d.proc.poll() is None:
            code, _ = self.d.stop()
        self.d.cleanup()
        self.srv.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if code is not None:
            self.assertEqual(code, 0)

    def signal(self, plugin, comment="", action="buy"):
        st, body = self.d.post_json("/webhook", {"secret": "test-secret", "plugin": plugin, "action": action,
                                                 "symbol": "EURUSD", "price": 1.1, "comment": comment})
        self.assertEqual(st, 200, body)
        return body["results"][0]

    def ask(self, text, timeout=5.0):
        since = self.srv.last_seq()
        self.srv.push_message(ADMIN, text)
        note = re.compile(r"^(\w+ (opened|closed) #\d+ (BUY|SELL) |🚫 |⚠️ \w+ is (failed|disabled) with \d+ open)")
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and r["args"].get("chat_id") == ADMIN
                                 and not note.match(r["args"].get("text", "")), timeout=timeout, since=since)
        return rec["args"]["text"]

    def status_of(self, trade_id):
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix_tp_hostile.db"))
        try:
            return con.execute("SELECT status FROM trades WHERE id = ?", (trade_id,)).fetchone()[0]
        finally:
            con.close()

    def contained(self, attack, cause):
        r = self.signal("tp_hostile", "buy")
        self.assertEqual(r["status"], "handled", r)
        trade = r["trade_id"]
        since = self.srv.last_seq()
        r = self.signal("tp_hostile", attack)
        self.assertEqual(r["status"], "rejected", r)
        self.assertIn(cause, r["reason"])
        # the admin chat is told
        note = self.srv.wait_sent(lambda m: m["method"] == "sendMessage"
                                  and "plugin tp_hostile failed" in m["args"].get("text", ""), since=since)
        self.assertIn(cause, note["args"]["text"])
        # the daemon, the other plugin and the commands go on; the trade stays open
        self.assertEqual(self.status_of(trade), "OPEN")
        self.assertEqual(self.signal("passthru")["status"], "executed")
        self.assertIn("failed", self.ask("/plugins"))
        self.assertEqual(self.signal("tp_hostile")["status"], "skipped")
        # recoverable
        self.assertIn("enabled", self.ask("/enable_plugin tp_hostile"))
        self.assertEqual(self.signal("tp_hostile")["status"], "executed")
        self.signal("tp_hostile", attack)
        self.assertIn("6.6.6", self.ask("/reload_plugin tp_hostile"))
        self.assertEqual(self.signal("tp_hostile", action="close")["status"], "executed")



class Isolation(Base):
    def test_segfault_is_contained(self):
        self.contained("segv", "during on_signal_received" if SANITIZED else "SIGSEGV")

    def test_endless_loop_is_stopped_at_the_deadline(self):
        self.contained("loop", "did not answer on_signal_received within 200 ms")

    def test_system_is_killed_by_the_filter(self):
        self.contained("system", "seccomp")


class Doors(Base):
    """The doors of the daemon's process, terminal and log (issue 14): each is
    closed in the child the daemon starts, the daemon answers on."""

    def wait_log(self, pattern, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(pattern, self.d.log(), re.M)
            if m:
                return m
            time.sleep(0.05)
        self.fail("%r not in the log:\n%s" % (pattern, self.d.log()[-3000:]))

    def test_owner_and_async_signal_on_its_socket_kill_the_plugin_not_the_daemon(self):
        # F_SETOWN(getppid()) + F_SETSIG(SIGKILL) + O_ASYNC on fd 3: the next write
        # of the daemon would have killed it.
        self.contained("sigio", "seccomp")
        st, _, _ = self.d.get("/healthz")
        self.assertEqual(st, 200)
        self.assertIsNone(self.d.proc.poll())

    def test_ftruncate_of_stderr_is_refused_and_the_log_is_intact(self):
        before = self.d.log()
        self.assertIn("listening on", before)
        self.contained("ftruncate", "seccomp")
        self.assertTrue(self.d.log().startswith(before))

    def test_output_is_logged_with_its_id_and_cannot_forge_lines(self):
        self.assertEqual(self.signal("tp_hostile", "output")["reason"], "printed")
        self.wait_log(r"INFO  plugin tp_hostile: hello from stdout$")
        self.wait_log(r"INFO  plugin tp_hostile: hello from stderr$")
        self.wait_log(r"INFO  plugin tp_hostile: x\?2026-01-01T00:00:00.000Z ERROR app: forged line$")
        self.assertNotRegex(self.d.log(), r"(?m)^2026-01-01T00:00:00.000Z")

    def test_an_output_flood_is_rate_limited_and_does_not_stall_the_loop(self):
        self.assertEqual(self.signal("tp_hostile", "flood")["reason"], "flooded")
        t0 = time.time()
        st, _, _ = self.d.get("/healthz", timeout=2)
        self.assertEqual(st, 200)
        self.assertLess(time.time() - t0, 2.0)
        self.wait_log(r"WARN  plugin tp_hostile: \d+ bytes of output dropped")
        self.assertEqual(self.signal("passthru")["status"], "executed")
        time.sleep(1.5)         # a paused pipe is read again after 1 s
        logged = len(re.findall(r"plugin tp_hostile: flood line", self.d.log()))
        self.assertGreater(logged, 0)
        self.assertLess(logged, 200)        # of 20000 written
        self.assertEqual(self.signal("tp_hostile")["status"], "executed")

    def test_the_child_has_only_the_descriptors_it_is_meant_to_have(self):
        r = self.signal("tp_hostile", "fds")
        n = int(r["reason"].split("=")[1])
        self.wait_log(r"plugin tp_hostile: fd %d -> " % 3)
        time.sleep(0.2)
        fds = dict((int(a), b) for a, b in re.findall(r"plugin tp_hostile: fd (\d+) -> (.*)$", self.d.log(), re.M))
        self.assertEqual(len(fds), n, fds)
        self.assertEqual(fds[0], "/dev/null")
        self.assertRegex(fds[1], r"^pipe:\[\d+\]$")
        self.assertEqual(fds[1], fds[2])
        self.assertRegex(fds[3], r"^socket:\[\d+\]$")
        db = os.path.realpath(os.path.join(self.tmp, "data", "zepix_tp_hostile.db"))
        for fd, target in fds.items():
            if fd > 3:      # its own database, its -wal and -shm: nothing else
                self.assertIn(target, (db, db + "-wal", db + "-shm"), fds)


class Terminal(unittest.TestCase):
    """The daemon on the operator's terminal (console chat on): a plugin's
    TIOCSTI types nothing, neither on its own descriptors nor on the console."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-tty-")
        pdir = plugin_dir(self.tmp, {"tp_hostile": "tp_hostile"})
        self.d = Daemon({"console": {"enabled": True}, "plugin_system": {"plugin_dir": pdir},
                         "plugins": {"tp_hostile": {"enabled": True}}}, tmp=self.tmp, env=ENV)
        self.d.write_config()
        self.master, slave = pty.openpty()
        self.out = b""
        self.d.proc = subprocess.Popen([BIN, "-c", self.d.config_path], stdin=slave, stdout=slave,
                                       stderr=slave, env=self.d.env, start_new_session=True,
                                       preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        self.d.log = lambda: self.out.decode(errors="replace")
        self.d.wait_healthy()

    def read(self):
        while True:
            try:
                b = os.read(self.master, 4096)
            except OSError:
                return
            if not b:
                return
            self.out += b

    def tearDown(self):
        code, _ = self.d.stop()
        os.close(self.master)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(code, 0)

    def wait_out(self, text, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end and text not in self.d.log():
            time.sleep(0.05)
        return text in self.d.log()

    def test_tiocsti_types_nothing_into_the_console(self):
        self.assertTrue(self.wait_out("zepix console"))
        st, j = self.d.post_json("/webhook", {"secret": "test-secret", "plugin": "tp_hostile", "action": "buy",
                                             "symbol": "EURUSD", "price": 1.1, "comment": "tiocsti"})
        self.assertEqual(st, 200, j)
        self.assertIn("seccomp", j["results"][0]["reason"])
        # the console is live: what the operator types runs ...
        os.write(self.master, b"/status\n")
        self.assertTrue(self.wait_out("Trading: "), self.d.log()[-2000:])
        self.assertIn("active", self.d.log().split("Trading: ")[-1][:40])
        # ... and nothing was typed for the plugin: trading is not paused
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix.db"))
        try:
            row = con.execute("SELECT value FROM kv WHERE key = 'paused'").fetchone()
        finally:
            con.close()
        self.assertTrue(row is None or row[0] != "1", row)
        self.assertNotIn("Trading paused", self.d.log())


class NoneMode(Base):
    """isolation "none": the same segfault is not contained (documented)."""
    iso = "none"

    def test_a_segfault_takes_the_whole_daemon_down(self):
        st = None
        try:
            st, _ = self.d.post_json("/webhook", {"secret": "test-secret", "plugin": "tp_hostile",
                                                  "action": "buy", "symbol": "EURUSD", "comment": "segv"})
        except OSError:
            pass
        self.assertIsNone(st)
        self.assertEqual(self.d.proc.wait(timeout=10), 1 if SANITIZED else -11)     # SIGSEGV


if __name__ == "__main__":
    unittest.main()
