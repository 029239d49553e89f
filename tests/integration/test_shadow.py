"""Shadows (SPEC 12): /shadow runs the build on disk beside the live one, on
paper; /stats, /daily show both with how often they decided differently;
shadows survive a restart and a restart keeps the live build live although
plugin.so was rebuilt; /promote swaps the shadow's build in by hot reload;
/unshadow ends it; a crashing shadow costs the live plugin nothing; a shadow's
notifications are marked and muteable; its trades never count toward the live
risk limits and never reach the MT5 terminal. Every command through the fake
Bot API, with tp_flip, whose two builds decide differently."""
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_ea import FakeEA  # noqa: E402
from fake_telegram import FakeTelegram  # noqa: E402
from zx import BUILD, Daemon, plugin_dir, wait_for  # noqa: E402

TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
SECRET = "test-secret"
MT5_SECRET = "mt5-bridge-secret"
ENV = {"no_proxy": "*", "NO_PROXY": "*"}
# Lines that are notifications, not replies: trades, rejects, the shadow's.
NOTE = re.compile(r"^(\w+ (opened|closed) #\d+ (BUY|SELL) |🚫 |⚠️ \w+ is (failed|disabled) with \d+ open|👻 shadow)")


def rows(tmp, name, sql="SELECT * FROM trades ORDER BY id"):
    path = os.path.join(tmp, "data", "zepix_%s.db" % name)
    if not os.path.exists(path):
        return []
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql)]
    finally:
        con.close()


class Base(unittest.TestCase):
    broker = {"kind": "paper", "paper": {"balance": 10000, "spread_pips": 0}}
    plugins = {"tp_flip": "tp_flip"}
    extra = {}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-shd-")
        self.pdir = plugin_dir(self.tmp, self.plugins)
        self.srv = FakeTelegram(token=TOKEN).start()
        self.cfg = {"telegram": {"token": TOKEN, "api_base": self.srv.base_url, "admin_chat_ids": [ADMIN],
                                 "poll_timeout_s": 2},
                    "plugin_system": {"plugin_dir": self.pdir},
                    "plugins": {pid: {"enabled": True} for pid in self.plugins},
                    "broker": self.broker}
        self.cfg.update(self.extra)
        self.d = Daemon(self.cfg, tmp=self.tmp, env=ENV).start()

    def tearDown(self):
        code, _ = self.d.stop()
        self.d.cleanup()
        self.srv.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(code, 0)

    def ask(self, text, timeout=8.0):
        since = self.srv.last_seq()
        self.srv.push_message(ADMIN, text)
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and r["args"].get("chat_id") == ADMIN
                                 and not NOTE.match(r["args"].get("text", "")), timeout=timeout, since=since)
        return rec["args"]["text"]

    def signal(self, **kw):
        body = {"secret": SECRET, "plugin": "tp_flip"}
        body.update(kw)
        st, j = self.d.post_json("/webhook", body)
        self.assertEqual(st, 200, j)
        return j["results"][0]

    def new_build_on_disk(self, pid="tp_flip", name="tp_flip2"):
        shutil.copy(os.path.join(BUILD, "testplugins", name, "plugin.so"), os.path.join(self.pdir, pid, "plugin.so"))

    def shadow_notes(self, since=0):
        # notifications sent together are joined in one message: one line each
        return [line for r in self.srv.sent("sendMessage")[since:] for line in r["args"].get("text", "").split("\n")
                if line.startswith("👻 shadow")]

    def restart(self):
        code, _ = self.d.stop()
        self.assertEqual(code, 0)
        self.d = self.d.again().start()


