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
from zx import Daemon, free_port, plugin_dir, wait_for as zx_wait_for  # noqa: E402

SECRET = "test-secret"
MT5_SECRET = "mt5-bridge-secret"
TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
ENV = {"no_proxy": "*", "NO_PROXY": "*"}
LONG_ID = "strategy_breakout_london_v2"
COMMISSION = 7.0            # per lot, half on the entry deal, half on the exit (the fake server)


def wait_for(fn, timeout=8.0, what="condition"):
    """zx.wait_for with this file's longer default (the EA polls on a timer)."""
    return zx_wait_for(fn, timeout=timeout, what=what)


class EA(unittest.TestCase):
    symbols = None
    server = {}
    inputs = {}
    start_terminal = True
    mt5_cfg = {}

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
               "broker": {"kind": "mt5", "mt5": dict({"secret": MT5_SECRET, "poll_hold_ms": 300, "stale_after_s": 3},
                                                     **self.mt5_cfg)}}
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

    def inject_close(self, t, volume, plugin="passthru"):
        """A partial close request as mt5_submit() queues it (no signal asks for
        part of a position; a plugin does, through the service API)."""
        con = sqlite3.connect(os.path.join(self.tmp, self.data, "zepix.db"), timeout=5)
        rq = con.execute("SELECT payload FROM mt5_requests WHERE plugin = ? AND trade_id = ? AND op = 'open'",
                         (plugin, t["id"])).fetchone()
        pl = json.loads(rq[0])
        pl.update(op="close", volume=volume, ticket=t["order_id"], sl=0, tp=0)
        con.execute("INSERT INTO mt5_requests (plugin, trade_id, op, payload, created_ms) VALUES (?, ?, 'close', ?, ?)",
                    (plugin, t["id"], json.dumps(pl, separators=(",", ":")), int(time.time() * 1000)))
        con.commit()
        con.close()

    def result_of(self, op):
        """The result the daemon applied for the last request of op, or None."""
        con = sqlite3.connect(os.path.join(self.tmp, self.data, "zepix.db"), timeout=5)
        row = con.execute("SELECT result FROM mt5_requests WHERE op = ? AND state = 'done' ORDER BY request_id DESC",
                          (op,)).fetchone()
        con.close()
        return json.loads(row[0]) if row else None

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


