"""The daily reset end to end: the real build/zepix with the passthru test plugin
and the fake Bot API server (tests/fixtures/fake_telegram.py).

Proves the issue's "done when": with daily_reset.time a few seconds ahead, the
report with the right figures and a chart (sendPhoto, multipart) reach every
admin chat, and the performance row is written; /daily and /stats show the
same figures before the reset; a reset missed while zepix was stopped is sent
exactly once at the next start, and never again; /chart sends a photo.

Times: daily_reset.timezone is Asia/Kolkata (no DST, so "a few seconds ahead"
is simple wall-clock arithmetic); the day a reset closes is labelled with the
local date it started on (scheduler.h), i.e. the reset's date minus one day.
"""
import datetime
import html
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_telegram import FakeTelegram  # noqa: E402
from zx import Daemon, plugin_dir  # noqa: E402

TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN, ADMIN2 = 111, 222
ZONE = "Asia/Kolkata"
SECRET = "test-secret"
ENV = {"no_proxy": "*", "NO_PROXY": "*"}
NOTIFICATION = re.compile(r"^passthru (opened|closed) #")


def reset_in(seconds):
    """daily_reset.time about `seconds` from now in ZONE ("HH:MM:SS"), the label
    of the trading day that reset closes, and the reset's Unix time."""
    at = datetime.datetime.now(ZoneInfo(ZONE)).replace(microsecond=0) + datetime.timedelta(seconds=seconds)
    label = (at.date() - datetime.timedelta(days=1)).isoformat()
    return at.strftime("%H:%M:%S"), label, at.timestamp()


