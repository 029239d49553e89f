"""The read-only JSON API (/api/v1/...): off by default (404), a bearer token of
its own (401 without it or with a wrong one, the token never in the log), each
endpoint's answer agreeing with the ledger and the journal, and a bad or
unknown query parameter answered 400 naming it."""
import json
import os
import shutil
import sqlite3
import tempfile
import unittest

from zx import Daemon, http, plugin_dir, run_cli

SECRET = "test-secret"
TOKEN = "api-token-0123456789abcdef"
AUTH = {"Authorization": "Bearer " + TOKEN}
ENDPOINTS = ("/api/v1/status", "/api/v1/plugins", "/api/v1/trades?plugin=passthru", "/api/v1/stats",
             "/api/v1/journal")


class Api(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zepix-api-")
        pdir = plugin_dir(cls.tmp, {"passthru": "passthru", "tp_initfail": "tp_initfail"})
        # The token comes from the environment, as under systemd.
        cls.d = Daemon({"plugin_system": {"plugin_dir": pdir},
                        "plugins": {"passthru": {"enabled": True}, "tp_initfail": {"enabled": True}},
                        "api": {"enabled": True, "token": ""}},
                       tmp=cls.tmp, env={"ZEPIX_API_TOKEN": TOKEN}).start()
        for body in ({"action": "buy", "price": 1.1, "lot": 0.1, "id": "a1"},
                     {"action": "buy", "price": 1.1, "lot": 0.2, "id": "a2"}):
            body.update({"secret": SECRET, "plugin": "passthru", "symbol": "EURUSD"})
            st, j = cls.d.post_json("/webhook", body)
            assert st == 200 and j["results"][0]["status"] == "executed", j
        cls.d.post_json("/price", {"secret": SECRET, "symbol": "EURUSD", "bid": 1.1010, "ask": 1.1010})
        st, j = cls.d.post_json("/webhook", {"secret": SECRET, "plugin": "passthru", "action": "close",
                                             "symbol": "EURUSD", "id": "c1"})
        assert st == 200, j
        st, j = cls.d.post_json("/webhook", {"secret": SECRET, "plugin": "passthru", "action": "sell",
                                             "symbol": "EURUSD", "price": 1.101, "lot": 0.3})
        assert st == 200, j

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def get(self, path, headers=AUTH, status=200):
        st, hdrs, body = self.d.get(path, headers=dict(headers))
        self.assertEqual(st, status, body)
        self.assertTrue(hdrs.get("Content-Type", "").startswith("application/json"))
        j = json.loads(body)
        self.assertEqual(j["ok"], status == 200, j)
        return j

    def ledger(self, sql):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.tmp, "data", "zepix_passthru.db"), uri=True)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def test_every_endpoint_wants_the_bearer_token(self):
        for path in ENDPOINTS:
            self.assertIn("bearer token", self.get(path, headers={}, status=401)["error"])
            self.get(path, headers={"Authorization": "Bearer " + TOKEN[:-1] + "X"}, status=401)
            self.get(path, headers={"Authorization": "Bearer " + TOKEN + "X"}, status=401)
            self.get(path, headers={"Authorization": "Basic " + TOKEN}, status=401)
            self.get(path, headers={"Authorization": "bearer " + TOKEN})       # the scheme is case-insensitive
        self.assertNotIn(TOKEN, self.d.log())
        self.assertEqual(self.d.get("/api/v1/status", headers=AUTH)[0], 200)

    def test_status(self):
        j = self.get("/api/v1/status")
        self.assertEqual(j["broker"], "paper")
        self.assertIsNone(j["terminal_online"])
        self.assertFalse(j["paused"])
        self.assertIsNone(j["risk_paused"])
        self.assertEqual(j["open_trades"], 1)
        self.assertEqual(j["plugins"], {"loaded": 0, "enabled": 1, "disabled": 0, "failed": 1, "total": 2})
        self.assertEqual(j["signals_today_utc"], 4)
        self.assertGreaterEqual(j["uptime_s"], 0)
        self.assertAlmostEqual(j["account"]["balance"], 10000 + 10.0 + 20.0, places=6)

    def test_plugins(self):
        j = self.get("/api/v1/plugins")
        p = {x["id"]: x for x in j["plugins"]}
        self.assertEqual(p["passthru"]["state"], "enabled")
        self.assertEqual(p["passthru"]["open_trades"], 1)
        self.assertFalse(p["passthru"]["paused"])
        self.assertIsNone(p["passthru"]["risk_paused"])
        self.assertAlmostEqual(p["passthru"]["floating_profit"], 0.0)
        self.assertEqual(p["tp_initfail"]["state"], "failed")
        self.assertTrue(p["tp_initfail"]["reason"])

    def test_trades_agree_with_the_ledger_and_page(self):
        j = self.get("/api/v1/trades?plugin=passthru")
        want = self.ledger("SELECT id, direction, lot_size, status, profit_dollars FROM trades ORDER BY id")
        self.assertEqual([(t["id"], t["direction"], t["lot_size"], t["status"], t["profit_dollars"])
                          for t in j["trades"]], want)
        self.assertFalse(j["more"])
        j = self.get("/api/v1/trades?plugin=passthru&limit=2")
        self.assertEqual([t["id"] for t in j["trades"]], [w[0] for w in want[:2]])
        self.assertTrue(j["more"])
        self.assertEqual(self.get("/api/v1/trades?plugin=passthru&since=4102444800")["trades"], [])   # 2100

    def test_stats_are_the_figures_of_stats(self):
        j = self.get("/api/v1/stats?plugin=passthru&period=week")
        self.assertEqual(j["period"], "week")
        row = j["plugins"][0]
        self.assertEqual((row["plugin"], row["trades"], row["wins"], row["losses"]), ("passthru", 2, 2, 0))
        self.assertAlmostEqual(row["profit"], 30.0)
        self.assertAlmostEqual(j["total"]["profit"], 30.0)
        self.assertIsNone(self.get("/api/v1/stats?period=all")["from"])
        self.assertEqual(self.get("/api/v1/stats")["period"], "today")

    def test_journal_lists_the_last_signals_with_outcomes(self):
        j = self.get("/api/v1/journal?n=2")
        self.assertEqual(len(j["signals"]), 2)
        newest = j["signals"][0]
        self.assertEqual((newest["action"], newest["source"], newest["state"]), ("sell", "webhook", "done"))
        self.assertEqual(newest["results"][0]["plugin"], "passthru")
        self.assertEqual(newest["results"][0]["status"], "executed")
        self.assertEqual(j["signals"][1]["ext_id"], "c1")
        self.assertNotIn("raw", newest)
        self.assertNotIn(SECRET, json.dumps(j))
        self.assertEqual(len(self.get("/api/v1/journal")["signals"]), 4)

    def test_bad_query_parameters_are_named(self):
        cases = [("/api/v1/trades", "plugin"), ("/api/v1/trades?plugin=nosuch", "plugin"),
                 ("/api/v1/trades?plugin=passthru&since=yesterday", "since"),
                 ("/api/v1/trades?plugin=passthru&since=-1", "since"),
                 ("/api/v1/trades?plugin=passthru&limit=0", "limit"),
                 ("/api/v1/trades?plugin=passthru&limit=5000", "limit"),
                 ("/api/v1/trades?plugin=passthru&sinse=1", "sinse"),
                 ("/api/v1/stats?period=year", "period"), ("/api/v1/stats?plugin=x", "plugin"),
                 ("/api/v1/journal?n=abc", "n"), ("/api/v1/journal?n=0", "n"), ("/api/v1/status?x=1", "x")]
        for path, name in cases:
            err = self.get(path, status=400)["error"]
            self.assertTrue(err.startswith(name + ":"), (path, err))

    def test_read_only(self):
        st, _, _ = http("POST", self.d.base + "/api/v1/status", "{}", dict(AUTH, **{"Content-Type": "application/json"}))
        self.assertEqual(st, 405)


class ApiOff(unittest.TestCase):
    def test_off_by_default_every_path_is_404(self):
        d = Daemon().start()
        try:
            for path in ENDPOINTS:
                st, _, body = d.get(path, headers=AUTH)
                self.assertEqual(st, 404, body)
        finally:
            d.cleanup()

    def test_enabled_without_a_token_is_a_configuration_error(self):
        tmp = tempfile.mkdtemp(prefix="zepix-apic-")
        try:
            path = os.path.join(tmp, "c.json")
            d = Daemon({"api": {"enabled": True, "token": "short"}}, tmp=tmp)
            d.config_path = path
            d.write_config()
            code, out, err = run_cli(["--check-config", "-c", path])
            self.assertEqual(code, 2)
            self.assertIn("api.token", err)
            self.assertIn("16", err)
            self.assertNotIn("short", err)
            code, out, err = run_cli(["--check-config", "-c", path], env={"ZEPIX_API_TOKEN": TOKEN})
            self.assertEqual(code, 0, err)
            self.assertNotIn(TOKEN, out + err)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