class Restarts(EA):
    """Defect 1 and 7: the EA's memory is lost in a restart; the file is not."""

    def restart(self, crash=None, **inputs):
        self.term.kill()
        self.term.start(crash=crash, **inputs)

    def crash_on(self, crash, fn):
        """Restart the EA with the crash point armed, do fn(), expect the crash,
        start it again normally."""
        self.restart(crash=crash)
        wait_for(lambda: self.term.state().get("webrequests", 0) > 0, what="a poll")
        r = fn()
        self.assertEqual(self.term.wait_exit(10), 99, self.term.output())
        self.term.start()
        return r

    def test_crash_after_the_order_was_executed_opens_once(self):
        tid = self.crash_on("after_send:1", lambda: self.send(action="buy", symbol="EURUSD", lot=0.1))
        t = wait_for(lambda: self.trade(tid)["broker_state"] == "filled" and self.trade(tid), what="the fill")
        self.assertEqual(len(self.term.positions()), 1)
        self.assertEqual(len(self.term.requests(action=1)), 1)
        self.assertEqual(t["order_id"], self.term.positions()[0]["ticket"])
        wait_for(lambda: "was run before the restart" in self.term.output(), what="the EA's look-up")
        time.sleep(0.3)
        self.assertEqual(len(self.term.requests(action=1)), 1)

    def test_crash_before_the_order_reached_the_server_opens_it_after_the_restart(self):
        tid = self.crash_on("before_send:1", lambda: self.send(action="buy", symbol="EURUSD", lot=0.1))
        wait_for(lambda: self.trade(tid)["broker_state"] == "filled", what="the fill")
        self.assertEqual(len(self.term.positions()), 1)
        self.assertEqual(len(self.term.requests(action=1)), 1)

    def test_crash_after_a_partial_close_closes_the_part_once(self):
        t = self.open_trade(lot=0.3)
        self.crash_on("after_send:1", lambda: self.inject_close(t, 0.1))
        wait_for(lambda: self.trade(t["id"])["status"] == "PARTIAL", what="the partial close")
        time.sleep(1.0)
        self.assertAlmostEqual(self.term.position(t["order_id"])["volume"], 0.2)
        self.assertAlmostEqual(self.trade(t["id"])["lot_size"], 0.2)
        self.assertEqual(len([r for r in self.trades() if r["parent_id"] == t["id"]]), 1)
        self.assertEqual(len(self.term.requests(action=1)), 2)

    def test_crash_with_a_result_not_yet_delivered_delivers_it(self):
        tid = self.crash_on("before_result_poll:1", lambda: self.send(action="buy", symbol="EURUSD", lot=0.1))
        t = wait_for(lambda: self.trade(tid)["broker_state"] == "filled" and self.trade(tid), what="the fill")
        self.assertEqual(len(self.term.requests(action=1)), 1)
        self.assertEqual(t["order_id"], self.term.positions()[0]["ticket"])

    def test_crash_with_the_answer_lost_runs_the_request_once(self):
        tid = self.crash_on("after_request_answer:1", lambda: self.send(action="buy", symbol="EURUSD", lot=0.1))
        wait_for(lambda: self.trade(tid)["broker_state"] == "filled", what="the fill")
        time.sleep(0.5)
        self.assertEqual(len(self.term.requests(action=1)), 1)

    def test_position_closed_by_sl_while_the_ea_was_down_is_booked_with_its_loss(self):
        self.restart(crash="after_send:1")
        wait_for(lambda: self.term.state().get("webrequests", 0) > 0, what="a poll")
        tid = self.send(action="buy", symbol="EURUSD", lot=0.1, sl=1.0990)
        self.assertEqual(self.term.wait_exit(10), 99)
        self.term.start(InpRestartGraceS=3)            # the EA waits: meanwhile the SL is hit
        ticket = wait_for(lambda: self.term.positions() and self.term.positions()[0]["ticket"], what="position")
        self.term.cmd("close %d 0 1.09900 sl" % ticket)
        t = wait_for(lambda: self.trade(tid)["status"] == "CLOSED" and self.trade(tid), timeout=10,
                     what="the SL close")
        self.assertEqual(t["close_reason"], "sl")
        self.assertAlmostEqual(t["exit_price"], 1.09900)
        out = self.term.deals(entry=1)[0]
        self.assertAlmostEqual(t["profit_dollars"], round(out["profit"] - COMMISSION * 0.1, 2), places=2)
        self.assertEqual(len(self.term.requests(action=1)), 1)      # never opened again

    def test_manual_close_after_a_restart_is_reported(self):
        # Defect 6: closing deals were filtered by DEAL_MAGIC (0 for a manual close).
        t = self.open_trade(lot=0.2)
        self.restart()
        wait_for(lambda: self.term.state().get("webrequests", 0) > 2, what="polls")
        self.term.cmd("close %d 0.05 1.10100 client" % t["order_id"])
        wait_for(lambda: self.trade(t["id"])["status"] == "PARTIAL", what="the manual partial close")
        self.term.cmd("close %d 0 1.10200 client" % t["order_id"])
        c = wait_for(lambda: self.trade(t["id"])["status"] == "CLOSED" and self.trade(t["id"]), what="the close")
        self.assertAlmostEqual(c["exit_price"], 1.10200)
        total = sum(r["profit_dollars"] for r in self.trades())
        want = sum(d["profit"] for d in self.term.deals(entry=1)) - COMMISSION * 0.2
        self.assertAlmostEqual(total, round(want, 2), places=1)


class Netting(EA):
    server = {"margin_mode": 0}
    start_terminal = False

    def test_a_netting_account_is_refused_at_init(self):
        # Defect 3: two plugins' buys merged into one position on netting.
        self.term.start()
        self.assertEqual(self.term.wait_exit(10), 3)
        self.assertIn("not a hedging account", self.term.output())
        self.assertEqual(self.term.state().get("webrequests", 0), 0)


