"""The signal path over real HTTP: TradingView webhook -> journal -> plugin ->
paper broker -> the plugin's trade ledger. Every status code, duplicates, text
and JSON bodies, SL/TP closes with exact profit, and exactly-once across kill -9."""
import json
import os
import sqlite3
import tempfile
import threading
import time
import shutil
import unittest

from zx import Daemon, plugin_dir, http

SECRET = "test-secret"


def trades(d, plugin="passthru"):
    path = os.path.join(d.tmp, "data", "zepix_%s.db" % plugin)
    if not os.path.exists(path):
        return []
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM trades ORDER BY id")]
    con.close()
    return rows


def host_db(d):
    return sqlite3.connect(os.path.join(d.tmp, "data", "zepix.db"))


class SignalPath(unittest.TestCase):
    overrides = {}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-wh-")
        pdir = plugin_dir(self.tmp, {"passthru": "passthru"})
        cfg = {"plugin_system": {"plugin_dir": pdir},
               "plugins": {"passthru": {"enabled": True}},
               "symbols": {"EURUSD": {"pip_size": 0.0001, "contract_size": 100000},
                           "USDJPY": {"pip_size": 0.01, "contract_size": 100000}}}
        cfg.update(self.overrides)
        self.d = Daemon(cfg, tmp=self.tmp).start()

    def tearDown(self):
        self.d.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def signal(self, timeout=10, **kw):
        body = {"secret": SECRET}
        body.update(kw)
        return self.d.post_json("/webhook", body, timeout=timeout)


