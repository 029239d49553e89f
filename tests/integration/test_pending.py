"""Pending orders (SPEC 12 buy_limit, buy_stop, sell_limit, sell_stop, cancel)
through the real binary and the paper broker: a working order fills on a later
POST /price that reaches its entry (and survives a restart while it waits),
one expires, one is cancelled; PineConnector's buylimit/cancellong; /positions
lists working orders; an entry on the wrong side of the quote is refused
naming the field."""
import json
import sqlite3
import time
import unittest

from test_newcomer import ConsoleDaemon, trades
from test_risk import Base, SECRET


def orders(d, plugin="passthru"):
    con = sqlite3.connect("file:%s/data/zepix_%s.db?mode=ro" % (d.tmp, plugin), uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM orders ORDER BY id")]
    finally:
        con.close()


class Pending(Base):
    def bad(self, text):
        st, _, b = self.d.post("/webhook", text + " secret=" + SECRET, ctype="text/plain")
        j = json.loads(b)
        self.assertEqual(st, 400, j)
        return j["error"]

    def until_state(self, state, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            o = orders(self.d)
            if o and o[-1]["state"] == state:
                return o[-1]
            time.sleep(0.05)
        self.fail("order never became %s: %r" % (state, orders(self.d)))

    def test_a_limit_order_works_until_a_later_price_fills_it_also_across_a_restart(self):
        d = self.start({}, cls=ConsoleDaemon)
        self.quote(1.1000, 1.1002)
        r = self.sig("passthru buy_limit EURUSD entry=1.0990 lot=0.1 sl=1.0970 tp=1.1050")[0]
        self.assertEqual(r["status"], "executed", r)
        self.assertNotIn("trade_id", r)             # no trade yet: the order works
        self.assertIn("buy_limit 0.10 EURUSD at 1.09900 working as order #1", r["reason"])
        self.assertEqual(trades(d), [])
        o = orders(d)[0]
        self.assertEqual((o["type"], o["state"], o["entry_price"], o["lot_size"]), ("buy_limit", "working", 1.099, 0.1))
        reply = d.ask("/positions")
        self.assertIn("1 working order", reply)
        self.assertIn("passthru order #1 buy_limit 0.10 EURUSD @1.099", reply)
        # the wrong side of the quote would fill at once: refused, naming the field
        self.assertIn("entry: 1.1005 must be below the ask 1.1002 for a buy_limit", self.bad(
            "passthru buy_limit EURUSD entry=1.1005 lot=0.1"))
        self.assertIn("entry: 1.0995 must be above the ask 1.1002 for a buy_stop", self.bad(
            "passthru buy_stop EURUSD entry=1.0995 lot=0.1"))
        self.assertIn("entry: required for sell_limit", self.bad("passthru sell_limit EURUSD lot=0.1"))
        self.quote(1.0995, 1.0997)                  # not reached yet
        self.assertEqual(orders(d)[0]["state"], "working")
        # a restart while it waits: it is watched again
        code, _ = d.stop()
        self.assertEqual(code, 0)
        d.cleanup()
        d = self.d = ConsoleDaemon(d.config, tmp=self.tmp, env=d.env, port=d.port).start()
        self.assertIn("passthru: 1 working order(s) restored", d.log())
        self.quote(1.0988, 1.0990)                  # ask <= entry: filled at the ask
        t = trades(d)
        self.assertEqual(len(t), 1, t)
        self.assertEqual((t[0]["direction"], t[0]["status"], t[0]["entry_price"], t[0]["sl_price"]),
                         ("BUY", "OPEN", 1.099, 1.097))
        o = orders(d)[0]
        self.assertEqual((o["state"], o["trade_id"]), ("filled", t[0]["id"]))
        self.assertEqual(o["signal_id"], t[0]["signal_id"])
        self.assertIn("passthru opened #%d BUY 0.10 EURUSD at 1.09900" % t[0]["id"], d.log())
        reply = d.ask("/positions")
        self.assertIn("1 open trade", reply)
        self.assertNotIn("working order", reply)
        self.quote(1.0968, 1.0970)                  # and it is a trade like any other: its SL closes it
        self.assertEqual(trades(d)[0]["status"], "CLOSED")

    def test_an_order_expires_and_a_late_price_does_not_fill_it(self):
        self.start({})
        self.quote(1.1000, 1.1002)
        r = self.sig("passthru sell_limit EURUSD entry=1.1010 lot=0.1 expiry_s=1")[0]
        self.assertEqual(r["status"], "executed", r)
        self.assertIn("sell_limit 0.10 EURUSD at 1.10100 working as order #1 (expires ", r["reason"])
        o = self.until_state("expired")             # the daemon's tick, no quote needed
        self.assertTrue(o["done_ms"] >= o["expiry_ms"] > o["created_ms"], o)
        self.quote(1.1011, 1.1013)                  # bid >= entry, too late
        self.assertEqual(trades(self.d), [])
        self.assertIn("passthru order #1 sell_limit 0.10 EURUSD at 1.10100 expired", self.d.log())

    def test_cancel_ends_the_plugins_working_orders_on_the_symbol(self):
        self.start({})
        self.quote(1.1000, 1.1002)
        self.assertEqual(self.sig("passthru buy_stop EURUSD entry=1.1010 lot=0.1")[0]["status"], "executed")
        self.assertEqual(self.sig("tp_ok buy_stop EURUSD entry=1.1010 lot=0.1")[0]["status"], "executed")
        r = self.sig("passthru cancel EURUSD")[0]
        self.assertEqual((r["status"], r["reason"]), ("executed", "cancelled 1 working order"), r)
        self.assertEqual(orders(self.d)[0]["state"], "cancelled")
        r = self.sig("passthru cancel EURUSD")[0]
        self.assertEqual((r["status"], r["reason"]), ("skipped", "no working EURUSD orders to cancel"), r)
        self.quote(1.1012, 1.1014)                  # ask >= entry: only tp_ok's order fills
        self.assertEqual(trades(self.d), [])
        self.assertEqual([(t["direction"], t["status"]) for t in trades(self.d, "tp_ok")], [("BUY", "OPEN")])
        self.assertEqual(orders(self.d, "tp_ok")[0]["state"], "filled")

    def test_pineconnector_pending_orders_take_price_in_pips_and_cancel_by_side(self):
        self.start({})
        self.quote(1.1000, 1.1002)
        st, _, b = self.d.post("/webhook", SECRET + ",buylimit,EURUSD,price=10,sl=20,vol_lots=0.1,plugin=passthru",
                               ctype="text/plain")
        j = json.loads(b)
        self.assertEqual(st, 200, j)
        self.assertEqual(j["results"][0]["status"], "executed", j)
        o = orders(self.d)[0]
        self.assertAlmostEqual(o["entry_price"], 1.1002 - 0.0010)     # 10 pips below the ask
        self.assertAlmostEqual(o["sl_price"], 1.0992 - 0.0020)        # 20 pips from the entry
        st, _, b = self.d.post("/webhook", SECRET + ",cancelshort,EURUSD,plugin=passthru", ctype="text/plain")
        self.assertEqual(json.loads(b)["results"][0]["status"], "skipped", b)
        st, _, b = self.d.post("/webhook", SECRET + ",cancellong,EURUSD,plugin=passthru", ctype="text/plain")
        self.assertEqual(json.loads(b)["results"][0]["reason"], "cancelled 1 working order", b)
        self.assertEqual(orders(self.d)[0]["state"], "cancelled")


if __name__ == "__main__":
    unittest.main()