class Connection(EA):
    def test_a_disconnected_terminal_closes_nothing(self):
        # Defect 4: an empty position list from a terminal not synchronised.
        t = self.open_trade(lot=0.1)
        self.term.cmd("set connected 0")
        n = self.term.state()["webrequests"]
        wait_for(lambda: self.term.state()["webrequests"] > n + 3, what="polls while disconnected")
        self.assertEqual(self.trade(t["id"])["status"], "OPEN")
        self.term.cmd("set connected 1")
        st, j = self.signal(plugin="passthru", action="buy", symbol="EURUSD", lot=0.1)
        tid = j["results"][0]["trade_id"]
        wait_for(lambda: self.trade(tid)["broker_state"] == "filled", what="a fill once connected")
        self.assertEqual(self.trade(t["id"])["status"], "OPEN")

    def test_another_account_is_refused_and_the_admins_told(self):
        t = self.open_trade(lot=0.1)
        self.term.cmd("set login 7777777")
        wait_for(lambda: "poll answered 409" in self.term.output(), what="the refused poll")
        wait_for(lambda: self.notes("account.login 7777777 is not the account zepix trades on (5551234)"),
                 what="the note")
        time.sleep(0.5)
        self.assertEqual(self.trade(t["id"])["status"], "OPEN")
        self.term.cmd("set login 5551234")
        wait_for(lambda: "MT5 terminal back" in "".join(r["args"].get("text", "") for r in
                                                        self.srv.sent("sendMessage")),
                 what="back online")
        self.assertEqual(self.notes("is not the account zepix trades on"), 1)
        self.assertEqual(self.trade(t["id"])["status"], "OPEN")


class HistoryLag(EA):
    """Defect 5: deals reach the terminal's history after the position changes."""
    server = {"history_lag_ms": 1200}

    def test_close_result_waits_for_its_deal(self):
        t = self.open_trade(lot=0.3)
        self.term.cmd("quote EURUSD 1.10100 1.10110")
        self.inject_close(t, 0.1)
        wait_for(lambda: self.trade(t["id"])["status"] == "PARTIAL", what="the partial close")
        time.sleep(2.0)                       # the deal reaches the history meanwhile
        parts = [r for r in self.trades() if r["parent_id"] == t["id"]]
        self.assertEqual(len(parts), 1)
        out = self.term.deals(entry=1)[0]
        self.assertAlmostEqual(parts[0]["profit_dollars"], round(out["profit"] - COMMISSION * 0.1, 2), places=2)
        self.assertAlmostEqual(self.trade(t["id"])["lot_size"], 0.2)
        self.assertEqual(self.trade(t["id"])["status"], "PARTIAL")

    def test_a_manual_partial_close_is_booked_once_from_its_deal(self):
        t = self.open_trade(lot=0.3)
        time.sleep(1.3)                       # the entry deal is in the history
        self.term.cmd("close %d 0.1 1.10050 client" % t["order_id"])
        wait_for(lambda: self.trade(t["id"])["status"] == "PARTIAL", what="the partial close")
        time.sleep(1.5)
        parts = [r for r in self.trades() if r["parent_id"] == t["id"]]
        self.assertEqual(len(parts), 1, parts)
        self.assertAlmostEqual(parts[0]["exit_price"], 1.10050)
        self.assertAlmostEqual(self.trade(t["id"])["lot_size"], 0.2)

    def test_an_open_answered_without_a_price_is_not_rejected(self):
        self.term.cmd("set result_price_zero 1")
        t = self.open_trade(lot=0.1)
        self.assertEqual(t["broker_state"], "filled")
        self.assertAlmostEqual(t["entry_price"], self.term.positions()[0]["price_open"])


class LongLag(EA):
    server = {"history_lag_ms": 8000}
    inputs = {"InpHistoryWaitS": "1"}

    def test_unknown_profit_is_left_out_not_zero(self):
        t = self.open_trade(lot=0.1)
        self.term.cmd("quote EURUSD 1.10200 1.10210")
        self.send(action="close", symbol="EURUSD")
        c = wait_for(lambda: self.trade(t["id"])["status"] == "CLOSED" and self.trade(t["id"]), what="the close")
        self.assertNotEqual(c["profit_dollars"], 0)
        self.assertAlmostEqual(c["profit_dollars"], round(self.money("buy", t["entry_price"], c["exit_price"], 0.1), 2),
                               places=1)


