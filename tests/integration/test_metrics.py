"""GET /metrics as a Prometheus user relies on it: the live output passes
`promtool check metrics`, the example alert rules pass `promtool check rules`,
and the operator gauges say what is true (plugin state, open trades and
floating profit per plugin, pause, last signal time, the MT5 terminal going
online). promtool comes with Debian's prometheus package (scripts/install-deps.sh
installs it when apt has it); without it those two checks skip with a clear line."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_ea import FakeEA  # noqa: E402
from zx import ROOT, Daemon, plugin_dir  # noqa: E402

PROMTOOL = shutil.which("promtool")
RULES = os.path.join(ROOT, "scripts", "prometheus", "zepix.rules.yml")
SECRET = "test-secret"


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def get(s, name, **labels):
    return s[(name, frozenset(labels.items()))]


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zepix-met-")
        pdir = plugin_dir(cls.tmp, {"passthru": "passthru", "tp_initfail": "tp_initfail"})
        cls.d = Daemon({"plugin_system": {"plugin_dir": pdir},
                        "plugins": {"passthru": {"enabled": True}, "tp_initfail": {"enabled": True}}},
                       tmp=cls.tmp).start()
        cls.t0 = time.time()
        st, body = cls.d.post_json("/webhook", {"secret": SECRET, "plugin": "passthru", "action": "buy",
                                                "symbol": "EURUSD", "price": 1.1, "lot": 0.1})
        assert st == 200 and body["results"][0]["status"] == "executed", body
        st, body = cls.d.post_json("/price", {"secret": SECRET, "symbol": "EURUSD", "bid": 1.1012, "ask": 1.1013})
        assert st == 200, body
        st, _, raw = cls.d.get("/metrics")
        assert st == 200
        cls.text = raw.decode()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @unittest.skipUnless(PROMTOOL, "promtool not installed (Debian package prometheus): skipping promtool check metrics")
    def test_live_metrics_pass_promtool_check_metrics(self):
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=self.text.encode(), capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, (p.stdout + p.stderr).decode() + self.text)
        self.assertEqual((p.stdout + p.stderr).decode().strip(), "", "promtool lint findings")

    @unittest.skipUnless(PROMTOOL, "promtool not installed (Debian package prometheus): skipping promtool check rules")
    def test_example_alert_rules_pass_promtool_check_rules(self):
        p = subprocess.run([PROMTOOL, "check", "rules", RULES], capture_output=True, timeout=60)
        out = (p.stdout + p.stderr).decode()
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("SUCCESS", out)
        # Every metric the rules use is one the daemon exposes (or Prometheus' own `up`).
        with open(RULES) as f:
            used = set(re.findall(r"\b(zepix_[a-z0-9_]+)", f.read()))
        exposed = {n for n, _ in samples(self.text)}
        exposed |= {re.sub(r"_(bucket|sum|count)$", "", n) for n in exposed}
        exposed.add("zepix_mt5_terminal_online")        # broker mt5 only: Mt5Online below
        self.assertEqual(used - exposed, set(), "rules use metrics the daemon does not expose")

    def test_plugin_state_open_trades_and_floating_profit(self):
        s = samples(self.text)
        self.assertEqual(get(s, "zepix_plugin_state", plugin="passthru", state="enabled"), 1)
        self.assertEqual(get(s, "zepix_plugin_state", plugin="passthru", state="failed"), 0)
        self.assertEqual(get(s, "zepix_plugin_state", plugin="tp_initfail", state="failed"), 1)
        self.assertEqual(get(s, "zepix_plugin_open_trades", plugin="passthru"), 1)
        self.assertEqual(get(s, "zepix_plugin_open_trades", plugin="tp_initfail"), 0)
        self.assertEqual(get(s, "zepix_open_trades"), 1)
        # Bought 0.1 lot at 1.1, bid now 1.1012: 12 pips of 1 unit = 12.00.
        self.assertAlmostEqual(get(s, "zepix_plugin_floating_profit", plugin="passthru"), 12.0, places=2)
        self.assertEqual(get(s, "zepix_plugin_floating_profit", plugin="tp_initfail"), 0)

    def test_signal_time_pause_and_queue_gauges(self):
        s = samples(self.text)
        last = get(s, "zepix_last_signal_timestamp_seconds")
        self.assertTrue(self.t0 - 5 <= last <= time.time() + 1, last)
        self.assertLessEqual(get(s, "zepix_start_time_seconds"), last)
        self.assertEqual(get(s, "zepix_trading_paused"), 0)
        self.assertEqual(get(s, "zepix_plugin_paused", plugin="passthru"), 0)
        self.assertEqual(get(s, "zepix_telegram_queue_depth"), 0)
        self.assertNotIn("zepix_mt5_terminal_online", self.text)      # paper broker: no terminal
        self.assertEqual(get(s, "zepix_signals_total", source="webhook", outcome="journaled"), 1)


class RiskPause(unittest.TestCase):
    def test_a_tripped_plugin_risk_limit_shows_as_paused(self):
        tmp = tempfile.mkdtemp(prefix="zepix-metr-")
        pdir = plugin_dir(tmp, {"passthru": "passthru", "tp_ok": "tp_ok"})
        d = Daemon({"plugin_system": {"plugin_dir": pdir},
                    "plugins": {"passthru": {"enabled": True}, "tp_ok": {"enabled": True}},
                    "risk": {"per_plugin": {"passthru": {"max_daily_loss": 5}}}}, tmp=tmp).start()
        try:
            def buy():
                return d.post_json("/webhook", {"secret": SECRET, "plugin": "passthru", "action": "buy",
                                                "symbol": "EURUSD", "price": 1.1, "lot": 0.1})
            self.assertEqual(buy()[1]["results"][0]["status"], "executed")
            s = samples(d.get("/metrics")[2].decode())
            self.assertEqual(get(s, "zepix_plugin_paused", plugin="passthru"), 0)
            d.post_json("/price", {"secret": SECRET, "symbol": "EURUSD", "bid": 1.099, "ask": 1.099})
            st, j = buy()                        # floating -10 > 5: refused, and the plugin pauses
            self.assertIn("risk:", json.dumps(j))
            s = samples(d.get("/metrics")[2].decode())
            self.assertEqual(get(s, "zepix_plugin_paused", plugin="passthru"), 1)
            self.assertEqual(get(s, "zepix_plugin_paused", plugin="tp_ok"), 0)
            self.assertEqual(get(s, "zepix_trading_paused"), 0)
            self.assertEqual(get(s, "zepix_risk_paused"), 0)
        finally:
            d.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)


class Mt5Online(unittest.TestCase):
    def test_terminal_online_gauge_follows_the_polls(self):
        tmp = tempfile.mkdtemp(prefix="zepix-met5-")
        d = Daemon({"broker": {"kind": "mt5", "mt5": {"secret": "mt5-s", "poll_hold_ms": 100,
                                                      "stale_after_s": 10}}}, tmp=tmp).start()
        ea = None
        try:
            self.assertIn("zepix_mt5_terminal_online 0\n", d.get("/metrics")[2].decode())
            ea = FakeEA(d.base, "mt5-s")
            ea.set_quote("EURUSD", 1.1, 1.1001)
            ea.start()
            end = time.time() + 5
            while ea.polls < 1 and time.time() < end:
                time.sleep(0.02)
            self.assertIn("zepix_mt5_terminal_online 1\n", d.get("/metrics")[2].decode())
        finally:
            if ea:
                ea.stop()
            d.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
