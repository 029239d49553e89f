"""/preview and POST /preview (SPEC 12): a signal runs through each plugin's
on_signal_received in a throwaway sandbox and the host's lot rules and risk
checks; the answer shows verdict, reason, lot, SL/TP and the risk check, and
nothing is placed, journaled or written to the real databases."""
import glob
import json
import shutil
import sqlite3
import tempfile
import unittest

from test_newcomer import ConsoleDaemon, trades
from zx import plugin_dir

SECRET = "test-secret"


def signals(d):
    con = sqlite3.connect("file:%s/data/zepix.db?mode=ro" % d.tmp, uri=True)
    try:
        return con.execute("SELECT count(*) FROM signals").fetchone()[0]
    finally:
        con.close()


class Preview(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-prv-")
        pdir = plugin_dir(self.tmp, {"passthru": "passthru", "tp_ok": "tp_ok"})
        self.before = set(glob.glob("/tmp/zepix-preview-*"))
        self.d = ConsoleDaemon({"console": {"enabled": True}, "plugin_system": {"plugin_dir": pdir},
                                "plugins": {"passthru": {"enabled": True}, "tp_ok": {"enabled": True}},
                                "risk": {"per_plugin": {"passthru": {"max_lot": 0.5}}}}, tmp=self.tmp).start()

    def tearDown(self):
        code, _ = self.d.stop()
        self.d.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(code, 0)

    def test_preview_shows_each_verdict_and_places_nothing(self):
        st, j = self.d.post_json("/price", {"secret": SECRET, "symbol": "EURUSD", "bid": 1.1, "ask": 1.1})
        out = self.d.ask("/preview buy EURUSD sl_pips=20 lot=0.8 comment=self", timeout=10)
        self.assertIn("nothing placed, nothing journaled", out)
        self.assertIn("passthru: accept", out)
        self.assertIn("lot 0.80, sl 1.098", out)
        self.assertIn("risk check: risk: plugin max_lot 0.50 (this order 0.80 lots)", out)
        self.assertIn("tp_ok: handled", out)
        self.assertIn("it would ask: buy 0.03 EURUSD", out)
        out = self.d.ask("/preview tp_ok buy EURUSD comment=reject", timeout=10)
        self.assertIn("tp_ok: reject (told to reject)", out)
        self.assertNotIn("passthru", out.split("Preview")[1])
        # nothing happened for real
        self.assertEqual(signals(self.d), 0)
        self.assertEqual(trades(self.d), [])
        self.assertEqual(trades(self.d, "tp_ok"), [])
        self.assertEqual(set(glob.glob("/tmp/zepix-preview-*")), self.before)
        self.assertIn("❌ sl: 20 is", self.d.ask("/preview sell EURUSD price=1.1 sl=20"))

    def test_post_preview_takes_the_webhook_body_and_secret(self):
        st, _, b = self.d.post("/preview", json.dumps({"secret": SECRET, "plugin": "passthru", "action": "buy",
                                                      "symbol": "EURUSD", "price": 1.1, "lot": 0.2}))
        j = json.loads(b)
        self.assertEqual(st, 200, j)
        r = j["results"][0]
        self.assertEqual((r["plugin"], r["verdict"], r["lot"], r["risk"]), ("passthru", "accept", 0.2, "ok"))
        st, _, _ = self.d.post("/preview", json.dumps({"secret": "nope", "action": "buy", "symbol": "EURUSD"}))
        self.assertEqual(st, 401)
        self.assertEqual(signals(self.d), 0)
        self.assertEqual(trades(self.d), [])


if __name__ == "__main__":
    unittest.main()