class Symbols(EA):
    """Defect 9: volume steps, stops levels, tick sizes, filling modes, names."""
    symbols = [dict(DEFAULT_SYMBOL, vol_min=0.1, vol_step=0.1, stops_level=50),
               dict(DEFAULT_SYMBOL, name="GOLD", bid=2000.0, ask=2000.5, point=0.01, tick_size=0.05, digits=2,
                    contract=100, filling=0)]
    inputs = {"InpSymbols": "EURUSD,XAUUSD", "InpSymbolMap": "XAUUSD=GOLD"}

    def test_volume_is_rounded_down_to_the_step(self):
        t = self.open_trade(lot=0.25)
        self.assertEqual(t["broker_state"], "filled")
        self.assertAlmostEqual(t["lot_size"], 0.2)
        self.assertAlmostEqual(self.term.positions()[0]["volume"], 0.2)

    def test_volume_below_the_minimum_is_rejected_with_the_reason(self):
        t = self.open_trade(lot=0.05)
        self.assertEqual(t["broker_state"], "rejected")
        self.assertIn("below the symbol's minimum", t["close_reason"])
        self.assertEqual(self.term.requests(action=1), [])

    def test_stops_inside_the_stops_level_are_refused_before_sending(self):
        t = self.open_trade(lot=0.1, sl=1.0998)
        self.assertEqual(t["broker_state"], "rejected")
        self.assertIn("stops level", t["close_reason"])
        self.assertEqual(self.term.requests(action=1), [])

    def test_levels_are_normalised_to_the_tick_size(self):
        t = self.open_trade(lot=1, symbol="XAUUSD", sl=1990.123, tp=2010.071)
        self.assertEqual(t["broker_state"], "filled", t)
        pos = self.term.positions()[0]
        self.assertEqual(pos["symbol"], "GOLD")
        self.assertAlmostEqual(pos["sl"], 1990.10)
        self.assertAlmostEqual(pos["tp"], 2010.05)
        self.assertEqual(self.term.requests(action=1)[0]["type_filling"], 2)   # return-only symbol
        self.assertEqual(t["symbol"], "XAUUSD")

    def test_a_modify_to_the_same_levels_is_a_success(self):
        t = self.open_trade(lot=0.1, plugin="sltp", sl=1.0900, tp=1.1200)
        st, j = self.signal(plugin="sltp", action="buy", symbol="EURUSD", comment="sltp:%d:1.09:1.12" % t["id"])
        self.assertEqual(j["results"][0]["status"], "handled", j)
        res = wait_for(lambda: self.result_of("modify"), what="the modify's result")
        self.assertTrue(res["ok"], res)                      # 10025: the levels are already these
        self.assertEqual(self.notes("failed in the terminal"), 0)