class ShadowPaper(Base):
    extra = {"risk": {"max_open_trades": 1}}

    def test_shadow_restart_and_promote(self):
        self.new_build_on_disk()
        out = self.ask("/shadow tp_flip")
        self.assertIn("the build on disk (2.0.0) runs as a shadow beside the live 1.0.0", out)
        self.assertIn("has a shadow already", self.ask("/shadow tp_flip"))

        # build 1 (live) takes buys; build 2 (shadow) takes sells at 0.02
        self.assertEqual(self.signal(id="s1", action="sell", symbol="EURUSD", price=1.1)["status"], "rejected")
        r = self.signal(id="s2", action="buy", symbol="EURUSD", price=1.1)
        # the shadow's open sell does not count toward the live max_open_trades 1
        self.assertEqual(r["status"], "executed", r)
        live, shadow = rows(self.tmp, "tp_flip"), rows(self.tmp, "tp_flip.shadow")
        self.assertEqual([(t["direction"], t["lot_size"]) for t in live], [("BUY", 0.01)])
        self.assertEqual([(t["direction"], t["lot_size"]) for t in shadow], [("SELL", 0.02)])
        wait_for(lambda: any("👻 shadow of tp_flip rejected buy EURUSD: build 2 takes no buys" in n
                             for n in self.shadow_notes()), what="the shadow's marked reject")
        # a quote moves both: the shadow's sell and the live buy are valued
        st, _ = self.d.post_json("/price", {"secret": SECRET, "symbol": "EURUSD", "bid": 1.095, "ask": 1.095})
        self.assertEqual(st, 200)
        self.assertEqual(self.signal(id="s3", action="close", symbol="EURUSD", price=1.095)["status"], "executed")
        self.assertEqual(rows(self.tmp, "tp_flip.shadow")[0]["status"], "CLOSED")
        self.assertGreater(rows(self.tmp, "tp_flip.shadow")[0]["profit_dollars"], 0)

        stats = self.ask("/stats tp_flip")
        self.assertIn("tp_flip: live 1.0.0 vs shadow 2.0.0", stats)
        self.assertIn("decided differently: 2 of 3 signals", stats)
        self.assertRegex(stats, r"shadow +1 +100\.0")
        self.assertIn("tp_flip: live 1.0.0 vs shadow 2.0.0", self.ask("/daily"))

        # muted: the shadow's lines stop, the rest goes on
        self.assertIn("muted", self.ask("/mute shadow"))
        n = len(self.shadow_notes())
        self.signal(id="s4", action="buy", symbol="EURUSD", price=1.1)      # the shadow rejects again
        time.sleep(0.5)
        self.assertEqual(len(self.shadow_notes()), n)
        self.ask("/unmute shadow")

        # a restart with build 2 still on disk: build 1 stays live, the shadow comes back
        self.restart()
        stats = self.ask("/stats tp_flip")
        self.assertIn("tp_flip: live 1.0.0 vs shadow 2.0.0", stats)
        self.assertIn("decided differently: 3 of 4 signals", stats)
        self.assertEqual(self.signal(id="s5", action="sell", symbol="EURUSD", price=1.1)["status"], "rejected")

        # promote: build 2 goes live by hot reload, the shadow ends
        out = self.ask("/promote tp_flip")
        self.assertIn("tp_flip promoted: 1.0.0 → 2.0.0", out)
        self.assertIn("after 5 signals", out)
        self.assertNotIn("live 1.0.0 vs shadow", self.ask("/stats tp_flip"))
        self.assertEqual(self.signal(id="s6", action="buy", symbol="EURUSD", price=1.1)["status"], "rejected")
        self.assertIn("has no shadow", self.ask("/promote tp_flip"))
        # build 1 back on disk: a restart keeps the promoted build 2 live
        self.new_build_on_disk(name="tp_flip")
        self.restart()
        self.assertEqual(self.signal(id="s7", action="buy", symbol="EURUSD", price=1.1)["status"], "rejected")
        self.assertNotIn("vs shadow", self.ask("/stats tp_flip"))
        # /reload_plugin loads the disk build and says it differed
        out = self.ask("/reload_plugin tp_flip")
        self.assertIn("2.0.0 → 1.0.0", out)
        self.assertIn("/replay tp_flip", out)
        self.assertEqual(self.signal(id="s8", action="close", symbol="EURUSD", price=1.1)["status"], "executed")
        self.assertEqual(self.signal(id="s9", action="buy", symbol="EURUSD", price=1.1)["status"], "executed")

    def test_unshadow_and_a_crashing_shadow(self):
        self.new_build_on_disk()
        self.assertIn("has no shadow", self.ask("/unshadow tp_flip"))
        self.ask("/shadow tp_flip")
        # the shadow (build 2) dies on comment=crash; the live one does not notice
        r = self.signal(id="c1", action="buy", symbol="EURUSD", price=1.1, comment="crash")
        self.assertEqual(r["status"], "executed", r)
        wait_for(lambda: any("👻 shadow of tp_flip failed" in n for n in self.shadow_notes()),
                 what="the shadow's failure note")
        self.assertNotIn("⚠️ plugin tp_flip failed", " ".join(r["args"].get("text", "")
                                                             for r in self.srv.sent("sendMessage")))
        self.assertIn("enabled", self.ask("/plugins"))
        self.assertEqual(self.signal(id="c2", action="close", symbol="EURUSD", price=1.1)["status"], "executed")
        out = self.ask("/unshadow tp_flip")
        self.assertIn("the shadow of tp_flip ended after 2 signals", out)
        n = len(rows(self.tmp, "tp_flip.shadow"))
        self.signal(id="c3", action="sell", symbol="EURUSD", price=1.1)
        self.assertEqual(len(rows(self.tmp, "tp_flip.shadow")), n)
        # ended for good: a restart brings no shadow back
        self.restart()
        self.assertNotIn("vs shadow", self.ask("/stats tp_flip"))
        self.assertIn("Unknown plugin", self.ask("/shadow nobody"))