def plain(text):
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class DailyReset(unittest.TestCase):
    def setUp(self):
        self.srv = FakeTelegram(token=TOKEN).start()
        self.tmp = tempfile.mkdtemp(prefix="zepix-daily-")
        self.pdir = plugin_dir(self.tmp, {"passthru": "passthru"})
        self.daemons = []

    def tearDown(self):
        try:
            for d in self.daemons:
                # a clean exit (0) also means no sanitizer report under `make asan`
                if d.proc and d.proc.poll() is None:
                    code, _ = d.stop()
                    self.assertEqual(code, 0, d.log()[-3000:])
        finally:
            for d in self.daemons:
                d.cleanup()
            self.srv.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, reset_time):
        cfg = {"telegram": {"token": TOKEN, "api_base": self.srv.base_url,
                            "admin_chat_ids": [ADMIN, ADMIN2], "poll_timeout_s": 2},
               "plugin_system": {"plugin_dir": self.pdir},
               "plugins": {"passthru": {"enabled": True}},
               "daily_reset": {"time": reset_time, "timezone": ZONE}}
        d = Daemon(cfg, tmp=self.tmp, env=ENV)
        self.daemons.append(d)
        return d.start()

    # ---- helpers ----------------------------------------------------------------

    def trade(self, d, **kw):
        body = {"secret": SECRET, "plugin": "passthru", "symbol": "EURUSD"}
        body.update(kw)
        st, j = d.post_json("/webhook", body)
        self.assertEqual(st, 200, j)
        self.assertEqual(j["results"][0]["status"], "executed", j)

    def quote(self, d, px):
        st, j = d.post_json("/price", {"secret": SECRET, "symbol": "EURUSD", "bid": px, "ask": px})
        self.assertEqual(st, 200, j)

    def two_trades(self, d):
        """+100 (TP) then -50 (SL): 2 trades, 1/1, 50%, profit +50, max DD 50."""
        self.trade(d, action="buy", price=1.1, tp=1.11, lot=0.1)
        self.trade(d, action="buy", price=1.1, sl=1.09, lot=0.05)
        self.quote(d, 1.11)
        self.quote(d, 1.09)

    def ask(self, text, chat=ADMIN):
        """The reply to text (trade notifications, which may arrive meanwhile, skipped)."""
        since = self.srv.last_seq()
        self.srv.push_message(chat, text)
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and r["ok"]
                                 and str(r["args"].get("chat_id")) == str(chat)
                                 and not NOTIFICATION.search(r["args"]["text"]), timeout=5, since=since)
        return rec["args"]["text"]

    def reports(self, chat=ADMIN, since=0):
        return [r["args"]["text"] for r in self.srv.sent("sendMessage", since=since)
                if r["ok"] and str(r["args"].get("chat_id")) == str(chat)
                and r["args"]["text"].startswith("<b>Daily report") and "so far" not in r["args"]["text"]]

    def photos(self, chat=ADMIN, since=0):
        return [r for r in self.srv.sent("sendPhoto", since=since)
                if r["ok"] and str(r["args"].get("chat_id")) == str(chat)]

    def wait_report(self, chat, label, deadline):
        end = time.time() + deadline
        while time.time() < end:
            got = [t for t in self.reports(chat) if label in t]
            if got:
                return got
            time.sleep(0.05)
        self.fail("no daily report for %s in chat %s; calls:\n%s" % (label, chat, self.srv._describe_recent()))

    def performance(self):
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix_passthru.db"))
        try:
            return {r[0]: r[1:] for r in con.execute(
                "SELECT date, total_trades, win_count, loss_count, total_profit, max_drawdown FROM performance")}
        finally:
            con.close()

    def last_ms(self):
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix.db"))
        try:
            row = con.execute("SELECT value FROM kv WHERE key = 'daily_reset.last_ms'").fetchone()
            return int(row[0]) if row else None
        finally:
            con.close()

    def assert_figures(self, text):
        """The table of the two trades: 2 trades, 1/1, 50%, +50.00, max DD 50.00."""
        t = plain(text)
        self.assertRegex(t, r"passthru\s+2\s+1/1\s+50%", t)
        self.assertRegex(t, r"\+50\.00\s+50\.00", t)

    # ---- tests --------------------------------------------------------------------

    def test_report_chart_and_performance_row_arrive_at_the_reset_time(self):
        reset_time, label, at = reset_in(6)
        d = self.start(reset_time)
        self.two_trades(d)
        # Before the reset, /daily and /stats show what the report will show.
        daily = self.ask("/daily")
        self.assertIn("so far", daily)
        self.assert_figures(daily)
        stats = self.ask("/stats passthru")
        self.assertIn("passthru, today", plain(stats))
        self.assert_figures(stats)
        self.assertGreater(at, time.time(), "the setup took too long; the reset already passed")
        self.assertEqual(self.reports(), [])

        for chat in (ADMIN, ADMIN2):
            rep = self.wait_report(chat, label, at - time.time() + 5)
            self.assertEqual(len(rep), 1)
            self.assert_figures(rep[0])
            self.assertNotIn("Sent late", rep[0])
        for chat in (ADMIN, ADMIN2):
            rec = self.srv.wait_sent(lambda r, c=chat: r["method"] == "sendPhoto" and r["ok"]
                                     and str(r["args"].get("chat_id")) == str(c), timeout=5)
            photo = rec["params"]["photo"]
            self.assertEqual(photo["content_type"], "image/png")
            self.assertGreater(photo["size"], 5000)
            self.assertIn(label, rec["args"]["caption"])
            self.assertIn("profit +50.00", rec["args"]["caption"])

        row = self.performance()[label]
        self.assertEqual(row[:3], (2, 1, 1))
        self.assertAlmostEqual(row[3], 50.0, places=6)
        self.assertAlmostEqual(row[4], 50.0, places=6)
        self.assertEqual(self.last_ms(), int(at) * 1000)
        # A new trading day has begun: /daily starts from zero.
        self.assertRegex(plain(self.ask("/daily")), r"passthru\s+0\s+0/0\s+-")

    def test_a_reset_missed_while_stopped_is_sent_once_at_the_next_start(self):
        reset_time, label, at = reset_in(4)
        d = self.start(reset_time)
        self.trade(d, action="buy", price=1.1, tp=1.11, lot=0.1)
        self.quote(d, 1.11)
        self.assertGreater(at, time.time() + 0.3, "the setup took too long; the reset already passed")
        self.assertEqual(d.stop()[0], 0)
        first_boundary = self.last_ms()
        self.assertIsNotNone(first_boundary)      # first run: the boundary is recorded, no report
        self.assertLess(first_boundary, at * 1000)
        while time.time() < at + 0.3:
            time.sleep(0.05)
        self.assertEqual(self.reports(), [])

        self.start(reset_time)                    # after the reset time: caught up
        rep = self.wait_report(ADMIN, label, 5)
        self.assertIn("Sent late", rep[0])
        self.assertRegex(plain(rep[0]), r"passthru\s+1\s+1/0\s+100%")
        self.srv.wait_sent(lambda r: r["method"] == "sendPhoto" and r["ok"], timeout=5)
        self.assertEqual(self.performance()[label][:3], (1, 1, 0))
        self.assertEqual(self.last_ms(), int(at) * 1000)
        time.sleep(1.0)
        self.assertEqual(len(self.reports(ADMIN)), 1)
        self.assertEqual(len(self.photos(ADMIN)), 1)
        self.assertEqual(self.daemons[-1].stop()[0], 0)

        since = self.srv.last_seq()               # and a restart after that sends nothing
        self.start(reset_time)
        time.sleep(2.0)
        self.assertEqual(self.reports(ADMIN, since=since), [])
        self.assertEqual(self.photos(ADMIN, since=since), [])
        self.assertEqual(len(self.reports(ADMIN)), 1)

    def test_chart_command_sends_a_photo_and_bad_arguments_get_usage(self):
        d = self.start("03:35")
        self.two_trades(d)
        since = self.srv.last_seq()
        self.srv.push_message(ADMIN, "/chart passthru week")
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendPhoto", timeout=5, since=since)
        self.assertTrue(rec["ok"], rec)
        self.assertEqual(str(rec["args"]["chat_id"]), str(ADMIN))
        self.assertEqual(rec["params"]["photo"]["content_type"], "image/png")
        self.assertIn("passthru, last 7 days", rec["args"]["caption"])
        self.assertIn("2 trades, profit +50.00, max drawdown 50.00", rec["args"]["caption"])
        self.assertEqual(self.srv.sent("sendPhoto", since=since)[0]["http_method"], "POST")
        self.assertIn("Unknown plugin <code>nosuch</code>", self.ask("/chart nosuch"))
        self.assertTrue(self.ask("/stats a b c").startswith("Usage: /stats"))
        everything = plain(self.ask("/stats all"))
        self.assertIn("All plugins, all time", everything)
        self.assertRegex(everything, r"passthru\s+2\s+1/1\s+50%")


if __name__ == "__main__":
    unittest.main()