class Names(EA):
    def test_a_long_plugin_id_fits_the_31_characters_and_is_matched(self):
        # Defect 2: "zx:strategy_breakout_london_v2:1" is 32 characters.
        t = self.open_trade(lot=0.1, plugin=LONG_ID)
        pos = self.term.position(t["order_id"])
        self.assertLessEqual(len(pos["comment"]), 31)
        self.assertTrue(pos["comment"].startswith("zx:strategy_breakout"), pos["comment"])
        self.assertTrue(pos["comment"].endswith(":%d" % t["id"]), pos["comment"])

    def test_control_characters_are_escaped(self):
        # Defect 10: one newline in a comment made every poll invalid JSON.
        t = self.open_trade(lot=0.1)
        self.term.kill()
        self.term.edit(lambda st: st["positions"][0].update(comment='zx:passthru:1\n"\t\x01'))
        self.term.start()
        n = self.term.state()["webrequests"]
        wait_for(lambda: self.term.state()["webrequests"] > n + 3, what="polls")
        self.assertNotIn("poll answered", self.term.output())
        with open(self.term.state_path + ".lastpoll") as f:
            body = json.load(f)                 # strict JSON: no raw control characters
        self.assertEqual(body["positions"][0]["comment"], 'zx:passthru:1\n"\t\x01')
        self.assertEqual(self.trade(t["id"])["status"], "OPEN")

    def test_a_position_with_zepix_magic_but_no_trade_is_reported_to_the_admins(self):
        # After a restart, an order the EA could not find and ran again would
        # leave such a position: zepix says so instead of ignoring it.
        self.open_trade(lot=0.1)
        self.term.kill()
        self.term.edit(lambda st: st["positions"].append(dict(st["positions"][0], ticket=600001,
                                                              comment="zx:passthru:99")))
        self.term.start()
        wait_for(lambda: self.notes("MT5 position 600001 (BUY 0.10 EURUSD"), what="the note")
        time.sleep(0.5)
        self.assertEqual(self.notes("MT5 position 600001"), 1)
        self.assertEqual(self.notes("MT5 position 500001"), 0)

    def test_a_new_zepix_database_runs_its_requests(self):
        # Defect 8: a fresh database restarts its request ids at 1.
        self.open_trade(lot=0.1)
        self.d.stop()
        self.d.cleanup()
        self.start_daemon(data="data2")
        wait_for(lambda: "database changed" in self.term.output(), what="the EA to see the new database")
        wait_for(lambda: self.term.state()["webrequests"] > 3, what="polls")
        time.sleep(0.2)
        t = self.open_trade(lot=0.2)
        self.assertEqual(t["broker_state"], "filled")
        self.assertEqual(len(self.term.requests(action=1)), 2)
        self.assertIn("database changed", self.term.output())


class Backoff(EA):
    start_terminal = False

    def test_polls_back_off_while_zepix_is_down(self):
        self.term.url = "http://127.0.0.1:%d/mt5/poll" % free_port()
        self.term.inputs["InpUrl"] = self.term.url
        self.term.allow = [self.term.url]
        self.term.start()
        time.sleep(3.0)
        n = self.term.state()["webrequests"]
        self.assertGreater(n, 1)
        self.assertLess(n, 10)                # 200 ms fixed retries would be about 15


class MagicBase(EA):
    mt5_cfg = {"magic_base": 8800000}

    def test_the_magic_base_is_zepixs_not_a_constant_of_the_ea(self):
        # Defect 10: InpMagicBase had to equal a constant of the daemon.
        t = self.open_trade(lot=0.1)
        pos = self.term.position(t["order_id"])
        self.assertTrue(8800000 <= pos["magic"] < 8900000, pos)
        self.term.cmd("close %d 0 1.10050 client" % t["order_id"])
        c = wait_for(lambda: self.trade(t["id"])["status"] == "CLOSED" and self.trade(t["id"]), what="the close")
        self.assertAlmostEqual(c["exit_price"], 1.10050)


class LongDowntime(EA):
    def test_a_close_while_the_ea_was_away_for_days_is_found(self):
        # Defect 7: after a restart the history was scanned 24 h back only.
        t = self.open_trade(lot=0.1)
        wait_for(lambda: self.term.state()["webrequests"] > 3, what="polls")
        self.term.kill()
        path = os.path.join(self.term.common, "zepix_bridge_5551234.txt")
        with open(path, newline="") as f:
            lines = f.read().split("\r\n")
        now = int(time.time()) + 7200                         # server time
        lines = ["from\t%d" % (now - 40 * 3600) if ln.startswith("from\t") else ln for ln in lines]
        with open(path, "w", newline="") as f:
            f.write("\r\n".join(lines))

        def sl_30h_ago(st):
            p = st["positions"].pop(0)
            st["deals"].append({"ticket": 990001, "order": 990001, "login": p["login"], "time": now - 30 * 3600,
                                "type": 1, "entry": 1, "magic": 0, "position_id": p["ticket"], "reason": 4,
                                "volume": p["volume"], "price": 1.0990, "commission": -0.35, "swap": 0,
                                "profit": round((1.0990 - p["price_open"]) * p["volume"] * 100000, 2), "fee": 0,
                                "symbol": p["symbol"], "comment": "[sl 1.09900]", "visible_ms": 0})
        self.term.edit(sl_30h_ago)
        self.term.start()
        c = wait_for(lambda: self.trade(t["id"])["status"] == "CLOSED" and self.trade(t["id"]), what="the close")
        self.assertEqual(c["close_reason"], "sl")
        self.assertAlmostEqual(c["exit_price"], 1.0990)


