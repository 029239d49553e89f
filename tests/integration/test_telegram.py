"""The chat control plane end to end: the real build/zepix against the fake Bot API
(tests/fixtures/fake_telegram.py, in-process), and the console on a pty.

Proves: the command menu is registered, every command is answered, /cmd@bot and
case work, unknown commands get a usage line, unauthorized chats get nothing,
hostile input is escaped (the fake parses HTML strictly), /pause survives a
restart, a restart after kill -9 re-runs nothing, 429 retry_after is honoured,
getUpdates failures do not stop polling, a rejected token does not spin,
inline buttons run commands, per-chat rate limit, and the console.
"""
import os
import pty
import select
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_telegram import FakeTelegram  # noqa: E402
from zx import BIN, ROOT, Daemon, wait_for  # noqa: E402

TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
STRANGER = 999
COMMANDS = ["start", "help", "status", "plugins", "enable_plugin", "disable_plugin",
            "reload_plugin", "stats", "trades", "positions", "signal", "close", "modify",
            "pause", "resume", "risk", "journal", "preview", "replay", "shadow", "promote", "unshadow", "mute", "unmute", "panic", "confirm", "daily", "chart", "export"]
ENV = {"no_proxy": "*", "NO_PROXY": "*"}


class TelegramTest(unittest.TestCase):
    def setUp(self):
        self.srv = FakeTelegram(token=TOKEN).start()
        self.daemons = []

    def tearDown(self):
        try:
            for d in self.daemons:
                # a clean exit (0) also means no sanitizer report under `make asan`
                if d.proc and d.proc.poll() is None:
                    code, _ = d.stop()
                    self.assertEqual(code, 0, d.log()[-3000:])
        finally:
            for d in reversed(self.daemons):
                d.cleanup()
            self.srv.stop()

    def overrides(self, **telegram):
        tg = {"token": TOKEN, "api_base": self.srv.base_url, "admin_chat_ids": [ADMIN],
              "poll_timeout_s": 2}
        tg.update(telegram)
        return {"telegram": tg}

    def start(self, tmp=None, **telegram):
        d = Daemon(self.overrides(**telegram), tmp=tmp, env=ENV)
        self.daemons.append(d)
        d.start()
        return d

    def ask(self, text, chat=ADMIN, timeout=5.0):
        """Send text from chat, return the bot's first reply (HTML)."""
        since = self.srv.last_seq()
        self.srv.push_message(chat, text)
        return self.srv.wait_messages(chat, 1, timeout=timeout, since=since)[0]

    def sent_to(self, chat, since=0):
        return [r for r in self.srv.sent("sendMessage", since=since)
                if r["ok"] and str(r["args"].get("chat_id")) == str(chat)]

    # ---- commands ---------------------------------------------------------------

    def test_command_menu_is_registered_at_start(self):
        self.start()
        cmds = wait_for(self.srv.commands, what="setMyCommands")
        self.assertEqual([c["command"] for c in cmds], COMMANDS)
        self.assertTrue(all(c["description"] for c in cmds))

    def test_help_and_start_list_every_command(self):
        self.start()
        for text in ("/help", "/start"):
            reply = self.ask(text)
            for name in COMMANDS:
                self.assertIn("/" + name, reply, text)
        self.assertIn("zepix", self.ask("/start"))

    def test_botname_suffix_and_case_are_ignored(self):
        self.start()
        plain = self.ask("/help")
        self.assertEqual(self.ask("/HELP@zepix_test_bot"), plain)
        self.assertIn("Trading:", self.ask("/Status@zepix_test_bot"))

    def test_unknown_command_and_bad_arguments_get_usage(self):
        self.start()
        self.assertEqual(self.ask("/frobnicate"), "Unknown command /frobnicate. Try /help")
        self.assertEqual(self.ask("hello there"), "Commands start with /. Try /help")
        self.assertEqual(self.ask("/pause now"), "Usage: /pause")
        self.assertTrue(self.ask("/stats a b c").startswith("Usage: /stats"))

    def test_hostile_input_is_escaped(self):
        self.start()
        # Delivered at all means the fake's strict HTML parser accepted it.
        reply = self.ask("/<b>&x")
        self.assertEqual(reply, "Unknown command /&lt;b&gt;&amp;x. Try /help")
        self.assertEqual(self.ask("/pause <b>&"), "Usage: /pause")
        self.assertEqual(self.ask('/x"<i>'), "Unknown command /x&quot;&lt;i&gt;. Try /help")

    def test_unauthorized_chat_gets_no_answer_and_is_logged(self):
        d = self.start()
        since = self.srv.last_seq()
        self.srv.push_message(STRANGER, "/help")
        self.srv.push_callback(STRANGER, "cmd:/pause")
        self.ask("/status")         # handled after the stranger's updates
        self.assertEqual(self.sent_to(STRANGER, since), [])
        self.assertEqual(self.srv.sent("answerCallbackQuery", since=since), [])
        self.assertIn("ignored update from unauthorized chat %d" % STRANGER, d.log())
        self.assertNotIn("PAUSED", self.ask("/status"))

    def test_pause_and_resume_are_persisted_across_restart(self):
        first = self.start()
        self.assertIn("paused", self.ask("/pause").lower())
        self.assertIn("already paused", self.ask("/pause"))
        self.assertEqual(first.stop()[0], 0)
        second = self.start(tmp=first.tmp)
        self.assertIn("PAUSED", self.ask("/status"))
        self.assertIn("resumed", self.ask("/resume").lower())
        self.assertEqual(second.stop()[0], 0)
        self.start(tmp=first.tmp)
        self.assertIn("Trading: active", self.ask("/status"))

    def test_restart_after_kill9_does_not_answer_again(self):
        first = self.start(poll_timeout_s=30)
        wait_for(lambda: self.srv.getupdates_calls() >= 1, what="first poll")
        time.sleep(0.3)             # that poll is now parked in the fake
        # The next poll (which would confirm the offset) is held back, so only
        # zepix's own persisted offset can prevent a second execution.
        self.srv.set_delay("getUpdates", 60)
        since = self.srv.last_seq()
        ids = [self.srv.push_message(ADMIN, t) for t in ("/help", "/start", "/status")]
        self.srv.wait_messages(ADMIN, 3, timeout=10, since=since)
        self.assertLess(self.srv.confirmed_offset(), ids[-1] + 1)
        self.assertEqual(len(self.srv.pending_updates()), 3)
        # kill -9 resets the daemon's keep-alive connections; keep socketserver's
        # traceback about that out of the test report
        self.srv._httpd.handle_error = lambda request, client_address: None
        first.kill9()
        self.srv.set_delay("getUpdates", 0)
        self.start(tmp=first.tmp)
        wait_for(lambda: self.srv.confirmed_offset() == ids[-1] + 1, what="offset confirmed")
        self.assertEqual(self.ask("/help"), self.sent_to(ADMIN, since)[0]["args"]["text"])
        time.sleep(0.5)
        self.assertEqual(len(self.sent_to(ADMIN, since)), 4)

    # ---- resilience -------------------------------------------------------------

    def test_429_retry_after_is_honoured(self):
        self.start()
        wait_for(self.srv.commands, what="setMyCommands")
        since = self.srv.last_seq()
        self.srv.fail_next("sendMessage", status=429, count=1, retry_after=2)
        self.srv.push_message(ADMIN, "/status")
        self.srv.wait_messages(ADMIN, 1, timeout=10, since=since)
        calls = self.srv.sent("sendMessage", since=since)
        self.assertEqual(calls[0]["status"], 429)
        ok = [r for r in calls if r["ok"]][0]
        self.assertGreaterEqual(ok["time"] - calls[0]["answered"], 1.95)
        self.assertEqual(ok["args"]["text"], calls[0]["args"]["text"])

    def test_getupdates_errors_and_garbage_do_not_stop_polling(self):
        d = self.start()
        wait_for(lambda: self.srv.getupdates_calls() >= 1, what="first poll")
        base = self.srv.getupdates_calls()
        # the parked poll ends normally; then one 502, then garbage until turned off
        self.srv.fail_next("getUpdates", status=502, count=1, retry_after=None)
        self.srv.set_garbage("getUpdates", True)
        wait_for(lambda: self.srv.getupdates_calls() >= base + 2, timeout=10, what="polls on garbage")
        self.srv.set_garbage("getUpdates", False)
        t0 = time.time()
        reply = self.ask("/status", timeout=10)
        self.assertIn("Trading:", reply)
        # backoff (1 s, then 2 s), not a spin
        self.assertLessEqual(self.srv.getupdates_calls() - base, 4)
        self.assertGreaterEqual(time.time() - t0, 1.0)
        self.assertIn("getUpdates failed", d.log())

    def test_rejected_token_backs_off_and_is_never_logged(self):
        d = self.start(token="654321:WRONGtoken_abcdefghijklmnopqrstuvwxyz0")
        wait_for(lambda: "Telegram token rejected" in d.log(), what="401 logged")
        n = self.srv.getupdates_calls()
        time.sleep(1.5)
        self.assertEqual(self.srv.getupdates_calls(), n)       # waiting 60 s, not spinning
        self.assertNotIn("WRONGtoken", d.log())

    def test_token_never_appears_in_the_log(self):
        d = self.start()
        self.ask("/help")
        self.srv.fail_next("sendMessage", status=500, count=1, retry_after=None)
        self.ask("/status", timeout=10)
        self.assertNotIn(TOKEN.split(":")[1], d.log())

    def test_replies_to_one_chat_are_one_second_apart(self):
        self.start()
        wait_for(self.srv.commands, what="setMyCommands")
        since = self.srv.last_seq()
        for _ in range(3):
            self.srv.push_message(ADMIN, "/status")
        self.srv.wait_messages(ADMIN, 3, timeout=10, since=since)
        times = [r["time"] for r in self.sent_to(ADMIN, since)]
        for a, b in zip(times, times[1:]):
            self.assertGreaterEqual(b - a, 0.9)

    def test_inline_button_runs_the_command_and_is_answered(self):
        self.start()
        since = self.srv.last_seq()
        self.srv.push_callback(ADMIN, "cmd:/pause")
        rec = self.srv.wait_sent("answerCallbackQuery", since=since)
        self.assertTrue(rec["args"]["callback_query_id"])
        reply = self.srv.wait_messages(ADMIN, 1, since=since)[0]
        self.assertIn("paused", reply.lower())
        self.assertIn("PAUSED", self.ask("/status"))
        # the reply carries a Resume button that runs /resume
        sent = self.sent_to(ADMIN, since)[0]
        button = sent["args"]["reply_markup"]["inline_keyboard"][0][0]
        self.assertEqual(button["callback_data"], "cmd:/resume")


