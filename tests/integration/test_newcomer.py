"""The traps a newcomer fell into (issue #12), each through the real build/zepix:
a typo in plugins.<id>, a plugin without max_lot_size, pips typed as a price,
an unfilled placeholder, TradingView ids with spaces, a second daemon on the
same data dir or port, a plugin directory dropped in while running, symbols
without metadata and in the broker's case, the fill price a trader is told,
/stats with break-even trades or a wrong period, a refused reload's reason,
/positions with SL/TP, and the template README's console example."""
import json
import os
import pty
import re
import select
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from zx import BIN, BUILD, ROOT, Daemon, base_config, free_port, plugin_dir, run_cli

SECRET = "test-secret"


def trades(d, plugin="passthru"):
    con = sqlite3.connect("file:%s/data/zepix_%s.db?mode=ro" % (d.tmp, plugin), uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM trades ORDER BY id")]
    finally:
        con.close()


class ConsoleDaemon(Daemon):
    """A Daemon whose console is a pty: type() a command, reply() reads the answer."""

    def start(self, wait=True):
        self.write_config()
        self.logf = open(self.log_path, "ab")
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([BIN, "-c", self.config_path], cwd=ROOT, stdin=slave, stdout=slave,
                                     stderr=self.logf, env=self.env)
        os.close(slave)
        self.out = b""
        self.wait_healthy()
        self.until(b"type /help")
        return self

    def until(self, needle, timeout=5.0):
        end = time.time() + timeout
        while needle not in self.out:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("no %r on the console: %r" % (needle, self.out[-2000:]))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:
                    break
        return self.out

    def ask(self, line, timeout=5.0):
        """The console's answer to one command: what it printed until it went quiet."""
        mark = len(self.out)
        os.write(self.master, line.encode() + b"\n")
        end = time.time() + timeout
        quiet_since = None
        while time.time() < end:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:
                    break
                quiet_since = None
            elif len(self.out) > mark + len(line) + 2:
                quiet_since = quiet_since or time.time()
                if time.time() - quiet_since > 0.3:
                    break
        text = self.out[mark:].decode(errors="replace")
        return text.split(line, 1)[-1] if line in text else text

    def cleanup(self):
        super().cleanup()
        try:
            os.close(self.master)
        except OSError:
            pass


def passthru(tmp, plugins_cfg=None, symbols=None, cls=Daemon, start=True):
    pdir = plugin_dir(tmp, {"passthru": "passthru"})
    over = {"plugin_system": {"plugin_dir": pdir},
            "plugins": plugins_cfg if plugins_cfg is not None else {"passthru": {"enabled": True}}}
    if symbols:
        over["symbols"] = symbols
    d = cls(over, tmp=tmp)
    return d.start() if start else d


class Config(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-new-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_unknown_plugin_id_in_plugins_is_a_config_error_naming_it(self):
        cfg = base_config(self.tmp, free_port())
        cfg["plugins"] = {"combinedv3": {"enabled": True, "max_lot_size": 0.1}}
        path = os.path.join(self.tmp, "zepix.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        code, out, err = run_cli(["--check-config", "-c", path])
        self.assertEqual(code, 2, out + err)
        self.assertIn("plugins.combinedv3: no such plugin", err)
        p = subprocess.run([BIN, "-c", path], cwd=ROOT, capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"plugins.combinedv3", p.stderr)

    def test_config_syntax_error_gives_line_and_column(self):
        path = os.path.join(self.tmp, "zepix.json")
        with open(path, "w") as f:
            f.write('{\n  "webhook": {\n    "path": "/x"\n    "secret": "s"\n  }\n}\n')
        code, out, err = run_cli(["--check-config", "-c", path])
        self.assertEqual(code, 2)
        self.assertIn("zepix.json:4:", err)


class Signals(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-new-")
        self.d = None

    def tearDown(self):
        if self.d:
            code, _ = self.d.stop()
            self.d.cleanup()
            self.assertEqual(code, 0)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sig(self, body, status=200):
        if isinstance(body, dict):
            body = dict(body, secret=SECRET)
            st, _, b = self.d.post("/webhook", json.dumps(body))
        else:
            st, _, b = self.d.post("/webhook", body + " secret=" + SECRET, ctype="text/plain")
        j = json.loads(b)
        self.assertEqual(st, status, j)
        return j

    def quote(self, sym, bid, ask):
        st, j = self.d.post_json("/price", {"secret": SECRET, "symbol": sym, "bid": bid, "ask": ask})
        self.assertEqual(st, 200, j)

    def test_a_plugin_without_max_lot_size_is_capped_at_one_lot_and_the_answer_says_so(self):
        self.d = passthru(self.tmp)
        j = self.sig("passthru buy EURUSD price=1.1 lot=5")
        r = j["results"][0]
        self.assertEqual(r["status"], "executed", j)
        self.assertIn("lot capped at max_lot_size 1.00 (asked 5.00)", r["reason"])
        self.assertAlmostEqual(trades(self.d)[0]["lot_size"], 1.0)

    def test_pips_typed_as_a_price_and_unfilled_placeholders_are_refused(self):
        self.d = passthru(self.tmp)
        j = self.sig("sell EURUSD price=1.08512 sl=20", 400)
        self.assertIn("sl: 20 is", j["error"])
        self.assertIn("sl_pips", j["error"])
        j = self.sig({"action": "buy", "symbol": "EURUSD", "price": "1.1", "sl": ""}, 400)
        self.assertIn("sl: empty value", j["error"])
        # no quote yet and no price: the stop is checked once there is one
        self.quote("EURUSD", 1.08500, 1.08510)
        j = self.sig("buy EURUSD tp=1.5", 400)
        self.assertIn("tp: 1.5 is", j["error"])
        self.assertEqual(trades(self.d), [])

    def test_pip_distances_are_measured_from_the_fill(self):
        self.d = passthru(self.tmp)
        self.quote("EURUSD", 1.10000, 1.10020)
        j = self.sig({"action": "sell", "symbol": "EURUSD", "sl_pips": "20", "tp_pips": 40})
        self.assertEqual(j["results"][0]["status"], "executed", j)
        t = trades(self.d)[0]
        self.assertAlmostEqual(t["entry_price"], 1.10000)
        self.assertAlmostEqual(t["sl_price"], 1.10200)
        self.assertAlmostEqual(t["tp_price"], 1.09600)
        self.quote("USDJPY", 150.00, 150.02)
        j = self.sig("buy USDJPY sl_pips=25")
        t = trades(self.d)[-1]
        self.assertAlmostEqual(t["sl_price"], 150.02 - 0.25)

    def test_tradingview_order_ids_with_spaces_are_idempotent_keys(self):
        self.d = passthru(self.tmp)
        j1 = self.sig({"action": "buy", "symbol": "EURUSD", "price": 1.1, "id": "Long Entry"})
        j2 = self.sig({"action": "buy", "symbol": "EURUSD", "price": 1.1, "id": "Long Entry"})
        self.assertEqual(j1["results"][0]["status"], "executed")
        self.assertTrue(j2["duplicate"])
        j3 = self.sig('close EURUSD id="Long Exit 1"')
        j4 = self.sig('close EURUSD id="Long Exit 1"')
        self.assertFalse(j3["duplicate"])
        self.assertTrue(j4["duplicate"])
        self.assertEqual(len(trades(self.d)), 1)

    def test_symbols_without_metadata_are_refused_and_the_broker_case_is_kept(self):
        self.d = passthru(self.tmp, symbols={"EURUSD": {"pip_size": 0.0001, "contract_size": 100000},
                                             "XAUUSD": {"pip_size": 0.01, "contract_size": 100},
                                             "EURUSD.pro": {"pip_size": 0.0001, "contract_size": 100000}})
        j = self.sig("buy US30 price=39000 lot=0.01", 400)
        self.assertIn("symbol: US30 is not configured", j["error"])
        # gold valued on its own contract: 0.01 lot, +1.00 move = +1.00
        self.sig("buy xauusd price=2000 lot=0.01")
        self.quote("XAUUSD", 2001.0, 2001.0)
        self.sig("close XAUUSD")
        t = trades(self.d)[0]
        self.assertEqual(t["symbol"], "XAUUSD")
        self.assertAlmostEqual(t["profit_dollars"], 1.00)
        # the broker's spelling, whatever case the alert used
        self.sig({"action": "buy", "symbol": "FX:eurusd.PRO", "price": 1.1})
        self.assertEqual(trades(self.d)[-1]["symbol"], "EURUSD.pro")
        self.quote("EURUSD.PRO", 1.2, 1.2)
        self.assertEqual(trades(self.d)[-1]["symbol"], "EURUSD.pro")

    def test_the_answer_says_which_price_was_used(self):
        self.d = passthru(self.tmp)
        self.quote("EURUSD", 1.08590, 1.08600)
        j = self.sig("buy EURUSD price=1.08000")
        self.assertIn("filled at 1.086, the ask of the last quote (not the signal's price)",
                      j["results"][0]["reason"])


class Daemons(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-new-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_one_daemon_per_data_dir_and_a_busy_port_fails_before_plugins_start(self):
        d = passthru(self.tmp)
        try:
            second = Daemon(dict(d.config, webhook=dict(d.config["webhook"], listen="127.0.0.1:%d" % free_port())),
                            tmp=self.tmp)
            second.config_path = os.path.join(self.tmp, "second.json")
            second.log_path = os.path.join(self.tmp, "second.log")
            second.start(wait=False)
            self.assertEqual(second.proc.wait(10), 1)
            self.assertIn("is in use by another zepix (pid %d)" % d.proc.pid, second.log())
            self.assertEqual(d.get("/healthz")[0], 200)
            # same port, another data dir: refused before any plugin ran on it
            other = tempfile.mkdtemp(prefix="zepix-new2-")
            try:
                third = Daemon(d.config, tmp=other, port=d.port)
                third.config["plugin_system"] = dict(d.config["plugin_system"], data_dir=os.path.join(other, "data"))
                third.start(wait=False)
                self.assertEqual(third.proc.wait(10), 1)
                self.assertIn("webhook.listen", third.log())
                self.assertFalse(os.path.exists(os.path.join(other, "data", "zepix_passthru.db")))
                self.assertNotIn("plugin passthru", third.log())
            finally:
                shutil.rmtree(other, ignore_errors=True)
        finally:
            d.stop()
            d.cleanup()
        # the lock goes with the daemon, also after kill -9
        d = passthru(self.tmp)
        d.kill9()
        d = passthru(self.tmp)
        d.stop()
        d.cleanup()


class Chat(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-new-")
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, **kw):
        over = {"console": {"enabled": True}}
        over.update(kw)
        self.d = ConsoleDaemon(over, tmp=self.tmp).start()
        return self.d

    def test_a_plugin_directory_dropped_in_is_found_by_reload(self):
        pdir = plugin_dir(self.tmp, {"passthru": "passthru"})
        d = self.start(plugin_system={"plugin_dir": pdir}, plugins={"passthru": {"enabled": True}})
        self.assertIn("Unknown plugin tp_ok", d.ask("/reload_plugin tp_ok"))
        plugin_dir(self.tmp, {"tp_ok": "tp_ok"})
        out = d.ask("/reload_plugin tp_ok")
        self.assertIn("New plugin tp_ok 1.0.0 loaded (disabled)", out)
        self.assertIn("enabled", d.ask("/enable_plugin tp_ok"))
        self.assertIn("tp_ok: executed", d.ask("/signal tp_ok buy EURUSD price=1.1"))

    def test_stats_counts_flat_trades_and_names_the_periods(self):
        pdir = plugin_dir(self.tmp, {"passthru": "passthru"})
        d = self.start(plugin_system={"plugin_dir": pdir}, plugins={"passthru": {"enabled": True}})
        for _ in range(2):
            self.assertIn("executed", d.ask("/signal passthru buy EURUSD price=1.1"))
            self.assertIn("executed", d.ask("/signal passthru close EURUSD price=1.1"))
        out = d.ask("/stats passthru")
        self.assertIn("2 flat", out)
        out = d.ask("/stats yesterday")
        self.assertIn("Unknown plugin yesterday, and not a period either", out)
        self.assertIn("today, week, month, all", out)

    def test_positions_show_sl_and_tp(self):
        pdir = plugin_dir(self.tmp, {"passthru": "passthru"})
        d = self.start(plugin_system={"plugin_dir": pdir}, plugins={"passthru": {"enabled": True}})
        self.assertIn("executed", d.ask("/signal passthru buy EURUSD price=1.1 sl=1.095 tp=1.11"))
        out = d.ask("/positions")
        self.assertIn("sl 1.095 tp 1.11", out)
        self.assertNotIn("not managed", out)
        d.ask("/disable_plugin passthru")
        self.assertIn("passthru ⚠️ disabled: its trades are not managed", d.ask("/positions"))

    def test_partial_close_and_the_journal_say_what_happened(self):
        pdir = plugin_dir(self.tmp, {"passthru": "passthru", "tp_ok": "tp_ok"})
        d = self.start(plugin_system={"plugin_dir": pdir},
                       plugins={"passthru": {"enabled": True}, "tp_ok": {"enabled": True}})
        self.assertIn("executed", d.ask("/signal passthru buy EURUSD price=1.1 lot=0.5"))
        self.assertIn("#1 (0.20 lot) closed", d.ask("/close passthru 1 lot=0.2"))
        self.assertIn("#1 (0.15 lot) closed", d.ask("/close passthru 1 pct=50"))
        self.assertAlmostEqual(trades(d)[0]["lot_size"], 0.15)
        self.assertIn("lot=abc: expected a number", d.ask("/close passthru 1 lot=abc"))
        self.assertIn("rejected", d.ask("/signal tp_ok buy EURUSD price=1.1 comment=reject"))
        out = d.ask("/journal 1")
        self.assertNotIn("<b>", out)       # markup, not text: the console shows none
        self.assertIn("console: buy EURUSD", out)
        self.assertIn("tp_ok: rejected (told to reject)", out)
        self.assertNotIn("passthru", out)
        self.assertIn("passthru: executed #1", d.ask("/journal 50 passthru"))

    def test_a_refused_reload_shows_the_plugins_own_reason(self):
        d = self.start(plugins={"combined_v3": {"enabled": True, "partial_close_fraction": 1.5}})
        out = d.ask("/reload_plugin combined_v3")
        self.assertIn("init failed (returned -1): ", out)
        self.assertIn("partial_close_fraction", out)

    def test_the_template_readme_console_example_works(self):
        with open(os.path.join(ROOT, "plugins", "_template", "README.md")) as f:
            readme = f.read()
        part = readme[readme.index("Then try it live"):]
        lines = [c for c in re.findall(r"`(/[^`]+)`", part)]
        self.assertGreaterEqual(len(lines), 3, lines)
        from test_plugin_author import build
        pdir = os.path.join(self.tmp, "plugins")
        build(os.path.join(ROOT, "plugins", "_template"), os.path.join(pdir, "my_id", "plugin.so"), "my_id")
        d = self.start(plugin_system={"plugin_dir": pdir})
        for line in lines:
            out = d.ask(line)
            self.assertNotIn("❌", out, (line, out))
            self.assertNotIn("skipped", out, (line, out))
            if line.startswith("/signal"):
                self.assertIn("my_id: executed", out)
            if line.startswith("/positions"):
                self.assertIn("EURUSD", out)


if __name__ == "__main__":
    unittest.main()