class DaemonSide(EA):
    """The daemon's half of the protocol, spoken by hand."""
    start_terminal = False

    def poll(self, **kw):
        body = {"secret": MT5_SECRET, "account": {"login": 5551234, "balance": 1, "equity": 1, "currency": "USD"}}
        body.update(kw)
        return self.d.post_json("/mt5/poll", body)

    def test_the_answer_names_the_database_the_account_and_the_magics(self):
        st, j = self.poll()
        self.assertEqual(st, 200, j)
        self.assertRegex(j["db"], "^[0-9a-f]{16}$")
        self.assertEqual((j["login"], j["magic_base"], j["magic_span"]), (5551234, 7700000, 100000))
        self.assertEqual(self.poll()[1]["db"], j["db"])

    def test_a_time_out_of_range_is_refused_naming_the_field(self):
        # Issue #14: closed[].time * 1000 overflowed (UBSan); the trade closed in 1969.
        st, j = self.poll(closed=[{"ticket": 1, "deal": 5, "price_close": 1.1, "time": 9223372036854775807}])
        self.assertEqual(st, 400, j)
        self.assertIn("closed[0].time", j["error"])
        st, j = self.poll(closed=[{"ticket": 1, "deal": 5, "price_close": 1.1, "time": -1}])
        self.assertEqual(st, 400, j)

    def test_a_result_for_another_database_is_ignored(self):
        self.poll()
        st, j = self.signal(plugin="passthru", action="buy", symbol="EURUSD", lot=0.1)
        tid = j["results"][0]["trade_id"]
        st, j = self.poll()
        rq = j["requests"][0]
        res = {"request_id": rq["request_id"], "ok": True, "ticket": 42, "price": 1.1, "volume": 0.1, "error": ""}
        self.poll(results=[dict(res, db="0123456789abcdef")])
        self.poll(results=[res])                               # no db: not this database's either
        self.assertEqual(self.trade(tid)["broker_state"], "pending")
        self.assertIn(rq["request_id"], [r["request_id"] for r in self.poll()[1]["requests"]])
        self.poll(results=[dict(res, db=j["db"])])
        self.assertEqual(self.trade(tid)["broker_state"], "filled")

    def test_positions_of_a_disconnected_terminal_are_not_believed(self):
        self.poll()
        st, j = self.signal(plugin="passthru", action="buy", symbol="EURUSD", lot=0.1)
        tid = j["results"][0]["trade_id"]
        rq = self.poll()[1]["requests"][0]
        db = self.poll()[1]["db"]
        self.poll(results=[{"db": db, "request_id": rq["request_id"], "ok": True, "ticket": 42, "price": 1.1,
                            "volume": 0.1, "error": ""}])
        acc = {"login": 5551234, "balance": 1, "equity": 1, "currency": "USD", "connected": False}
        self.poll(account=acc, positions=[])
        self.assertEqual(self.trade(tid)["status"], "OPEN")
        self.poll(account=dict(acc, login=0, connected=True), positions=[])
        self.assertEqual(self.trade(tid)["status"], "OPEN")
        self.poll(positions=[])                                # connected, the right login: gone
        self.assertEqual(self.trade(tid)["status"], "CLOSED")


