"""The product's acceptance test: the README's configuration, as a trader meets it.

config/zepix.json exactly as shipped, with only webhook.listen (a free port) and
plugin_system.data_dir (a temporary directory) changed, run the way `make run`
runs it: from the checkout, the default isolation ("process"), the console on a
terminal (a pty that is the daemon's controlling terminal), under a parent that
waits for it as make does. Each shipped plugin gets the alerts its README says it
accepts, and its trade rows are checked in its own database. Ctrl-C typed on the
terminal stops it cleanly (exit 0, plugins shut down through their hook, no crash
line, the parent not interrupted); then it starts again on the data dir it left
and trades again; a SIGTERM to the whole process group (systemd's stop) is clean
too.
"""
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import termios
import time
import unittest

from zx import BIN, ROOT, free_port, http

CRASH_WORDS = ("crashed", "killed by the seccomp", "forbidden system call", "ERROR")


def shipped_config(port, data_dir):
    with open(os.path.join(ROOT, "config", "zepix.json")) as f:
        cfg = json.load(f)
    cfg["webhook"]["listen"] = "127.0.0.1:%d" % port
    cfg["plugin_system"]["data_dir"] = data_dir
    return cfg


def ledger(data_dir, pid):
    con = sqlite3.connect("file:%s/zepix_%s.db?mode=ro" % (data_dir, pid), uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM trades ORDER BY id")]
    finally:
        con.close()


def session_pids(sid):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:       # field 6 of stat: the session id
                pids.append(int(d))
    return pids


class Run:
    """build/zepix under `sh -c` (a parent that waits, as make does), with a pty
    as its controlling terminal and stdin/stdout, stderr to a log file."""

    def __init__(self, tmp, port, n):
        self.tmp, self.port = tmp, port
        self.log_path = os.path.join(tmp, "zepix.%d.log" % n)
        self.status_path = os.path.join(tmp, "status")
        self.cfg_path = os.path.join(tmp, "zepix.json")
        self.master, slave = pty.openpty()

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        # The parent ignores SIGTERM so that it outlives a SIGTERM to every
        # process and reports the daemon's exit status (systemd reads it itself).
        script = 'trap "" TERM; "$0" -c "$1" 2>>"$2"; echo "$?" > "$3"'
        if os.path.exists(self.status_path):
            os.unlink(self.status_path)
        self.proc = subprocess.Popen(["sh", "-c", script, BIN, self.cfg_path, self.log_path, self.status_path],
                                     cwd=ROOT, stdin=slave, stdout=slave, stderr=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=ctty)
        os.close(slave)
        self.out = b""

    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def wait_healthy(self, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError("zepix exited:\n" + self.log())
            try:
                if http("GET", self.base() + "/healthz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("zepix did not become healthy:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def read_until(self, needle, timeout=5.0):
        end = time.time() + timeout
        while needle not in self.out:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("no %r on the terminal: %r\nlog:\n%s" % (needle, self.out, self.log()))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    self.out += os.read(self.master, 4096)
                except OSError:
                    break
        return self.out

    def type(self, line):
        os.write(self.master, line.encode() + b"\n")

    def post(self, path, body):
        if not isinstance(body, str):
            body = json.dumps(body)
        st, _, b = http("POST", self.base() + path, body, {"Content-Type": "text/plain"})
        return st, json.loads(b)

    def quote(self, bid, ask):
        st, j = self.post("/price", {"symbol": "EURUSD", "bid": bid, "ask": ask})
        assert st == 200, j

    def exit_status(self, timeout=5.0):
        """The daemon's exit status as its parent saw it (None: still running)."""
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        try:
            with open(self.status_path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


class ShippedProduct(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-accept-")
        self.data = os.path.join(self.tmp, "data")
        self.port = free_port()
        with open(os.path.join(self.tmp, "zepix.json"), "w") as f:
            json.dump(shipped_config(self.port, self.data), f)
        self.run_ = None
        self.runs = 0

    def tearDown(self):
        if self.run_:
            self.run_.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self):
        self.runs += 1
        self.run_ = Run(self.tmp, self.port, self.runs)
        self.run_.wait_healthy()
        self.run_.read_until(b"type /help")
        return self.run_

    def assert_clean_stop(self, r, what):
        self.assertEqual(r.exit_status(), 0, "%s: exit status\n%s" % (what, r.log()))
        log = r.log()
        for word in CRASH_WORDS:
            self.assertNotIn(word, log, "%s: %r in the log" % (what, word))
        self.assertIn("plugin combined_v3: shutdown", log)   # its own hook, through the API's log
        self.assertIn("plugin price_action_v6: shutdown", log)

    def combined_v3_round(self, r, bid, action):
        """combined_v3 (README, Signals): a TradingView JSON alert with an exchange
        prefix, a quoted price and an order id with a space; no SL/TP/lot: the
        plugin adds its default 20/40-pip stops and sizes 1 % risk (0.50 lot)."""
        ask = round(bid + 0.0002, 5)
        r.quote(bid, ask)
        entry = ask if action == "buy" else bid
        st, j = r.post("/webhook", {"plugin": "combined_v3", "action": action, "symbol": "FX:EURUSD",
                                    "price": "%.5f" % entry, "id": "Long Entry %s" % bid})
        self.assertEqual(st, 200, j)
        res = j["results"][0]
        self.assertEqual(res["status"], "executed", j)
        t = [x for x in ledger(self.data, "combined_v3") if x["id"] == res["trade_id"]][0]
        side = 1 if action == "buy" else -1
        self.assertEqual(t["symbol"], "EURUSD")
        self.assertEqual(t["direction"], action.upper())
        self.assertEqual(t["status"], "OPEN")
        self.assertAlmostEqual(t["entry_price"], entry, places=6)
        self.assertAlmostEqual(t["sl_price"], entry - side * 0.0020, places=6)
        self.assertAlmostEqual(t["tp_price"], entry + side * 0.0040, places=6)
        self.assertAlmostEqual(t["lot_size"], 0.50, places=6)
        return t

    def price_action_round(self, r, start):
        """price_action_v6 (README, Ticks/Signals): a buy is taken only after a run
        of 3 rising ticks, sampled at each signal; the first three are rejected
        with the README's reason, the fourth opens 0.50 lot with 20-pip SL, rr 2."""
        answers = []
        for i in range(4):
            bid = round(start + i * 0.0001, 5)
            r.quote(bid, round(bid + 0.0002, 5))
            st, j = r.post("/webhook", "price_action_v6 buy EURUSD")
            self.assertEqual(st, 200, j)
            answers.append(j["results"][0])
        for a in answers[:3]:
            self.assertEqual(a["status"], "rejected", answers)
            self.assertIn("not confirmed by price action", a["reason"])
        self.assertEqual(answers[3]["status"], "executed", answers)
        t = [x for x in ledger(self.data, "price_action_v6") if x["id"] == answers[3]["trade_id"]][0]
        ask = round(start + 3 * 0.0001 + 0.0002, 5)
        self.assertEqual((t["symbol"], t["direction"], t["status"]), ("EURUSD", "BUY", "OPEN"))
        self.assertAlmostEqual(t["entry_price"], ask, places=6)
        self.assertAlmostEqual(t["sl_price"], ask - 0.0020, places=6)
        self.assertAlmostEqual(t["tp_price"], ask + 0.0040, places=6)
        self.assertAlmostEqual(t["lot_size"], 0.50, places=6)
        return t

    def test_readme_config_trades_every_shipped_plugin_across_a_restart(self):
        r = self.start()
        # The shipped config enables combined_v3 only; the trader enables the
        # other from the console, and that state is kept across the restart.
        r.type("/enable_plugin price_action_v6")
        r.read_until(b"enabled")
        first = self.combined_v3_round(r, 1.10000, "buy")
        pa = self.price_action_round(r, 1.10100)
        # close the combined_v3 trade at a better quote: booked with its profit
        r.quote(1.10300, 1.10302)
        st, j = r.post("/webhook", "combined_v3 close EURUSD")
        self.assertEqual((st, j["results"][0]["status"]), (200, "executed"), j)
        t = [x for x in ledger(self.data, "combined_v3") if x["id"] == first["id"]][0]
        self.assertEqual(t["status"], "CLOSED", t)
        self.assertAlmostEqual(t["profit_pips"], (1.10300 - 1.10020) / 0.0001, places=3, msg=t)

        os.write(r.master, b"\x03")          # Ctrl-C on the terminal
        self.assert_clean_stop(r, "Ctrl-C")
        r.close()

        # The next start, on the data it left.
        r = self.start()
        self.assertIn("price_action_v6 6.0.0 loaded, enabled", r.log())
        second = self.combined_v3_round(r, 1.10500, "sell")
        self.assertNotEqual(second["id"], first["id"])
        rows = ledger(self.data, "combined_v3")
        self.assertEqual([x["status"] for x in rows], ["CLOSED", "OPEN"])
        # price_action_v6 still holds its BUY: one trade per symbol (README rule 3)
        st, j = r.post("/webhook", "price_action_v6 buy EURUSD")
        self.assertEqual(j["results"][0]["status"], "rejected", j)
        self.assertIn("already holding", j["results"][0]["reason"])
        st, j = r.post("/webhook", "price_action_v6 close EURUSD")
        self.assertEqual(j["results"][0]["status"], "executed", j)
        self.assertEqual([x["status"] for x in ledger(self.data, "price_action_v6")], ["CLOSED"])
        self.assertEqual(ledger(self.data, "price_action_v6")[0]["id"], pa["id"])

        # systemd's stop: SIGTERM to every process of the unit (here: the session)
        pids = session_pids(r.proc.pid)
        self.assertGreaterEqual(len(pids), 4, pids)   # sh, zepix, two plugin hosts
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass                        # gone already (a child that just exited)
        self.assert_clean_stop(r, "SIGTERM to the process group")


if __name__ == "__main__":
    unittest.main()
