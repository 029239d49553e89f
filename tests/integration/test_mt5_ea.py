"""The real EA (scripts/mt5/ZepixBridge.mq5, compiled by g++ on the MQL5 shim of
tests/mt5/ and run by its fake terminal, tests/fixtures/mt5_terminal.py) against
the real daemon (broker.kind "mt5"). Each test is a defect of issue #15 that the
EA of before this round had: restarts in every phase (a request is never run
twice nor lost), netting accounts, a disconnected terminal or another account,
deal history lag, manual and partial closes, commissions and fees, volume steps,
stops levels, filling modes, symbol mapping, long plugin ids, a new zepix
database, control characters, backoff while zepix is down, the slippage input."""
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_telegram import FakeTelegram  # noqa: E402
from mt5_terminal import DEFAULT_SYMBOL, Terminal  # noqa: E402
from zx import Daemon, free_port, plugin_dir  # noqa: E402

SECRET = "test-secret"
MT5_SECRET = "mt5-bridge-secret"
TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
ENV = {"no_proxy": "*", "NO_PROXY": "*"}
LONG_ID = "strategy_breakout_london_v2"
COMMISSION = 7.0            # per lot, half on the entry deal, half on the exit (the fake server)


def wait_for(fn, timeout=8.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.03)
    raise AssertionError("timed out waiting for " + what)


class EA(unittest.TestCase):
    symbols = None
    server = {}
    inputs = {}
    start_terminal = True

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-ea-")
        self.port = free_port()
        self.srv = FakeTelegram(token=TOKEN).start()
        self.d = None
        self.start_daemon()
        self.term = Terminal(self.tmp, self.d.base + "/mt5/poll", MT5_SECRET, symbols=self.symbols,
                             inputs=self.inputs, **self.server)
        if self.start_terminal:
            self.term.start()
            wait_for(lambda: self.polled(), what="the EA's first poll")

    def start_daemon(self, data="data"):
        pdir = plugin_dir(self.tmp, {"passthru": "passthru", "sltp": "sltp", LONG_ID: LONG_ID})
        cfg = {"telegram": {"token": TOKEN, "api_base": self.srv.base_url, "admin_chat_ids": [ADMIN],
                            "poll_timeout_s": 2},
               "plugin_system": {"plugin_dir": pdir, "data_dir": os.path.join(self.tmp, data)},
               "plugins": {"passthru": {"enabled": True}, "sltp": {"enabled": True}, LONG_ID: {"enabled": True}},
               "symbols": {"EURUSD": {"pip_size": 0.0001, "contract_size": 100000},
                           "XAUUSD": {"pip_size": 0.1, "contract_size": 100}},
               "broker": {"kind": "mt5", "mt5": {"secret": MT5_SECRET, "poll_hold_ms": 300, "stale_after_s": 3}}}
        self.data = data
        self.d = Daemon(cfg, tmp=self.tmp, env=ENV, port=self.port).start()

    def tearDown(self):
        self.term.kill()
        if self.d:
            code, _ = self.d.stop()
            self.d.cleanup()
        self.srv.stop()
        if os.environ.get("KEEP"):
            print(self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- helpers -----------------------------------------------------------------
    def polled(self):
        return self.term.state().get("webrequests", 0) > 1

    def signal(self, **kw):
        body = {"secret": SECRET}
        body.update(kw)
        return self.d.post_json("/webhook", body)

    def trades(self, plugin="passthru"):
        con = sqlite3.connect(os.path.join(self.tmp, self.data, "zepix_%s.db" % plugin))
        con.row_factory = sqlite3.Row
        rows = [dict(r) for r in con.execute("SELECT * FROM trades ORDER BY id")]
        con.close()
        return rows

    def trade(self, tid, plugin="passthru"):
        return next(t for t in self.trades(plugin) if t["id"] == tid)

    def send(self, plugin="passthru", **kw):
        st, j = self.signal(plugin=plugin, **kw)
        self.assertEqual(st, 200, j)
        self.assertEqual(j["results"][0]["status"], "executed", j)
        return j["results"][0]["trade_id"]

    def open_trade(self, side="buy", lot=0.1, plugin="passthru", symbol="EURUSD", **kw):
        tid = self.send(plugin=plugin, action=side, symbol=symbol, lot=lot, **kw)
        wait_for(lambda: self.trade(tid, plugin)["broker_state"] in ("filled", "rejected"),
                 what="the fill of #%d" % tid)
        return self.trade(tid, plugin)

    def notes(self, text):
        return sum(r["args"].get("text", "").count(text) for r in self.srv.sent("sendMessage"))

    def money(self, side, open_, close, lot, contract=100000):
        sign = 1 if side == "buy" else -1
        return sign * (close - open_) * lot * contract


class Basics(EA):
    def test_round_trip_books_the_deals_money_with_commission_and_fees(self):
        # Defect 10: entry commission and DEAL_FEE were left out of the money.
        t = self.open_trade(lot=0.2, sl=1.09, tp=1.12)
        pos = self.term.position(t["order_id"])
        self.assertIsNotNone(pos, self.term.positions())
        self.assertAlmostEqual(t["entry_price"], pos["price_open"])
        self.assertEqual(pos["comment"], "zx:passthru:%d" % t["id"])
        self.term.cmd("quote EURUSD 1.10112 1.10122")
        self.send(action="close", symbol="EURUSD")
        c = wait_for(lambda: self.trade(t["id"])["status"] == "CLOSED" and self.trade(t["id"]), what="the close")
        out = self.term.deals(entry=1, position_id=t["order_id"])[0]
        self.assertAlmostEqual(c["exit_price"], out["price"])
        want = round(self.money("buy", pos["price_open"], out["price"], 0.2) - COMMISSION * 0.2, 2)
        self.assertAlmostEqual(c["profit_dollars"], want, places=2)
        self.assertEqual(len(self.term.requests(action=1)), 2)      # one open, one close

    def test_slippage_input_is_the_orders_deviation(self):
        self.term.stop()
        self.term.start(InpSlippagePoints=7)
        self.open_trade()
        self.assertEqual([r["deviation"] for r in self.term.requests(action=1)], [7])


if __name__ == "__main__":
    unittest.main()