class Webhook(SignalPath):
    def test_json_alert_executes_and_records_the_trade(self):
        st, j = self.signal(plugin="passthru", action="buy", symbol="FX:EURUSD", price="1.10000",
                            lot="0.1", sl=1.095, tp="1.11", id="tv-1", comment="from tv")
        self.assertEqual(st, 200, j)
        self.assertTrue(j["ok"])
        self.assertFalse(j["duplicate"])
        self.assertEqual(j["results"][0]["plugin"], "passthru")
        self.assertEqual(j["results"][0]["status"], "executed")
        rows = trades(self.d)
        self.assertEqual(len(rows), 1)
        t = rows[0]
        self.assertEqual(t["id"], j["results"][0]["trade_id"])
        self.assertEqual(t["signal_id"], j["signal_id"])
        self.assertEqual((t["symbol"], t["direction"], t["status"]), ("EURUSD", "BUY", "OPEN"))
        self.assertAlmostEqual(t["lot_size"], 0.1)
        self.assertAlmostEqual(t["entry_price"], 1.1)
        self.assertAlmostEqual(t["sl_price"], 1.095)
        self.assertAlmostEqual(t["tp_price"], 1.11)
        self.assertEqual(t["comment"], "from tv")
        # The journal keeps the raw alert without the secret.
        raw = host_db(self.d).execute("SELECT raw, state FROM signals WHERE id=?", (j["signal_id"],)).fetchone()
        self.assertEqual(raw[1], "done")
        self.assertIn("tv-1", raw[0])
        self.assertNotIn(SECRET, raw[0])

    def test_text_alert_executes(self):
        st, _, b = self.d.post("/webhook", "passthru sell EURUSD price=1.2 lot=0.2 secret=%s" % SECRET,
                               ctype="text/plain")
        j = json.loads(b)
        self.assertEqual(st, 200, j)
        self.assertEqual(j["results"][0]["status"], "executed")
        t = trades(self.d)[0]
        self.assertEqual(t["direction"], "SELL")
        self.assertAlmostEqual(t["entry_price"], 1.2)
        self.assertAlmostEqual(t["lot_size"], 0.2)

    def test_default_lot_when_signal_has_none(self):
        st, j = self.signal(action="buy", symbol="EURUSD", price=1.1)
        self.assertEqual(st, 200, j)
        self.assertAlmostEqual(trades(self.d)[0]["lot_size"], 0.01)

    def test_same_id_is_answered_as_duplicate_and_not_executed(self):
        st1, j1 = self.signal(action="buy", symbol="EURUSD", price=1.1, id="dup-1")
        st2, j2 = self.signal(action="buy", symbol="EURUSD", price=1.1, id="dup-1")
        self.assertEqual((st1, st2), (200, 200))
        self.assertFalse(j1["duplicate"])
        self.assertTrue(j2["duplicate"])
        self.assertEqual(j1["signal_id"], j2["signal_id"])
        self.assertEqual(j1["results"], j2["results"])
        self.assertEqual(len(trades(self.d)), 1)

    def test_concurrent_copies_of_one_alert_execute_once(self):
        answers = []

        def send():
            answers.append(self.signal(action="buy", symbol="EURUSD", price=1.1, id="burst-1"))
        threads = [threading.Thread(target=send) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([a[0] for a in answers], [200] * 12)
        self.assertEqual(len({a[1]["signal_id"] for a in answers}), 1)
        self.assertEqual(sum(1 for a in answers if not a[1]["duplicate"]), 1)
        self.assertEqual(len(trades(self.d)), 1)

    def test_bad_secret_is_401_and_trades_nothing(self):
        st, j = self.d.post_json("/webhook", {"secret": "wrong", "action": "buy", "symbol": "EURUSD",
                                              "price": 1.1})
        self.assertEqual(st, 401)
        self.assertFalse(j["ok"])
        st, j = self.d.post_json("/webhook", {"action": "buy", "symbol": "EURUSD", "price": 1.1})
        self.assertEqual(st, 401)
        st, _, _ = self.d.post("/webhook", "buy EURUSD price=1.1", ctype="text/plain")
        self.assertEqual(st, 401)
        self.assertEqual(trades(self.d), [])

    def test_bad_signals_are_400_naming_the_field_and_trade_nothing(self):
        cases = [
            ({"action": "buy", "symbol": "EURUSD", "price": 1.1, "sl": 1.2}, "sl"),
            ({"action": "hold", "symbol": "EURUSD"}, "action"),
            ({"action": "buy", "symbol": "EUR/USD"}, "symbol"),
            ({"action": "buy", "symbol": "EURUSD", "lot": -1}, "lot"),
            ({"action": "buy", "symbol": "EURUSD", "stoploss": 1}, "stoploss"),
            ({"plugin": "nobody", "action": "buy", "symbol": "EURUSD"}, "plugin"),
        ]
        for body, field in cases:
            st, j = self.signal(**body)
            self.assertEqual(st, 400, (body, j))
            self.assertIn(field, j["error"], (body, j))
        # A body too broken to find the secret in cannot be authenticated.
        st, _, b = self.d.post("/webhook", '{"secret": "%s", "action": ' % SECRET)
        self.assertEqual(st, 401)
        self.assertIn("invalid JSON", json.loads(b)["error"])
        self.assertNotIn(SECRET, json.loads(b)["error"])
        self.assertEqual(trades(self.d), [])

    def test_other_paths_methods_and_sizes(self):
        self.assertEqual(self.d.get("/nope")[0], 404)
        self.assertEqual(self.d.get("/webhook")[0], 405)
        st, _, b = self.d.post("/webhook", "x" * 20000)
        self.assertEqual(st, 413)
        self.assertFalse(json.loads(b)["ok"])
        self.assertEqual(trades(self.d), [])

    def test_no_quote_fails_with_a_clear_reason(self):
        st, j = self.signal(action="buy", symbol="GBPUSD")
        self.assertEqual(st, 200)
        r = j["results"][0]
        self.assertEqual(r["status"], "failed")
        self.assertIn("no quote for GBPUSD", r["reason"])
        self.assertEqual(trades(self.d), [])

    def test_tp_close_with_exact_profit(self):
        st, j = self.signal(action="buy", symbol="EURUSD", price=1.1, sl=1.095, tp=1.105, lot=0.5)
        self.assertEqual(j["results"][0]["status"], "executed")
        st, q = self.d.post_json("/price", {"secret": SECRET, "symbol": "EURUSD", "bid": 1.1040, "ask": 1.1041})
        self.assertEqual(st, 200, q)
        self.assertEqual(trades(self.d)[0]["status"], "OPEN")
        st, q = self.d.post_json("/price", {"secret": SECRET, "symbol": "FX:EURUSD", "bid": "1.1060", "ask": "1.1061"})
        self.assertEqual(st, 200, q)
        t = trades(self.d)[0]
        self.assertEqual(t["status"], "CLOSED")
        self.assertEqual(t["close_reason"], "tp")
        self.assertAlmostEqual(t["exit_price"], 1.106)         # a buy closes at the bid
        self.assertAlmostEqual(t["profit_pips"], 60.0, places=6)
        self.assertAlmostEqual(t["profit_dollars"], 300.0, places=6)   # 0.5 x 100000 x 0.006
        self.assertIsNotNone(t["exit_time"])

    def test_sl_close_of_a_usdjpy_sell_in_dollars(self):
        self.signal(action="sell", symbol="USDJPY", price=150.0, sl=150.5, lot=1)
        self.d.post_json("/price", {"secret": SECRET, "symbol": "USDJPY", "bid": 150.55, "ask": 150.60})
        t = trades(self.d)[0]
        self.assertEqual((t["status"], t["close_reason"]), ("CLOSED", "sl"))
        self.assertAlmostEqual(t["exit_price"], 150.60)         # a sell closes at the ask
        self.assertAlmostEqual(t["profit_pips"], -60.0, places=6)
        # -0.60 JPY x 100000 = -60000 JPY, at 150.60 JPY per USD = -398.41 USD
        self.assertAlmostEqual(t["profit_dollars"], -60000 / 150.60, places=4)

    def test_close_action_closes_the_plugins_trades(self):
        self.signal(action="buy", symbol="EURUSD", price=1.1)
        self.signal(action="buy", symbol="EURUSD", price=1.1)
        st, j = self.signal(action="close_long", symbol="EURUSD")
        self.assertEqual(j["results"][0]["status"], "executed", j)
        self.assertIn("closed 2", j["results"][0]["reason"])
        self.assertEqual([t["status"] for t in trades(self.d)], ["CLOSED", "CLOSED"])
        st, j = self.signal(action="close", symbol="EURUSD")
        self.assertEqual(j["results"][0]["status"], "skipped")

    def test_bad_quotes_are_refused(self):
        for body, field in [({"symbol": "EURUSD", "bid": 1.2, "ask": 1.1}, "bid"),
                            ({"symbol": "EURUSD", "bid": "x", "ask": 1.1}, "bid"),
                            ({"symbol": "EURUSD"}, "bid"),
                            ({"symbol": "EURUSD", "price": 1.1, "extra": 1}, "extra")]:
            body["secret"] = SECRET
            st, j = self.d.post_json("/price", body)
            self.assertEqual(st, 400, body)
            self.assertIn(field, j["error"])
        st, j = self.d.post_json("/price", {"secret": "no", "symbol": "EURUSD", "price": 1.1})
        self.assertEqual(st, 401)

    def test_metrics_count_signals_and_orders(self):
        self.signal(action="buy", symbol="EURUSD", price=1.1, id="m1")
        self.signal(action="buy", symbol="EURUSD", price=1.1, id="m1")
        self.d.post_json("/webhook", {"secret": "bad", "action": "buy", "symbol": "EURUSD"})
        st, hdr, body = self.d.get("/metrics")
        text = body.decode()
        self.assertEqual(st, 200)
        self.assertTrue(hdr["Content-Type"].startswith("text/plain"))
        self.assertIn('zepix_signals_total{source="webhook",outcome="journaled"} 1', text)
        self.assertIn('zepix_signals_total{source="webhook",outcome="duplicate"} 1', text)
        self.assertIn('zepix_signals_total{source="webhook",outcome="unauthorized"} 1', text)
        self.assertIn('zepix_orders_total{plugin="passthru",result="filled"} 1', text)
        self.assertIn("zepix_open_trades 1", text)
        self.assertIn("zepix_webhook_latency_seconds_count 3", text)


class AllowedIps(SignalPath):
    overrides = {"webhook": {"allowed_ips": ["10.9.8.7", "127.0.0.1"]}}

    def test_address_not_allowed_is_closed_at_accept(self):
        # Refused before a byte is read (no 403: no answer at all), listed ones served.
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=3, source_address=("127.0.0.2", 0))
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected, OSError)):
            c.request("POST", "/webhook", json.dumps({"secret": SECRET, "action": "buy", "symbol": "EURUSD",
                                                      "price": 1.1}), {"Content-Type": "application/json"})
            c.getresponse()
        c.close()
        self.assertEqual(trades(self.d), [])
        st, j = self.signal(action="buy", symbol="EURUSD", price=1.1)
        self.assertEqual(st, 200, j)
        self.assertEqual(len(trades(self.d)), 1)


