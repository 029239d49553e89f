"""Interoperability: the real build/zepix against telegram-test-api (npm, by jehy),
a Bot API emulator written by people who never saw zepix. It behaves unlike our
fake in ways that matter: getUpdates answers at once (no long poll held) and
ignores the offset, its getMe is another bot (id 666), its update ids start at 1,
and it does not serve setMyCommands or sendPhoto (HTTP 500 with a JSON body that
is not Bot API JSON).

Installed by this test into build/tta with `npm install --prefix` (npm's cache
makes later runs offline); skipped with a clear line when npm or node is missing
or the install fails.

Drives it through its own client API (POST /sendMessage, /sendCallback to act as
a user; POST /getUpdates with chatId to read what the bot sent): start, /help,
/status, /plugins, a button press, /chart, /signal and a stranger; every reply
within 2 s. The one exception is /chart: the emulator has no sendPhoto, so zepix
gives the photo up after its tries (1 + 2 + 4 s of backoff) and sends its caption
as text; that reply is allowed 12 s. zepix itself is not changed for it.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from zx import BUILD, Daemon, free_port, plugin_dir  # noqa: E402

PACKAGE = "telegram-test-api@4.2.1"
PREFIX = os.path.join(BUILD, "tta")
TOKEN = "424242:INTEROPtoken_abcdefghijklmnopqrstuvwxyz"
ADMIN = 1                       # the emulator's default client: chat 1, user 1
STRANGER = 999
ENV = {"no_proxy": "*", "NO_PROXY": "*"}
LAUNCH = """
const TelegramServer = require('telegram-test-api');
const server = new TelegramServer({port: Number(process.argv[1]), host: '127.0.0.1', storeTimeout: 600});
server.start().then(() => console.log('READY'));
process.on('SIGTERM', () => server.stop().then(() => process.exit(0)));
"""


def install():
    """The package's directory, or a reason to skip."""
    if not shutil.which("npm") or not shutil.which("node"):
        return None, "npm or node not found: interoperability test against telegram-test-api skipped"
    mod = os.path.join(PREFIX, "node_modules", "telegram-test-api")
    if not os.path.isdir(mod):
        os.makedirs(PREFIX, exist_ok=True)
        p = subprocess.run(["npm", "install", "--prefix", PREFIX, "--no-audit", "--no-fund",
                            "--loglevel=error", PACKAGE], capture_output=True, timeout=300)
        if p.returncode or not os.path.isdir(mod):
            return None, ("npm install %s failed (offline?): interoperability test skipped: %s"
                          % (PACKAGE, p.stderr.decode(errors="replace")[-300:]))
    return mod, None


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


class InteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        mod, why = install()
        if not mod:
            print("\n" + why, file=sys.stderr)
            raise unittest.SkipTest(why)
        cls.port = free_port()
        cls.base = "http://127.0.0.1:%d" % cls.port
        cls.node = subprocess.Popen(["node", "-e", LAUNCH, str(cls.port)], cwd=PREFIX,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, NODE_PATH=os.path.join(PREFIX, "node_modules")))
        line = cls.node.stdout.readline().decode()
        if "READY" not in line:
            cls.node.kill()
            raise AssertionError("telegram-test-api did not start: " + line)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "node", None):
            cls.node.terminate()
            try:
                cls.node.wait(5)
            except subprocess.TimeoutExpired:
                cls.node.kill()

    def setUp(self):
        self.d = Daemon({"telegram": {"token": TOKEN, "api_base": self.base, "admin_chat_ids": [ADMIN],
                                      "poll_timeout_s": 30}}, env=ENV)
        pdir = plugin_dir(self.d.tmp, {"passthru": "passthru"})
        self.d.config["plugin_system"]["plugin_dir"] = pdir
        self.d.config["plugins"] = {"passthru": {"enabled": True}}
        self.d.start()

    def tearDown(self):
        try:
            code, _ = self.d.stop(timeout=20)
            self.assertEqual(code, 0, self.d.log()[-3000:])
        finally:
            self.d.cleanup()

    # ---- the emulator's client API ------------------------------------------------

    def user(self, chat, user=None):
        user = chat if user is None else user
        return {"from": {"id": user, "is_bot": False, "first_name": "Op", "username": "op%d" % user},
                "chat": {"id": chat, "first_name": "Op", "type": "private"}}

    def say(self, text, chat=ADMIN):
        msg = dict(self.user(chat), botToken=TOKEN, date=int(time.time()), text=text)
        if text.startswith("/"):
            msg["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
            post(self.base + "/sendCommand", msg)
        else:
            post(self.base + "/sendMessage", msg)

    def press(self, data, chat=ADMIN):
        u = self.user(chat)
        post(self.base + "/sendCallback", {"botToken": TOKEN, "date": int(time.time()), "from": u["from"],
                                           "message": dict(u, message_id=1, text="menu"), "data": data})

    def replies(self, chat=ADMIN):
        """What the bot sent to chat since the last call (the emulator marks them read)."""
        res = post(self.base + "/getUpdates", {"token": TOKEN, "chatId": chat})
        return [u["message"] for u in res["result"]]

    def ask(self, text, want=None, timeout=2.0, chat=ADMIN, press=False):
        self.replies(chat)
        t0 = time.time()
        (self.press if press else self.say)(text, chat)
        got = []
        while time.time() - t0 < timeout:
            got += self.replies(chat)
            hit = [m for m in got if want is None or want in m["text"]]
            if hit:
                return hit[0]
            time.sleep(0.05)
        raise AssertionError("no reply%s to %r within %.0f s; got %r; log:\n%s"
                             % (" with %r" % want if want else "", text, timeout, got, self.d.log()[-2000:]))

    # ---- the walk through ---------------------------------------------------------

    def test_a_phone_session_against_an_independent_bot_api(self):
        self.assertIn("/status", self.ask("/start")["text"])
        help_ = self.ask("/help")["text"]
        for name in ("/status", "/plugins", "/signal", "/chart"):
            self.assertIn(name, help_)
        self.assertIn("Trading:", self.ask("/status")["text"])
        plugins = self.ask("/plugins", want="passthru")
        buttons = [b for row in plugins["reply_markup"]["inline_keyboard"] for b in row]
        self.assertTrue(buttons)
        # Press the plugin list's Disable button, then enable it again by command.
        disable = [b for b in buttons if b["callback_data"].startswith("cmd:/disable_plugin")][0]
        self.assertIn("disabled", self.ask(disable["callback_data"], press=True)["text"])
        self.assertIn("enabled", self.ask("/enable_plugin passthru")["text"])
        reply = self.ask("/signal passthru buy EURUSD price=1.1 lot=0.1", want="executed")
        self.assertIn("passthru: executed", reply["text"])
        # /chart: no sendPhoto in the emulator; the caption comes as text (see the header).
        chart = self.ask("/chart", want="max drawdown", timeout=12)
        self.assertIn("trade", chart["text"])
        self.assertIn("its caption goes as a text message", self.d.log())
        # A stranger gets nothing, and the log says so.
        self.say("/status", chat=STRANGER)
        self.assertIn("Trading:", self.ask("/status")["text"])   # handled after the stranger
        self.assertEqual(self.replies(STRANGER), [])
        self.assertIn("ignored update from unauthorized chat %d" % STRANGER, self.d.log())
        # The emulator's getUpdates never waits: polling keeps to its floor.
        self.assertNotIn("getUpdates failed", self.d.log())
        self.assertIn("Telegram bot 666", self.d.log())


if __name__ == "__main__":
    unittest.main()
