"""Every plugin and trading command from a phone (the fake Bot API), against the
real daemon with test plugins: /plugins and its buttons, enable/disable
persisted, hot reload (and a broken build refused), /signal on the webhook's
path (idempotent on redelivery), /trades, /positions, /close, /status."""
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

from fake_telegram import FakeTelegram  # noqa: E402
from zx import BUILD, Daemon, plugin_dir  # noqa: E402

TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
ENV = {"no_proxy": "*", "NO_PROXY": "*"}


class Commands(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-cmd-")
        self.pdir = plugin_dir(self.tmp, {"passthru": "passthru", "tp_ok": "tp_ok"})
        self.srv = FakeTelegram(token=TOKEN).start()
        self.cfg = {"telegram": {"token": TOKEN, "api_base": self.srv.base_url,
                                 "admin_chat_ids": [ADMIN], "poll_timeout_s": 2},
                    "plugin_system": {"plugin_dir": self.pdir},
                    "plugins": {"passthru": {"enabled": True}, "tp_ok": {"enabled": False}}}
        self.d = Daemon(self.cfg, tmp=self.tmp, env=ENV).start()

    def tearDown(self):
        code, _ = self.d.stop()
        self.d.cleanup()
        self.srv.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(code, 0)

    def ask(self, text, timeout=5.0):
        """The reply to text (trade notifications, which may arrive meanwhile, skipped)."""
        since = self.srv.last_seq()
        self.srv.push_message(ADMIN, text)
        note = re.compile(r"^(\w+ (opened|closed) #\d+ (BUY|SELL) |🚫 |⚠️ \w+ is (failed|disabled) with \d+ open)")
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and r["args"].get("chat_id") == ADMIN
                                 and not note.match(r["args"].get("text", "")), timeout=timeout, since=since)
        return rec["args"]["text"]

    def press(self, index, markup=None):
        """Press button index of the last reply's keyboard; the reply to it."""
        markup = markup or self.last_markup()
        self.confirm_markup = markup
        data = [b["callback_data"] for row in markup["inline_keyboard"] for b in row][index]
        since = self.srv.last_seq()
        self.srv.push_callback(ADMIN, data)
        note = re.compile(r"^(\w+ (opened|closed) #\d+ (BUY|SELL) |🚫 |⚠️ \w+ is (failed|disabled) with \d+ open)")
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and r["args"].get("chat_id") == ADMIN
                                 and not note.match(r["args"].get("text", "")), since=since)
        return rec["args"]["text"]

    def test_rejects_are_notified_and_each_kind_can_be_muted_persisted(self):
        self.ask("/enable_plugin tp_ok")
        since = self.srv.last_seq()
        self.ask("/signal tp_ok buy EURUSD price=1.1 comment=reject")
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and "🚫" in r["args"].get("text", ""),
                                 since=since, timeout=6)
        self.assertIn("🚫 tp_ok rejected buy EURUSD: told to reject", rec["args"]["text"])
        self.assertIn("rejects notifications muted", self.ask("/mute rejects"))
        self.assertIn("trades notifications muted", self.ask("/mute trades"))
        self.assertIn("TYPE is one of", self.ask("/mute everything"))
        since = self.srv.last_seq()
        self.ask("/signal tp_ok buy EURUSD price=1.1 comment=reject")
        self.ask("/signal passthru buy EURUSD price=1.1 lot=0.1")
        time.sleep(2.5)     # past the 2 s the notes are joined over
        texts = [r["args"]["text"] for r in self.srv.sent("sendMessage") if r["seq"] > since]
        self.assertFalse([t for t in texts if "🚫" in t or "opened #" in t], texts)
        self.assertIn("(rejects muted) 🚫 tp_ok rejected", self.d.log())
        # persisted: still muted after a restart; /unmute sends them again
        code, _ = self.d.stop()
        self.assertEqual(code, 0)
        self.d = self.d.again().start()
        self.assertIn("sent again", self.ask("/unmute rejects"))
        since = self.srv.last_seq()
        self.ask("/signal tp_ok buy EURUSD price=1.1 comment=reject")
        self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and "🚫" in r["args"].get("text", ""),
                           since=since, timeout=6)

    def test_a_plugin_disabled_with_open_trades_asks_what_to_do(self):
        self.ask("/signal passthru buy EURUSD price=1.1 lot=0.1")
        since = self.srv.last_seq()
        self.srv.push_message(ADMIN, "/disable_plugin passthru")
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and "nothing manages them" in
                                 r["args"].get("text", ""), since=since)
        self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and "disabled (persisted)" in
                           r["args"].get("text", ""), since=since)
        self.assertIn("passthru is disabled with 1 open trade", rec["args"]["text"])
        markup = rec["args"]["reply_markup"]
        data = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        self.assertEqual(data, ["cmd:/close passthru all", "cmd:/enable_plugin passthru", "cmd:/positions passthru"])
        self.assertIn("not managed", self.press(2, markup=markup))       # Leave them: shows them
        self.assertIn("Close all 1 open trade of passthru?", self.press(0, markup=markup))
        self.assertIn("1 of 1 closed", self.press(0))
        self.assertEqual(self.trades()[0][3], "CLOSED")

    def test_panic_asks_then_pauses_and_closes_everything_once(self):
        self.ask("/enable_plugin tp_ok")
        self.ask("/signal passthru buy EURUSD price=1.1 lot=0.1")
        self.ask("/signal tp_ok sell EURUSD price=1.1 lot=0.1")
        q = self.ask("/panic")
        self.assertIn("close all 2 open trades of every plugin?", q)
        self.assertEqual(self.trades()[0][3], "OPEN")       # nothing before the confirmation
        self.assertIn("Cancelled", self.press(1))
        self.assertIn("Already cancelled", self.press(0, markup=self.confirm_markup))
        self.ask("/panic")
        out = self.press(0)
        self.assertIn("trading paused", out)
        self.assertIn("2 closed, 0 failed", out)
        self.assertEqual([r[3] for r in self.trades()], ["CLOSED"])
        self.assertEqual([r[3] for r in self.trades("tp_ok")], ["CLOSED"])
        self.assertIn("PAUSED", self.ask("/status"))
        self.assertIn("Already done", self.press(0, markup=self.confirm_markup))
        self.assertIn("Unknown confirmation", self.ask("/confirm 0123456789abcdef"))

    def last_markup(self):
        msgs = self.srv.sent("sendMessage")
        return msgs[-1]["args"].get("reply_markup")

    def trades(self, plugin="passthru"):
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix_%s.db" % plugin))
        rows = con.execute("SELECT id, direction, lot_size, status, close_reason FROM trades ORDER BY id").fetchall()
        con.close()
        return rows

    def test_plugins_lists_states_with_buttons(self):
        reply = self.ask("/plugins")
        self.assertIn("1 enabled of 2", reply)
        self.assertRegex(reply, r"passthru\s+1\.0\.0\s+enabled")
        self.assertRegex(reply, r"tp_ok\s+1\.0\.0\s+disabled")
        buttons = [b["callback_data"] for row in self.last_markup()["inline_keyboard"] for b in row]
        self.assertIn("cmd:/disable_plugin passthru", buttons)
        self.assertIn("cmd:/enable_plugin tp_ok", buttons)
        self.assertIn("cmd:/reload_plugin tp_ok", buttons)

    def test_enable_button_enables_and_the_state_survives_a_restart(self):
        since = self.srv.last_seq()
        self.srv.push_callback(ADMIN, "cmd:/enable_plugin tp_ok")
        reply = self.srv.wait_messages(ADMIN, 1, since=since)[0]
        self.assertIn("tp_ok 1.0.0 enabled", reply)
        self.assertIn("disabled", self.ask("/disable_plugin passthru"))
        self.assertIn("already disabled", self.ask("/disable_plugin passthru"))
        self.d.stop()
        self.d = self.d.again().start()
        reply = self.ask("/plugins")
        self.assertRegex(reply, r"passthru\s+1\.0\.0\s+disabled")
        self.assertRegex(reply, r"tp_ok\s+1\.0\.0\s+enabled")

    def test_reload_swaps_version_and_a_broken_build_is_refused(self):
        shutil.copy(os.path.join(BUILD, "testplugins", "tp_v2", "plugin.so"),
                    os.path.join(self.pdir, "tp_ok", "plugin.so"))
        reply = self.ask("/reload_plugin tp_ok")
        self.assertRegex(reply, r"tp_ok reloaded: 1\.0\.0 → 2\.0\.0 in \d+\.\d ms")
        shutil.copy(os.path.join(BUILD, "testplugins", "tp_badabi", "plugin.so"),
                    os.path.join(self.pdir, "tp_ok", "plugin.so"))
        reply = self.ask("/reload_plugin tp_ok")
        self.assertIn("refused; 2.0.0 keeps running", reply)
        self.assertIn("ABI 999", reply)
        self.assertRegex(self.ask("/plugins"), r"tp_ok\s+2\.0\.0\s+disabled")

    def test_signal_from_chat_executes_once_even_if_redelivered(self):
        reply = self.ask("/signal passthru buy EURUSD price=1.1 lot=0.3")
        self.assertIn("passthru: executed #1", reply)
        self.assertEqual(self.trades(), [(1, "BUY", 0.3, "OPEN", None)])
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix.db"))
        src, ext = con.execute("SELECT source, ext_id FROM signals").fetchone()
        con.close()
        self.assertEqual(src, "telegram")
        self.assertTrue(ext.startswith("tg:"))
        # The same Telegram update delivered again (as after a crash) is a duplicate.
        upd = int(ext.rsplit(":", 1)[1])
        since = self.srv.last_seq()
        self.srv.push_update({"update_id": upd + 1000, "message": {
            "message_id": 99, "date": int(time.time()), "chat": {"id": ADMIN, "type": "private"},
            "from": {"id": ADMIN, "is_bot": False, "first_name": "op"},
            "text": "/signal passthru buy EURUSD price=1.1 lot=0.3 id=%s" % ext}})
        reply = self.srv.wait_messages(ADMIN, 1, since=since)[0]
        self.assertIn("duplicate", reply)
        self.assertEqual(len(self.trades()), 1)

    def test_bad_signal_is_explained(self):
        self.assertIn("sl", self.ask("/signal buy EURUSD price=1.1 sl=1.2"))
        self.assertIn("unknown plugin", self.ask("/signal nobody buy EURUSD"))
        self.assertIn("Usage: /signal", self.ask("/signal"))

    def test_trades_positions_and_close(self):
        self.ask("/signal passthru buy EURUSD price=1.1 lot=0.1")
        self.ask("/signal passthru sell EURUSD price=1.1 lot=0.2")
        self.d.post_json("/price", {"secret": "test-secret", "symbol": "EURUSD", "bid": 1.1010, "ask": 1.1011})
        pos = self.ask("/positions")
        self.assertIn("2 open trades", pos)
        self.assertIn("+10.0p +10.00", pos)       # the buy: (1.1010 - 1.1000) x 0.1 x 100000
        self.assertIn("-11.0p -22.00", pos)       # the sell closes at the ask 1.1011: -0.0011 x 0.2 x 100000
        self.assertIn("floating -12.00", pos)
        self.assertIn("#1 closed", self.ask("/close passthru 1"))
        self.assertIn("not an open trade", self.ask("/close passthru 1"))
        # closing many asks first (SPEC 12): the Confirm button runs it, once
        self.assertIn("Close all 1 open trade of passthru?", self.ask("/close passthru all"))
        self.assertEqual(self.trades()[1][3], "OPEN")
        self.assertIn("1 of 1 closed", self.press(0))
        self.assertIn("Already done", self.press(0, markup=self.confirm_markup))
        self.assertEqual([r[3] for r in self.trades()], ["CLOSED", "CLOSED"])
        trades = self.ask("/trades passthru 5")
        self.assertIn("Last 2 trades of passthru", trades)
        self.assertIn("manual", trades)
        self.assertIn("Usage: /trades", self.ask("/trades"))
        self.assertIn("Unknown plugin", self.ask("/trades nobody"))
        self.assertIn("No open trades", self.ask("/positions passthru"))

    def test_modify_moves_sl_and_tp_and_refuses_the_wrong_side(self):
        self.ask("/signal passthru buy EURUSD price=1.1 sl=1.09")
        self.assertIn("#1: sl 1.095 tp 1.12", self.ask("/modify passthru 1 sl=1.095 tp=1.12"))
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix_passthru.db"))
        self.assertEqual(con.execute("SELECT sl_price, tp_price FROM trades").fetchone(), (1.095, 1.12))
        con.close()
        self.assertIn("wrong side", self.ask("/modify passthru 1 sl=1.2"))
        self.assertIn("Not understood", self.ask("/modify passthru 1 stop=1"))
        self.assertIn("not an open trade", self.ask("/modify passthru 7 tp=1.3"))
        # The new take profit closes the trade when a quote reaches it.
        self.d.post_json("/price", {"secret": "test-secret", "symbol": "EURUSD", "bid": 1.1201, "ask": 1.1202})
        self.assertEqual(self.trades()[0][3:], ("CLOSED", "tp"))

    def test_close_works_while_paused_and_opening_does_not(self):
        self.ask("/signal passthru buy EURUSD price=1.1")
        self.ask("/pause")
        self.assertIn("skipped (trading paused)", self.ask("/signal passthru buy EURUSD price=1.1"))
        self.assertIn("#1 closed", self.ask("/close passthru 1"))

    def test_status_counts_today(self):
        self.ask("/signal passthru buy EURUSD price=1.1")
        st = self.ask("/status")
        self.assertIn("Plugins: 1 enabled / 2 loaded", st)
        self.assertIn("1 signals, 1 trades opened, 1 open now", st)
        self.assertIn("Broker: paper", st)
        self.assertIn("balance 10000.00", st)


if __name__ == "__main__":
    unittest.main()