class PendingOrders(EA):
    """Issue #15, deliverable 3: zepix's working orders on the terminal (SPEC 12
    buy_limit ... cancel): TRADE_ACTION_PENDING with the key, the terminal
    triggers and expires them, the daemon sees each fill, deletion and expiry
    in the polls' orders[] and positions, and a restart never places one twice."""

    def orders(self):
        con = sqlite3.connect(os.path.join(self.tmp, self.data, "zepix_passthru.db"))
        con.row_factory = sqlite3.Row
        rows = [dict(r) for r in con.execute("SELECT * FROM orders ORDER BY id")]
        con.close()
        return rows

    def order(self, oid):
        return next(o for o in self.orders() if o["id"] == oid)

    def pend(self, **kw):
        body = dict(plugin="passthru", symbol="EURUSD", lot=0.1)
        body.update(kw)
        st, j = self.signal(**body)
        self.assertEqual(st, 200, j)
        r = j["results"][0]
        self.assertEqual(r["status"], "executed", j)
        self.assertIn("sent to the terminal as order #", r["reason"])
        return int(r["reason"].split("order #")[1].split()[0])

    def placed(self, oid):
        return wait_for(lambda: self.order(oid)["broker_state"] == "placed" and self.order(oid),
                        what="order #%d placed" % oid)

    def history_state(self, ticket):
        return next((o["state"] for o in self.term.state().get("history_orders", []) if o["ticket"] == ticket), None)

    def test_a_limit_order_is_placed_filled_by_a_quote_reported_and_closed(self):
        oid = self.pend(action="buy_limit", entry=1.0990, sl=1.0970, tp=1.1050)
        o = self.placed(oid)
        w = self.term.state()["orders"]
        self.assertEqual(len(w), 1, w)
        self.assertEqual((w[0]["ticket"], w[0]["type"], w[0]["price"], w[0]["sl"], w[0]["comment"]),
                         (o["ticket"], 2, 1.099, 1.097, "zx:passthru:o%d" % oid))
        rq = self.term.requests(action=5)[0]
        self.assertEqual((rq["type_time"], rq["retcode"]), (0, 10008))    # good till cancelled, placed
        self.assertEqual(self.trades(), [])
        self.term.cmd("quote EURUSD 1.09880 1.09890")                     # ask <= price: the server fills it
        t = wait_for(lambda: self.trades() and self.trades()[0], what="the fill")
        self.assertEqual((t["order_id"], t["direction"], t["status"], t["broker_state"]),
                         (o["ticket"], "BUY", "OPEN", "filled"))
        pos = self.term.position(o["ticket"])
        self.assertAlmostEqual(t["entry_price"], pos["price_open"])
        self.assertEqual(pos["comment"], "zx:passthru:o%d" % oid)
        o = self.order(oid)
        self.assertEqual((o["state"], o["trade_id"]), ("filled", t["id"]))
        self.send(action="close", symbol="EURUSD")
        wait_for(lambda: self.trade(t["id"])["status"] == "CLOSED", what="the close")
        self.assertEqual(self.term.positions(), [])
        self.assertEqual(len(self.term.requests(action=5)), 1)
        wait_for(lambda: self.notes("passthru opened #%d BUY 0.10 EURUSD" % t["id"]) == 1, what="the admins told")
        self.assertEqual(self.notes("from order #%d" % oid), 1)

    def test_cancel_deletes_the_working_order(self):
        oid = self.pend(action="sell_stop", entry=1.0980)
        o = self.placed(oid)
        st, j = self.signal(plugin="passthru", action="cancel", symbol="EURUSD")
        self.assertEqual(j["results"][0]["reason"], "cancel sent for 1 working order", j)
        wait_for(lambda: self.order(oid)["state"] == "cancelled", what="the cancel")
        self.assertEqual(self.term.state()["orders"], [])
        self.assertEqual(self.history_state(o["ticket"]), 2)              # ORDER_STATE_CANCELED
        self.assertEqual(len(self.term.requests(action=8)), 1)            # TRADE_ACTION_REMOVE
        self.term.cmd("quote EURUSD 1.09700 1.09710")
        time.sleep(0.3)
        self.assertEqual(self.trades(), [])

    def test_an_order_deleted_by_hand_is_seen(self):
        oid = self.pend(action="sell_limit", entry=1.1020)
        o = self.placed(oid)
        self.term.cmd("delete %d" % o["ticket"])
        o = wait_for(lambda: self.order(oid)["state"] != "working" and self.order(oid), what="the deletion")
        self.assertEqual((o["state"], o["reason"]), ("cancelled", "deleted in the terminal"))

    def test_the_terminal_expires_an_order_at_its_expiry(self):
        oid = self.pend(action="buy_stop", entry=1.1030, expiry_s=2)
        o = self.placed(oid)
        rq = self.term.requests(action=5)[0]
        self.assertEqual(rq["type_time"], 2)                              # ORDER_TIME_SPECIFIED
        self.assertAlmostEqual(rq["expiration"] - 7200, o["expiry_ms"] / 1000, delta=1)   # server time = UTC + 2 h
        o = wait_for(lambda: self.order(oid)["state"] == "expired" and self.order(oid), timeout=10, what="the expiry")
        self.assertEqual(self.history_state(o["ticket"]), 6)              # ORDER_STATE_EXPIRED
        self.assertEqual(self.term.requests(action=8), [])                # the terminal did it, not a cancel

    def test_a_pending_order_inside_the_stops_level_is_refused_with_the_reason(self):
        self.term.stop()
        self.term.edit(lambda st: st["symbols"][0].update(stops_level=200))
        self.term.start()
        oid = self.pend(action="buy_limit", entry=1.0995)                 # 6 pips: inside 200 points
        o = wait_for(lambda: self.order(oid)["state"] != "working" and self.order(oid), what="the rejection")
        self.assertEqual(o["state"], "rejected")
        self.assertIn("closer than the stops level (200 points)", o["reason"])
        self.assertEqual(self.term.requests(action=5), [])                # not sent

    def restart(self, crash=None):
        self.term.kill()
        self.term.start(crash=crash)
        wait_for(lambda: self.term.state().get("webrequests", 0) > 0, what="a poll")

    def test_a_restart_while_an_order_is_being_placed_places_it_once(self):
        self.restart(crash="after_send:1")
        oid = self.pend(action="buy_limit", entry=1.0990)
        self.assertEqual(self.term.wait_exit(10), 99, self.term.output())
        self.term.start()
        o = self.placed(oid)
        wait_for(lambda: "was run before the restart: order %d" % o["ticket"] in self.term.output(),
                 what="the EA's look-up")
        time.sleep(0.3)
        self.assertEqual(len(self.term.requests(action=5)), 1)
        self.assertEqual([w["ticket"] for w in self.term.state()["orders"]], [o["ticket"]])

    def test_a_restart_while_an_order_works_does_not_place_it_again(self):
        oid = self.pend(action="sell_limit", entry=1.1020)
        o = self.placed(oid)
        self.term.kill()
        self.term.start()
        wait_for(lambda: self.term.state().get("webrequests", 0) > 2, what="polls after the restart")
        time.sleep(0.3)
        self.assertEqual(len(self.term.requests(action=5)), 1)
        self.assertEqual(self.order(oid)["state"], "working")
        self.term.cmd("quote EURUSD 1.10200 1.10210")                     # bid >= price: filled after the restart
        t = wait_for(lambda: self.trades() and self.trades()[0], what="the fill")
        self.assertEqual((t["order_id"], t["direction"]), (o["ticket"], "SELL"))


