"""The MT5 bridge (broker.kind "mt5") against the real daemon and the fake EA
(tests/fixtures/fake_ea.py): a webhook signal reaches the terminal through a
held poll within milliseconds; the trade carries the terminal's ticket, fill
price and profit; requests are resent until their result arrives; a result
sent twice is applied once; closes made in the terminal (partial, full, a
position that just vanished); SL/TP moved by a plugin and in the terminal; a
rejected order; the terminal going offline and coming back (orders fail,
/status says so, the admins are told once); a poll with a wrong secret."""
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_ea import COMMISSION, FakeEA  # noqa: E402
from fake_telegram import FakeTelegram  # noqa: E402
from zx import Daemon, plugin_dir, wait_for  # noqa: E402

SECRET = "test-secret"
MT5_SECRET = "mt5-bridge-secret"
TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
ENV = {"no_proxy": "*", "NO_PROXY": "*"}


class Mt5(unittest.TestCase):
    hold_ms = 1000
    stale_s = 2

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-mt5-")
        pdir = plugin_dir(self.tmp, {"passthru": "passthru", "sltp": "sltp"})
        self.srv = FakeTelegram(token=TOKEN).start()
        cfg = {"telegram": {"token": TOKEN, "api_base": self.srv.base_url, "admin_chat_ids": [ADMIN],
                            "poll_timeout_s": 2},
               "plugin_system": {"plugin_dir": pdir},
               "plugins": {"passthru": {"enabled": True}, "sltp": {"enabled": True}},
               "broker": {"kind": "mt5", "mt5": {"secret": MT5_SECRET, "poll_hold_ms": self.hold_ms,
                                                 "stale_after_s": self.stale_s}},
               "symbols": {"EURUSD": {"pip_size": 0.0001, "contract_size": 100000},
                           "XAUUSD": {"pip_size": 0.1, "contract_size": 100, "broker_symbol": "GOLD.m"}}}
        self.d = Daemon(cfg, tmp=self.tmp, env=ENV).start()
        self.ea = FakeEA(self.d.base, MT5_SECRET)
        self.ea.set_quote("EURUSD", 1.10000, 1.10010)
        self.ea.start()
        wait_for(lambda: self.ea.polls >= 1 or self.ea.in_flight_since, what="the first poll")
        time.sleep(0.05)

    def tearDown(self):
        code, _ = self.d.stop()          # answers the held poll: the EA stops at once
        self.ea.stop()
        self.d.cleanup()
        self.srv.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(code, 0)

    # ---- helpers ---------------------------------------------------------------------

    def signal(self, **kw):
        body = {"secret": SECRET}
        body.update(kw)
        return self.d.post_json("/webhook", body)

    def trades(self, plugin="passthru"):
        con = sqlite3.connect(os.path.join(self.tmp, "data", "zepix_%s.db" % plugin))
        con.row_factory = sqlite3.Row
        rows = [dict(r) for r in con.execute("SELECT * FROM trades ORDER BY id")]
        con.close()
        return rows

    def trade(self, tid, plugin="passthru"):
        return next(t for t in self.trades(plugin) if t["id"] == tid)

    def open_trade(self, side="buy", lot=0.1, plugin="passthru", **kw):
        st, j = self.signal(plugin=plugin, action=side, symbol="EURUSD", lot=lot, **kw)
        self.assertEqual(st, 200, j)
        self.assertEqual(j["results"][0]["status"], "executed", j)
        tid = j["results"][0]["trade_id"]
        wait_for(lambda: self.trade(tid, plugin)["broker_state"] == "filled", what="the fill of #%d" % tid)
        return self.trade(tid, plugin)

    def notes(self, text):
        return sum(r["args"].get("text", "").count(text) for r in self.srv.sent("sendMessage"))

    def ask(self, text, timeout=5.0):
        since = self.srv.last_seq()
        self.srv.push_message(ADMIN, text)
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendMessage" and "zepix" in r["args"].get("text", ""),
                                 timeout=timeout, since=since)
        return rec["args"]["text"]

    # ---- the tests -------------------------------------------------------------------

    def test_broker_symbol_is_the_terminals_name_both_ways(self):
        self.ea.set_quote("GOLD.m", 2000.0, 2000.5)
        st, j = self.signal(plugin="passthru", action="buy", symbol="GOLD.m", lot=0.1)
        self.assertEqual(st, 400, j)       # the terminal's name is not a zepix symbol
        st, j = self.signal(plugin="passthru", action="buy", symbol="xauusd", lot=0.1)
        self.assertEqual((st, j["results"][0]["status"]), (200, "executed"), j)
        tid = j["results"][0]["trade_id"]
        wait_for(lambda: self.trade(tid)["broker_state"] == "filled", what="the gold fill")
        rq = [rq for _, rq in self.ea.received if rq["op"] == "open"][0]
        self.assertEqual(rq["symbol"], "GOLD.m")
        t = self.trade(tid)
        self.assertEqual(t["symbol"], "XAUUSD")
        self.assertAlmostEqual(t["entry_price"], 2000.5, places=3)   # the fake EA's fill at its ask

    def test_signal_reaches_the_terminal_through_a_held_poll_and_the_trade_carries_its_figures(self):
        # Wait until the EA's poll is being held (nothing pending).
        def held():
            since = self.ea.in_flight_since
            return since and time.time() - since > 0.3
        wait_for(held, what="a held poll")
        t0 = time.time()
        st, j = self.signal(plugin="passthru", action="buy", symbol="EURUSD", lot=0.2, sl=1.09, tp=1.12)
        self.assertEqual(st, 200, j)
        self.assertEqual(j["results"][0]["status"], "executed")
        tid = j["results"][0]["trade_id"]
        seen = wait_for(lambda: self.ea.times_received(lambda rq: rq["op"] == "open"), what="the open request")
        self.assertLess(seen[0] - t0, 0.25, "the held poll was not released at once")
        rq = [rq for _, rq in self.ea.received if rq["op"] == "open"][0]
        self.assertEqual((rq["symbol"], rq["side"], rq["volume"], rq["sl"], rq["tp"]),
                         ("EURUSD", "buy", 0.2, 1.09, 1.12))
        self.assertEqual(rq["comment"], "zx:passthru:%d" % tid)
        self.assertGreater(rq["magic"], 0)
        t = wait_for(lambda: self.trade(tid)["broker_state"] == "filled" and self.trade(tid))
        pos = self.ea.positions[t["order_id"]]
        self.assertAlmostEqual(t["entry_price"], pos["price_open"])
        self.assertAlmostEqual(t["entry_price"], 1.10012)      # ask + the terminal's slippage
        self.assertAlmostEqual(t["lot_size"], 0.2)
        self.assertEqual(t["status"], "OPEN")
        wait_for(lambda: self.notes("passthru opened #%d BUY 0.20 EURUSD at 1.10012" % tid), what="the note")
        # Closed by a signal: the trade gets the terminal's price and profit.
        self.ea.set_quote("EURUSD", 1.10112, 1.10122)
        st, j = self.signal(plugin="passthru", action="close", symbol="EURUSD")
        self.assertEqual(st, 200, j)
        self.assertEqual(j["results"][0]["status"], "executed", j)
        t = wait_for(lambda: self.trade(tid)["status"] == "CLOSED" and self.trade(tid), what="the close")
        self.assertAlmostEqual(t["exit_price"], 1.10112)
        self.assertAlmostEqual(t["profit_dollars"], round(0.001 * 0.2 * 100000 - COMMISSION * 0.2, 2))
        self.assertAlmostEqual(t["profit_pips"], 10.0)
        self.assertEqual(t["close_reason"], "signal")
        self.assertNotIn(t["order_id"], self.ea.positions)

    def test_request_is_resent_until_its_result_arrives(self):
        self.ea.withhold_polls = 4
        st, j = self.signal(plugin="passthru", action="sell", symbol="EURUSD", lot=0.1)
        tid = j["results"][0]["trade_id"]
        wait_for(lambda: self.trade(tid)["broker_state"] == "filled", what="the fill")
        sent = self.ea.times_received(lambda rq: rq["comment"] == "zx:passthru:%d" % tid)
        self.assertGreaterEqual(len(sent), 4)
        self.assertEqual(len(self.ea.positions), 1)           # executed once
        t = self.trade(tid)
        self.assertEqual((t["direction"], t["order_id"]), ("SELL", list(self.ea.positions)[0]))
        self.assertAlmostEqual(t["entry_price"], 1.09998)
        # Once applied, it is not sent again.
        n = len(self.ea.times_received(lambda rq: True))
        time.sleep(0.3)
        self.assertEqual(len(self.ea.times_received(lambda rq: True)), n)

    def test_a_result_sent_twice_is_applied_once(self):
        self.ea.duplicate_results = True
        t = self.open_trade(lot=0.3)
        self.ea.set_quote("EURUSD", 1.10100, 1.10110)
        st, j = self.signal(plugin="passthru", action="close", symbol="EURUSD")
        wait_for(lambda: self.trade(t["id"])["status"] == "CLOSED", what="the close")
        time.sleep(0.5)                                          # the copies arrive meanwhile
        rows = self.trades()
        self.assertEqual(len(rows), 1)
        self.assertAlmostEqual(rows[0]["profit_dollars"], round(0.00088 * 0.3 * 100000 - COMMISSION * 0.3, 2))
        wait_for(lambda: self.notes("closed #%d" % t["id"]), what="the close note")
        self.assertEqual(self.notes("opened #%d" % t["id"]), 1)
        self.assertEqual(self.notes("closed #%d" % t["id"]), 1)

    def test_partial_then_full_close_in_the_terminal(self):
        t = self.open_trade(lot=0.3)
        ticket = t["order_id"]
        deal = self.ea.close_in_terminal(ticket, volume=0.1, price=1.10050)
        wait_for(lambda: self.trade(t["id"])["status"] == "PARTIAL", what="the partial close")
        part = [r for r in self.trades() if r["parent_id"] == t["id"]]
        self.assertEqual(len(part), 1)
        self.assertAlmostEqual(part[0]["lot_size"], 0.1)
        self.assertAlmostEqual(part[0]["exit_price"], 1.10050)
        self.assertAlmostEqual(part[0]["profit_dollars"], deal["profit"])
        self.assertAlmostEqual(self.trade(t["id"])["lot_size"], 0.2)
        deal2 = self.ea.close_in_terminal(ticket, price=1.09950, reason="sl")
        wait_for(lambda: self.trade(t["id"])["status"] == "CLOSED", what="the full close")
        full = self.trade(t["id"])
        self.assertAlmostEqual(full["exit_price"], 1.09950)
        self.assertAlmostEqual(full["profit_dollars"], deal2["profit"])
        self.assertEqual(full["close_reason"], "sl")
        time.sleep(0.3)
        self.assertEqual(len(self.trades()), 2)                  # each deal applied once

    def test_a_position_gone_from_the_terminal_closes_with_its_last_profit(self):
        t = self.open_trade(lot=0.1)
        self.ea.set_quote("EURUSD", 1.10050, 1.10060)
        polls = self.ea.polls
        wait_for(lambda: self.ea.polls >= polls + 2, what="a poll with the new profit")
        pos = self.ea.vanish(t["order_id"])
        wait_for(lambda: self.trade(t["id"])["status"] == "CLOSED", what="the close")
        closed = self.trade(t["id"])
        self.assertEqual(closed["close_reason"], "terminal")
        self.assertAlmostEqual(closed["profit_dollars"], self.ea._profit(pos, 1.10050, 0.1))

    def test_sltp_moved_by_a_plugin_reaches_the_terminal_and_the_terminals_follow_back(self):
        t = self.open_trade(lot=0.1, plugin="sltp", sl=1.09, tp=1.12)
        st, j = self.signal(plugin="sltp", action="buy", symbol="EURUSD", comment="sltp:%d:1.095:1.115" % t["id"])
        self.assertEqual(j["results"][0]["status"], "handled", j)
        wait_for(lambda: self.ea.positions[t["order_id"]]["sl"] == 1.095, what="the modify in the terminal")
        wait_for(lambda: self.trade(t["id"], "sltp")["sl_price"] == 1.095, what="the ledger's SL")
        self.assertAlmostEqual(self.trade(t["id"], "sltp")["tp_price"], 1.115)
        self.ea.move_sltp(t["order_id"], 1.0975, 1.1125)        # moved by hand in the terminal
        wait_for(lambda: self.trade(t["id"], "sltp")["sl_price"] == 1.0975, what="the terminal's SL")
        self.assertAlmostEqual(self.trade(t["id"], "sltp")["tp_price"], 1.1125)

    def test_a_rejected_order_closes_its_trade_with_the_reason(self):
        self.ea.reject_next = "not enough money"
        st, j = self.signal(plugin="passthru", action="buy", symbol="EURUSD", lot=5)
        tid = j["results"][0]["trade_id"]
        t = wait_for(lambda: self.trade(tid)["status"] == "CLOSED" and self.trade(tid), what="the rejection")
        self.assertEqual(t["broker_state"], "rejected")
        self.assertEqual(t["close_reason"], "rejected: not enough money")
        self.assertEqual(t["profit_dollars"], 0)
        self.assertIsNone(t["order_id"])
        wait_for(lambda: self.notes("rejected: not enough money"), what="the note")

    def test_status_shows_the_terminal_and_its_account(self):
        wait_for(lambda: self.ea.polls >= 2)
        reply = self.ask("/status")
        self.assertIn("MT5 terminal: online", reply)
        self.assertIn("account 5551234 USD", reply)
        self.assertIn("balance 10000.00, equity 10000.00", reply)

    def test_terminal_offline_then_back(self):
        self.ea.stop()
        wait_for(lambda: self.notes("MT5 terminal offline"), timeout=self.stale_s + 3, what="the offline note")
        st, j = self.signal(plugin="passthru", action="buy", symbol="EURUSD", lot=0.1)
        self.assertEqual(st, 200, j)
        self.assertEqual(j["results"][0]["status"], "failed")
        self.assertIn("terminal offline", j["results"][0]["reason"])
        self.assertIn("OFFLINE", self.ask("/status"))
        time.sleep(self.stale_s + 0.5)
        self.assertEqual(self.notes("MT5 terminal offline"), 1,
                         [r["args"].get("text") for r in self.srv.sent("sendMessage")])  # told once
        self.ea.start()
        wait_for(lambda: self.notes("MT5 terminal back"), what="the back note")
        t = self.open_trade(lot=0.1)
        self.assertEqual(t["status"], "OPEN")
        self.assertEqual(len(self.trades()), 1)                  # the failed order left no trade

    def test_wrong_secret_is_refused_and_does_not_count_as_a_poll(self):
        self.ea.stop()
        bad = FakeEA(self.d.base, "not-the-secret")
        st, _ = bad.poll_once()
        self.assertEqual(st, 401)
        st, _, _ = self.d.post("/mt5/poll", "not json")
        self.assertEqual(st, 401)
        wait_for(lambda: self.notes("MT5 terminal offline"), timeout=self.stale_s + 3, what="the offline note")
        bad.poll_once()
        time.sleep(0.2)
        self.assertEqual(self.notes("MT5 terminal back"), 0,
                         [r["args"].get("text") for r in self.srv.sent("sendMessage")])


if __name__ == "__main__":
    unittest.main()
