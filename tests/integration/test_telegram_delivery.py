"""Telegram delivery against a misbehaving Bot API (issue 13), the real build/zepix
against the fake (tests/fixtures/fake_telegram.py) and its fault modes:

- each message fails alone: a sendPhoto failing with a non-JSON 500 backs off by
  itself, later replies go out at once, and after its last try the photo's
  caption is sent as text; a 4xx photo becomes text at once; a failing
  setMyCommands never delays /help;
- getUpdates answered at once (no long poll held) is repeated at a floor, not
  thousands of times a second, and commands stay prompt;
- retry_after is capped (60 s) and the log says so;
- offsets and idempotency keys per bot: a new bot on the same data dir, and a
  server whose update ids restarted, neither drop nor deduplicate new commands;
- sender authorization (telegram.admin_user_ids) in groups and for buttons;
- a notification raised at start (a plugin failing init) reaches the admins;
- a command name cut inside a UTF-8 character still gets its answer.
"""
import os
import sqlite3
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_telegram import FakeTelegram  # noqa: E402
from zx import Daemon, plugin_dir, wait_for  # noqa: E402

TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
ADMIN2 = 112
GROUP = -500
ADMIN_USER = 222
STRANGER = 999
ENV = {"no_proxy": "*", "NO_PROXY": "*"}
PAGE = b"<html><body><h1>500 Internal Server Error</h1></body></html>"