class ShadowMt5(Base):
    """With the MT5 bridge configured the shadow still trades on paper: no
    request of it ever reaches the terminal; the terminal's quotes reach it."""

    def requests(self):
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.tmp, "data", "zepix.db"), uri=True)
        try:
            return con.execute("SELECT plugin, trade_id, op FROM mt5_requests ORDER BY request_id").fetchall()
        finally:
            con.close()

    broker = {"kind": "mt5", "mt5": {"secret": MT5_SECRET, "poll_hold_ms": 500, "stale_after_s": 5}}
    plugins = {"passthru": "passthru"}

    def setUp(self):
        super().setUp()
        self.ea = FakeEA(self.d.base, MT5_SECRET)
        self.ea.set_quote("EURUSD", 1.10000, 1.10010)
        self.ea.start()
        wait_for(lambda: self.ea.polls >= 1, what="the first poll")

    def tearDown(self):
        super().tearDown()
        self.ea.stop()

    def test_a_shadow_never_reaches_the_terminal(self):
        self.assertIn("runs as a shadow", self.ask("/shadow passthru"))
        st, j = self.d.post_json("/webhook", {"secret": SECRET, "plugin": "passthru", "action": "buy",
                                              "symbol": "EURUSD", "lot": 0.1})
        self.assertEqual(st, 200, j)
        live_id = j["results"][0]["trade_id"]
        wait_for(lambda: rows(self.tmp, "passthru") and rows(self.tmp, "passthru")[0]["broker_state"] == "filled",
                 what="the live fill")
        shadow = rows(self.tmp, "passthru.shadow")
        self.assertEqual(len(shadow), 1)
        self.assertAlmostEqual(shadow[0]["entry_price"], 1.10010)   # the terminal's ask, on paper
        self.assertIsNone(shadow[0]["broker_state"])                # filled at once: never sent
        # the shadow closes on paper when the live one closes at the terminal
        st, j = self.d.post_json("/webhook", {"secret": SECRET, "plugin": "passthru", "action": "close",
                                              "symbol": "EURUSD"})
        self.assertEqual(st, 200, j)
        wait_for(lambda: rows(self.tmp, "passthru")[0]["status"] == "CLOSED", what="the live close")
        self.assertEqual(rows(self.tmp, "passthru.shadow")[0]["status"], "CLOSED")
        time.sleep(0.3)
        reqs = [rq for _, rq in self.ea.received]
        self.assertTrue(reqs)
        self.assertEqual({rq["comment"] for rq in reqs}, {"zx:passthru:%d" % live_id})
        self.assertEqual(sorted({(rq["request_id"], rq["op"]) for rq in reqs})[0][1], "open")
        self.assertEqual(len({rq["request_id"] for rq in reqs}), 2)      # one open, one close: the live trade's
        self.assertEqual(self.requests(), [("passthru", live_id, "open"), ("passthru", live_id, "close")])


if __name__ == "__main__":
    unittest.main()