class ConsoleTest(unittest.TestCase):
    def test_console_on_a_pty_answers_and_survives_eof(self):
        d = Daemon({"console": {"enabled": True}})
        master, slave = pty.openpty()
        try:
            d.write_config()
            d.logf = open(d.log_path, "ab")
            d.proc = subprocess.Popen([BIN, "-c", d.config_path], cwd=ROOT, stdin=slave,
                                      stdout=slave, stderr=d.logf, env=d.env)
            os.close(slave)
            slave = None
            d.wait_healthy()
            out = self.read_until(master, b"type /help")
            os.write(master, b"/help\n")
            # The whole list, however the terminal chunks it.
            out, end = b"", time.time() + 5
            while not all(("/%s " % n).encode() in out for n in COMMANDS) and time.time() < end:
                if select.select([master], [], [], 0.5)[0]:
                    out += os.read(master, 4096)
            text = out.decode()
            for name in COMMANDS:
                self.assertIn("/" + name, text)
            self.assertNotIn("<b>", text)
            self.assertNotIn("<code>", text)
            os.write(master, b"/frob<x>\n")
            self.assertIn(b"Unknown command /frob<x>. Try /help", self.read_until(master, b"Try /help"))
            os.write(master, b"\x04")           # Ctrl-D: end of input
            wait_for(lambda: "end of input" in d.log(), what="console EOF")
            self.assertEqual(d.get("/healthz")[0], 200)
            self.assertIsNone(d.proc.poll())
            code, _ = d.stop()
            self.assertEqual(code, 0)
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
            d.cleanup()

    @staticmethod
    def read_until(fd, needle, timeout=5.0):
        buf = b""
        end = time.time() + timeout
        while needle not in buf:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("no %r in console output: %r" % (needle, buf))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                try:
                    buf += os.read(fd, 4096)
                except OSError:
                    break
        return buf


if __name__ == "__main__":
    unittest.main()