class DeliveryTest(unittest.TestCase):
    def setUp(self):
        self.srv = FakeTelegram(token=TOKEN).start()
        self.daemons = []
        self.tmp = None

    def tearDown(self):
        try:
            for d in self.daemons:
                if d.proc and d.proc.poll() is None:
                    code, _ = d.stop(timeout=20)
                    self.assertEqual(code, 0, d.log()[-3000:])
        finally:
            for d in reversed(self.daemons):
                d.cleanup()
            self.srv.stop()

    def start(self, tmp=None, plugins=None, **telegram):
        tg = {"token": TOKEN, "api_base": self.srv.base_url, "admin_chat_ids": [ADMIN, ADMIN2],
              "poll_timeout_s": 2}
        tg.update(telegram)
        over = {"telegram": tg}
        if plugins is not None:
            over["plugin_system"] = {"plugin_dir": plugins[0]}
            over["plugins"] = plugins[1]
        d = Daemon(over, tmp=tmp, env=ENV)
        self.daemons.append(d)
        d.start()
        return d

    def ask(self, text, chat=ADMIN, timeout=2.0, **kw):
        since = self.srv.last_seq()
        self.srv.push_message(chat, text, **kw)
        return self.srv.wait_messages(chat, 1, timeout=timeout, since=since)[0]

    def signal(self, text, chat=ADMIN, timeout=3.0):
        """The reply to /signal (the trade notification may come first)."""
        since = self.srv.last_seq()
        self.srv.push_message(chat, text)
        return wait_for(lambda: [r["args"]["text"] for r in self.sent_to(chat, since)
                                 if "executed" in r["args"]["text"] or "duplicate" in r["args"]["text"]],
                        timeout=timeout, what="the /signal reply")[0]

    def sent_to(self, chat, since=0, method="sendMessage"):
        return [r for r in self.srv.sent(method, since=since)
                if r["ok"] and str(r["args"].get("chat_id")) == str(chat)]

    # ---- each message fails alone ---------------------------------------------

    def test_failing_photo_blocks_nothing_and_ends_as_its_caption(self):
        d = self.start()
        wait_for(self.srv.commands, what="setMyCommands")
        since = self.srv.last_seq()
        self.srv.fail_next("sendPhoto", status=500, count=100, raw=PAGE)
        self.srv.push_message(ADMIN, "/chart")
        wait_for(lambda: self.srv.sent("sendPhoto", since=since), what="the first sendPhoto")
        # Later commands of the same chat, and another chat, are answered at once.
        for text in ("/pause", "/status", "/resume"):
            self.assertTrue(self.ask(text, timeout=2.5))
        self.assertIn("Trading:", self.ask("/status", chat=ADMIN2))
        # After its last try (1 + 2 + 4 s of backoff) the caption goes as text.
        wait_for(lambda: "sendPhoto to chat %d given up" % ADMIN in d.log(), timeout=15,
                 what="the photo given up")
        photos = self.srv.sent("sendPhoto", since=since)
        self.assertEqual(len(photos), 4)
        caption = photos[0]["args"]["caption"]
        wait_for(lambda: [r for r in self.sent_to(ADMIN, photos[-1]["seq"])
                          if r["args"]["text"] == caption], what="the caption as text")
        log = d.log()
        self.assertIn("not Bot API JSON", log)
        self.assertIn("try 1 of 4", log)
        self.assertIn("sendPhoto to chat %d given up" % ADMIN, log)
        self.assertEqual(len(self.srv.pending_updates()), 0)

    def test_photo_refused_with_4xx_is_sent_as_text_at_once(self):
        d = self.start()
        wait_for(self.srv.commands, what="setMyCommands")
        since = self.srv.last_seq()
        self.srv.fail_next("sendPhoto", status=400, count=1, retry_after=None,
                           description="Bad Request: IMAGE_PROCESS_FAILED")
        self.srv.push_message(ADMIN, "/chart")
        text = self.srv.wait_messages(ADMIN, 1, timeout=2, since=since)[0]
        self.assertTrue(text)
        self.assertEqual(len(self.srv.sent("sendPhoto", since=since)), 1)
        self.assertIn("IMAGE_PROCESS_FAILED; its caption goes as a text message", d.log())

    def test_failing_set_my_commands_does_not_delay_replies(self):
        # A 5xx asking for 5 s: only setMyCommands waits (it used to pause every send).
        self.srv.fail_next("setMyCommands", status=500, count=1, retry_after=5)
        self.start()
        wait_for(lambda: self.srv.sent("setMyCommands"), what="the first setMyCommands")
        t0 = time.time()
        self.assertIn("/status", self.ask("/help", timeout=2))
        self.assertLess(time.time() - t0, 2.0)
        wait_for(self.srv.commands, timeout=10, what="setMyCommands after its backoff")

    # ---- bounded waits --------------------------------------------------------

    def test_huge_retry_after_is_capped_and_logged(self):
        d = self.start()
        wait_for(self.srv.commands, what="setMyCommands")
        since = self.srv.last_seq()
        self.srv.fail_next("sendMessage", status=429, count=1, retry_after=10**9)
        self.srv.push_message(ADMIN, "/status")
        wait_for(lambda: "capped" in d.log(), what="the capped wait in the log")
        self.assertIn("retrying in 60 s (the server asked for more; capped)", d.log())
        self.assertNotIn("retrying in 1000000000", d.log())
        # the other admin chat is not held by this chat's flood control
        self.assertIn("Trading:", self.ask("/status", chat=ADMIN2))
        self.assertEqual(self.sent_to(ADMIN, since), [])

    # ---- polling floor ----------------------------------------------------------

    def test_immediate_getupdates_is_polled_at_a_floor(self):
        self.srv.set_immediate_polls(True)
        self.start(poll_timeout_s=30)
        wait_for(lambda: self.srv.getupdates_calls() >= 1, what="first poll")
        n0, t0 = self.srv.getupdates_calls(), time.time()
        time.sleep(2.0)
        rate = (self.srv.getupdates_calls() - n0) / (time.time() - t0)
        self.assertLess(rate, 5.0)      # a floor of 0.3 s: about 3 a second, not thousands
        self.assertGreater(rate, 1.0)   # and still polling
        t1 = time.time()
        self.assertIn("Trading:", self.ask("/status", timeout=2))
        self.assertLess(time.time() - t1, 2.0)

    # ---- offsets and keys per bot ---------------------------------------------

    def signal_plugins(self, tmp):
        return (plugin_dir(tmp, {"passthru": "passthru"}), {"passthru": {"enabled": True}})

    def test_new_bot_on_the_same_data_dir_neither_drops_nor_dedups(self):
        import tempfile
        tmp = tempfile.mkdtemp(prefix="zepix-it-")
        plugins = self.signal_plugins(tmp)
        first = self.start(tmp=tmp, plugins=plugins)
        self.assertIn("executed", self.signal("/signal passthru buy EURUSD price=1.1 lot=0.1"))
        for _ in range(3):
            self.ask("/help")
        self.assertEqual(first.stop()[0], 0)
        # Another bot (getMe says 777) on a fresh server: its update ids start at 1000 again.
        self.srv.stop()
        self.srv = FakeTelegram(token=TOKEN).start()
        self.srv.set_bot(777, "other_bot")
        second = self.start(tmp=tmp, plugins=plugins, api_base=self.srv.base_url)
        reply = self.signal("/signal passthru buy EURUSD price=1.1 lot=0.1")
        self.assertIn("executed", reply)
        self.assertNotIn("duplicate", reply)
        self.assertIn("the Telegram bot changed: bot 123456 last time, now bot 777", second.log())
        con = sqlite3.connect(os.path.join(tmp, "data", "zepix.db"))
        keys = [r[0] for r in con.execute("SELECT ext_id FROM signals ORDER BY id")]
        con.close()
        self.assertEqual(keys, ["tg:123456:1000", "tg:777:1000"])

    def test_restarted_update_ids_are_detected_and_run(self):
        d = self.start(plugins=None)
        for _ in range(3):
            self.ask("/help")           # ids 1000..1002: offset 1003
        wait_for(lambda: self.srv.confirmed_offset() == 1003, what="offset 1003 confirmed")
        self.srv.restart_ids(1000)
        reply = self.ask("/pause", timeout=3)
        self.assertIn("paused", reply.lower())
        self.assertIn("PAUSED", self.ask("/status", timeout=3))
        log = d.log()
        self.assertIn("update 1000 is below the offset 1003", log)
        self.assertIn("command keys now use epoch 1", log)

    def test_restarted_ids_do_not_make_a_new_signal_a_duplicate(self):
        import tempfile
        tmp = tempfile.mkdtemp(prefix="zepix-it-")
        self.start(tmp=tmp, plugins=self.signal_plugins(tmp))
        self.assertIn("executed", self.signal("/signal passthru buy EURUSD price=1.1 lot=0.1"))
        self.ask("/help")
        self.ask("/help")
        wait_for(lambda: self.srv.confirmed_offset() == 1003, what="offset 1003 confirmed")
        self.srv.restart_ids(1000)
        reply = self.signal("/signal passthru buy EURUSD price=1.1 lot=0.1", timeout=3)
        self.assertIn("executed", reply)
        self.assertNotIn("duplicate", reply)

    # ---- sender authorization ---------------------------------------------------

    def test_group_commands_and_buttons_need_an_admin_user(self):
        d = self.start(admin_chat_ids=[ADMIN, GROUP], admin_user_ids=[ADMIN_USER])
        since = self.srv.last_seq()
        self.srv.push_message(GROUP, "/pause", user_id=STRANGER)
        self.srv.push_callback(GROUP, "cmd:/pause", user_id=STRANGER)
        self.srv.push_callback(ADMIN, "cmd:/pause", user_id=STRANGER)
        self.assertIn("Trading: active", self.ask("/status", chat=GROUP, user_id=ADMIN_USER))
        self.assertEqual(self.sent_to(GROUP, since)[:-1], [])
        self.assertEqual(self.srv.sent("answerCallbackQuery", since=since), [])
        self.assertIn("ignored a command from user %d in chat %d" % (STRANGER, GROUP), d.log())
        self.assertIn("ignored a button press from user %d in chat %d" % (STRANGER, ADMIN), d.log())
        # an admin user's button press in the group runs; so does the private admin's
        since = self.srv.last_seq()
        self.srv.push_callback(GROUP, "cmd:/pause", user_id=ADMIN_USER)
        self.assertIn("paused", self.srv.wait_messages(GROUP, 1, since=since)[0].lower())
        since = self.srv.last_seq()
        self.srv.push_callback(ADMIN, "cmd:/resume")
        self.assertIn("resumed", self.srv.wait_messages(ADMIN, 1, since=since)[0].lower())

    def test_a_confirmation_works_only_for_the_admin_who_asked(self):
        self.start(admin_chat_ids=[ADMIN, GROUP], admin_user_ids=[ADMIN_USER, ADMIN_USER + 1])
        self.ask("/panic", chat=GROUP, user_id=ADMIN_USER)
        sent = [r for r in self.sent_to(GROUP) if r["args"].get("reply_markup")][-1]
        confirm = sent["args"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        self.assertTrue(confirm.startswith("cmd:/confirm "), confirm)
        since = self.srv.last_seq()
        self.srv.push_callback(GROUP, confirm, user_id=ADMIN_USER + 1)       # another admin
        self.assertIn("Only the admin who asked", self.srv.wait_messages(GROUP, 1, since=since)[0])
        self.assertIn("Trading: active", self.ask("/status", chat=GROUP, user_id=ADMIN_USER))
        since = self.srv.last_seq()
        self.srv.push_callback(GROUP, confirm, user_id=ADMIN_USER)
        self.assertIn("trading paused", self.srv.wait_messages(GROUP, 1, since=since)[0])

    def test_admin_user_ids_must_be_integers(self):
        d = Daemon({"telegram": {"token": TOKEN, "api_base": self.srv.base_url,
                                 "admin_chat_ids": [ADMIN], "admin_user_ids": ["bob"]}}, env=ENV)
        self.daemons.append(d)
        d.start(wait=False)
        self.assertEqual(d.proc.wait(10), 2)
        self.assertIn('telegram.admin_user_ids: expected integer user ids, got "bob"', d.log())

    # ---- start-up notifications (issue 12 item 6) -----------------------------

    def test_plugin_failing_at_start_is_notified_to_the_admins(self):
        import tempfile
        tmp = tempfile.mkdtemp(prefix="zepix-it-")
        pdir = plugin_dir(tmp, {"tp_ok2": "tp_initfail"})
        self.start(tmp=tmp, plugins=(pdir, {"tp_ok2": {"enabled": True}}))
        for chat in (ADMIN, ADMIN2):
            note = self.srv.wait_messages(chat, 1, timeout=5)[0]
            self.assertIn("tp_ok2", note)
            self.assertIn("failed", note)

    # ---- UTF-8-safe cutting ---------------------------------------------------

    def test_overlong_command_name_cut_inside_a_character_is_answered(self):
        self.start()
        reply = self.ask("/" + "é" * 40)       # 80 bytes: the name is cut at 63
        self.assertTrue(reply.startswith("Unknown command /ééé"))


if __name__ == "__main__":
    unittest.main()
