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
import signal
import sqlite3
import sys
import tempfile
import threading
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


def children(pid):
    """(pid, exe) of the direct children of pid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                out.append((int(d), os.readlink("/proc/%s/exe" % d)))
        except OSError:
            continue
    return out


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
    isolation = None            # plugin_system.isolation; None = the default

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-shd-")
        self.pdir = plugin_dir(self.tmp, self.plugins)
        self.srv = FakeTelegram(token=TOKEN).start()
        self.cfg = {"telegram": {"token": TOKEN, "api_base": self.srv.base_url, "admin_chat_ids": [ADMIN],
                                 "poll_timeout_s": 2},
                    "plugin_system": {"plugin_dir": self.pdir},
                    "plugins": {pid: {"enabled": True} for pid in self.plugins},
                    "broker": self.broker}
        if self.isolation:
            self.cfg["plugin_system"]["isolation"] = self.isolation
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

    def test_a_shadow_that_rejects_everything_is_throttled_like_rejects(self):
        self.new_build_on_disk()
        self.ask("/shadow tp_flip")
        for i in range(25):                 # build 2 rejects every buy
            self.signal(id="t%d" % i, action="buy", symbol="EURUSD", price=1.1)
        def rejects():
            return [n for n in self.shadow_notes() if "rejected buy EURUSD" in n]
        wait_for(lambda: len(rejects()) >= 10, timeout=10, what="the first ten shadow rejects")
        time.sleep(1.0)                     # anything more would have been queued with them
        rejects = rejects()
        # at most NOTIFY_REJECTS_PER_MIN (10) a minute: 20 if the run crossed a minute
        self.assertGreaterEqual(len(rejects), 10)
        self.assertLessEqual(len(rejects), 20)
        self.assertIn("(shadow over 10 a minute, held) 👻 shadow of tp_flip rejected buy", self.d.log())

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


class ShadowPins(Base):
    """What a restart loads while a shadow runs: the live build, whatever
    plugin.so holds (SPEC 12 "Shadow"), also after a /reload_plugin; a /shadow
    that did not start pins nothing."""

    def test_reload_while_shadowed_keeps_the_live_build_across_a_restart(self):
        self.new_build_on_disk()                                    # build 2 on disk
        self.assertIn("runs as a shadow", self.ask("/shadow tp_flip"))
        self.assertIn("1.0.0 → 2.0.0", self.ask("/reload_plugin tp_flip"))   # build 2 live, still shadowed
        self.assertIn("tp_flip: live 2.0.0 vs shadow 2.0.0", self.ask("/stats tp_flip"))
        self.new_build_on_disk(name="tp_flip")                      # rebuilt on disk while shadowed
        self.restart()
        # the shadow is back, and the live build is the one that was live, not plugin.so
        self.assertIn("tp_flip: live 2.0.0 vs shadow 2.0.0", self.ask("/stats tp_flip"))

    def test_a_failed_live_plugin_shadowed_keeps_its_build_across_a_restart(self):
        # the live build 1 dies (its child killed): failed, its kept copy stays
        kids = [pid for pid, exe in children(self.d.proc.pid) if exe.endswith("zepix-plugin-host")]
        self.assertEqual(len(kids), 1, kids)
        os.kill(kids[0], signal.SIGKILL)
        wait_for(lambda: "failed" in self.ask("/plugins"), what="the live plugin failed")
        self.new_build_on_disk()                                    # build 2 on disk
        self.assertIn("runs as a shadow", self.ask("/shadow tp_flip"))
        self.restart()
        # build 2 is the shadow's; the live build is still build 1, not plugin.so
        self.assertIn("tp_flip: live 1.0.0 vs shadow 2.0.0", self.ask("/stats tp_flip"))


class ShadowCrash(Base):
    """kill -9 between two plugins' ledger commits: the resend runs only the
    missing part (SPEC 9); the shadow of that plugin trades the signal once."""
    plugins = {"passthru": "passthru", "tp_flip": "tp_flip"}

    def test_a_resend_after_a_crash_does_not_double_the_shadow(self):
        self.new_build_on_disk()
        self.assertIn("runs as a shadow", self.ask("/shadow tp_flip"))
        code, _ = self.d.stop()
        self.assertEqual(code, 0)
        env = dict(ENV, ZEPIX_TEST_CRASH_AT="after_ledger_commit:1")    # after passthru's commit
        self.d.cleanup()
        self.d = Daemon(self.d.config, tmp=self.tmp, env=env, port=self.d.port).start()
        body = {"secret": SECRET, "id": "k1", "action": "sell", "symbol": "EURUSD", "price": 1.1}
        try:
            self.d.post_json("/webhook", body)
        except OSError:
            pass
        self.d.proc.wait(5)
        self.assertEqual(self.d.proc.returncode, -signal.SIGKILL)
        self.d = self.d.again()
        self.d.env.pop("ZEPIX_TEST_CRASH_AT")
        self.d.start()
        st, j = self.d.post_json("/webhook", body)      # the sender resends: tp_flip's part runs
        self.assertEqual(st, 200, j)
        self.assertEqual([r["status"] for r in j["results"]], ["executed", "rejected"])
        self.assertEqual(len(rows(self.tmp, "passthru")), 1)
        self.assertEqual([(t["direction"], t["signal_id"]) for t in rows(self.tmp, "tp_flip.shadow")],
                         [("SELL", 1)])


class ShadowInProcess(Base):
    """isolation "none": the live plugin runs in the daemon, but a shadow is a
    trial build: its crash must not touch the live plugin (SPEC 12)."""

    isolation = "none"

    def test_a_crashing_shadow_costs_only_the_shadow(self):
        self.new_build_on_disk()
        self.assertIn("runs as a shadow", self.ask("/shadow tp_flip"))
        r = self.signal(id="n1", action="buy", symbol="EURUSD", price=1.1, comment="crash")
        self.assertEqual(r["status"], "executed", r)
        wait_for(lambda: any("👻 shadow of tp_flip failed" in n for n in self.shadow_notes()),
                 what="the shadow's failure note")
        self.assertEqual(self.signal(id="n2", action="close", symbol="EURUSD", price=1.1)["status"], "executed")


class ShadowGone(Base):
    """A shadow whose kept build is gone does not come back; /unshadow ends it
    for good (no note at every restart)."""

    def texts(self, since=0):
        return [r["args"].get("text", "") for r in self.srv.sent("sendMessage")[since:]]
    def test_unshadow_ends_a_shadow_that_did_not_come_back(self):
        self.new_build_on_disk()
        self.assertIn("runs as a shadow", self.ask("/shadow tp_flip"))
        code, _ = self.d.stop()
        self.assertEqual(code, 0)
        os.unlink(os.path.join(self.tmp, "data", ".plugin-cache", "tp_flip.shadow.so"))
        self.d = self.d.again().start()
        wait_for(lambda: any("did not come back" in n for n in self.texts()), what="the note")
        self.assertIn("the shadow of tp_flip ended", self.ask("/unshadow tp_flip"))
        since = len(self.srv.sent("sendMessage"))
        self.restart()
        self.assertIn("Plugins", self.ask("/plugins"))
        self.assertFalse([n for n in self.texts(since) if "did not come back" in n])


class ShadowKilled(Base):
    """kill -9 before any ledger of a batch committed: the journal says the
    signal did not run, the resend gets a new id; the shadow's trade of the
    first run must be gone with the live one's."""
    plugins = {"passthru": "passthru", "slow": "slow"}

    def log_text(self):
        with open(self.d.log_path, errors="replace") as f:
            return f.read()

    def test_a_kill_before_the_commits_takes_the_shadows_trade_too(self):
        self.assertIn("runs as a shadow", self.ask("/shadow passthru"))
        body = {"secret": SECRET, "id": "k1", "action": "buy", "symbol": "EURUSD", "price": 1.1}

        def post():
            try:
                self.d.post_json("/webhook", body)
            except OSError:
                pass
        th = threading.Thread(target=post)
        th.start()
        # the shadow traded; slow's hook (150 ms) runs before the batch commits
        wait_for(lambda: "shadow: passthru opened" in self.log_text(), what="the shadow's trade")
        os.kill(self.d.proc.pid, signal.SIGKILL)
        th.join()
        self.d.proc.wait(5)
        self.d = self.d.again().start()
        st, j = self.d.post_json("/webhook", body)      # the sender resends
        self.assertEqual(st, 200, j)
        self.assertEqual(len(rows(self.tmp, "passthru")), 1)
        self.assertEqual(len(rows(self.tmp, "passthru.shadow")), 1)


if __name__ == "__main__":
    unittest.main()