class PendingOrdersWithoutTerminalExpiry(EA):
    """A symbol whose SYMBOL_EXPIRATION_MODE has no SYMBOL_EXPIRATION_SPECIFIED:
    the order is good till cancelled in the terminal and zepix deletes it at
    its expiry."""
    symbols = [dict(DEFAULT_SYMBOL, expiration_mode=1)]

    def test_zepix_deletes_the_order_at_its_expiry(self):
        st, j = self.signal(plugin="passthru", action="sell_stop", symbol="EURUSD", lot=0.1, entry=1.0980,
                            expiry_s=1)
        self.assertEqual(j["results"][0]["status"], "executed", j)
        wait_for(lambda: self.term.requests(action=5), what="the order")
        self.assertEqual(self.term.requests(action=5)[0]["type_time"], 0)  # ORDER_TIME_GTC
        wait_for(lambda: self.term.requests(action=8), timeout=10, what="zepix's cancel at the expiry")
        con = sqlite3.connect(os.path.join(self.tmp, self.data, "zepix_passthru.db"))
        wait_for(lambda: con.execute("SELECT state FROM orders").fetchone()[0] == "expired", what="the expiry")
        con.close()
        self.assertEqual(self.term.state()["orders"], [])


if __name__ == "__main__":
    unittest.main()