class Recovery(SignalPath):
    def restart(self, prepare=None):
        d = self.d.again()
        if prepare:
            prepare()
        self.d = d.start()

    def test_duplicate_is_recognised_after_a_restart(self):
        _, j1 = self.signal(action="buy", symbol="EURUSD", price=1.1, id="r1")
        self.restart()
        _, j2 = self.signal(action="buy", symbol="EURUSD", price=1.1, id="r1")
        self.assertTrue(j2["duplicate"])
        self.assertEqual(j1["signal_id"], j2["signal_id"])
        self.assertEqual(len(trades(self.d)), 1)

    def test_unfinished_signal_without_trades_is_failed_and_its_id_released(self):
        def inject():
            con = host_db(self.d)
            con.execute("INSERT INTO signals (source, ext_id, received_ms, raw, action, symbol, state)"
                        " VALUES ('webhook', 'lost-1', 1, 'buy EURUSD', 'buy', 'EURUSD', 'received')")
            con.commit()
            con.close()
        self.restart(inject)
        con = host_db(self.d)
        state, ext, resp = con.execute("SELECT state, ext_id, response FROM signals WHERE raw='buy EURUSD'").fetchone()
        con.close()
        self.assertEqual(state, "failed")
        self.assertIsNone(ext)
        self.assertIn("not executed", resp)
        self.assertIn("NOT executed", self.d.log())
        st, j = self.signal(action="buy", symbol="EURUSD", price=1.1, id="lost-1")
        self.assertFalse(j["duplicate"])
        self.assertEqual(j["results"][0]["status"], "executed")

    def test_unfinished_signal_with_a_trade_is_completed_not_rerun(self):
        _, j = self.signal(action="buy", symbol="EURUSD", price=1.1, id="half-1")

        def rewind():   # as if the daemon died between the trade commit and the outcome commit
            con = host_db(self.d)
            con.execute("UPDATE signals SET state='received', response=NULL WHERE id=?", (j["signal_id"],))
            con.commit()
            con.close()
        self.restart(rewind)
        con = host_db(self.d)
        state, resp = con.execute("SELECT state, response FROM signals WHERE id=?", (j["signal_id"],)).fetchone()
        con.close()
        self.assertEqual(state, "done")
        self.assertIn("recovered", resp)
        _, j2 = self.signal(action="buy", symbol="EURUSD", price=1.1, id="half-1")
        self.assertTrue(j2["duplicate"])
        self.assertEqual(len(trades(self.d)), 1)

    def test_kill_9_mid_burst_every_acknowledged_signal_executes_exactly_once(self):
        n, acked, lock = 300, {}, threading.Lock()
        stop = threading.Event()

        def sender(k):
            for i in range(k, n, 6):
                if stop.is_set():
                    return
                try:
                    st, j = self.signal(action="buy", symbol="EURUSD", price=1.1, id="k%d" % i, timeout=3)
                except OSError:
                    continue
                if st == 200:
                    with lock:
                        acked["k%d" % i] = j["signal_id"]
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        deadline = time.time() + 20
        while len(acked) < 60 and time.time() < deadline:
            time.sleep(0.002)
        self.assertGreaterEqual(len(acked), 60, self.d.log()[-3000:])
        self.d.kill9()
        stop.set()
        for t in threads:
            t.join()
        self.d = self.d.again().start()
        by_signal = {}
        for t in trades(self.d):
            by_signal[t["signal_id"]] = by_signal.get(t["signal_id"], 0) + 1
        for ext, sid in acked.items():
            self.assertEqual(by_signal.get(sid), 1, ext)
        # Resend everything: acknowledged ones are duplicates; in the end one trade per id.
        for i in range(n):
            st, j = self.signal(action="buy", symbol="EURUSD", price=1.1, id="k%d" % i)
            self.assertEqual(st, 200)
            if "k%d" % i in acked:
                self.assertTrue(j["duplicate"])
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix.db"))
        ids = dict(con.execute("SELECT ext_id, id FROM signals WHERE ext_id IS NOT NULL"))
        con.close()
        self.assertEqual(len(ids), n)
        counts = {}
        for t in trades(self.d):
            counts[t["signal_id"]] = counts.get(t["signal_id"], 0) + 1
        for ext, sid in ids.items():
            self.assertEqual(counts.get(sid), 1, ext)


if __name__ == "__main__":
    unittest.main()
