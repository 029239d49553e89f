"""CSV export (SPEC section 12): `/export ID [period]` answers with a Telegram
document, and `zepix --export ID --period P` writes the same CSV to stdout while
the daemon runs. Both are RFC 4180 (CRLF line ends, quoted fields) and are read
back with Python's csv module; the rows are the ledger's trades."""
import csv
import io
import os
import shutil
import sqlite3
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from fake_telegram import FakeTelegram  # noqa: E402
from zx import Daemon, plugin_dir, run_cli  # noqa: E402

SECRET = "test-secret"
TOKEN = "123456:TESTtoken_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
ENV = {"no_proxy": "*", "NO_PROXY": "*"}
COMMENT = 'Long, "A" entry'


def parse(data):
    text = data.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[-1] == "", "the CSV does not end with CRLF"
    assert all("\n" not in ln for ln in lines), "a bare LF line end"
    return list(csv.DictReader(io.StringIO(text, newline="")))


class Export(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = FakeTelegram(token=TOKEN).start()
        cls.tmp = tempfile.mkdtemp(prefix="zepix-exp-")
        pdir = plugin_dir(cls.tmp, {"passthru": "passthru"})
        cls.d = Daemon({"telegram": {"token": TOKEN, "api_base": cls.srv.base_url, "admin_chat_ids": [ADMIN],
                                     "poll_timeout_s": 2},
                        "plugin_system": {"plugin_dir": pdir},
                        "plugins": {"passthru": {"enabled": True}}}, tmp=cls.tmp, env=ENV).start()
        for body in ({"action": "buy", "price": 1.1, "lot": 0.1, "comment": COMMENT},
                     {"action": "sell", "price": 1.1, "lot": 0.2, "sl": 1.2}):
            body.update({"secret": SECRET, "plugin": "passthru", "symbol": "EURUSD"})
            st, j = cls.d.post_json("/webhook", body)
            assert st == 200 and j["results"][0]["status"] == "executed", j
        st, _ = cls.d.post_json("/price", {"secret": SECRET, "symbol": "EURUSD", "bid": 1.101, "ask": 1.101})
        st, j = cls.d.post_json("/webhook", {"secret": SECRET, "plugin": "passthru", "action": "close",
                                             "symbol": "EURUSD"})
        assert st == 200, j

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        cls.srv.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def ledger_rows(self):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.tmp, "data", "zepix_passthru.db"), uri=True)
        try:
            return db.execute("SELECT id, symbol, direction, lot_size, status, comment, profit_dollars"
                              " FROM trades ORDER BY id").fetchall()
        finally:
            db.close()

    def check_rows(self, rows):
        want = self.ledger_rows()
        self.assertEqual(len(rows), len(want))
        self.assertGreaterEqual(len(rows), 2)
        for r, (tid, sym, dirn, lot, status, comment, profit) in zip(rows, want):
            self.assertEqual(int(r["id"]), tid)
            self.assertEqual(r["symbol"], sym)
            self.assertEqual(r["direction"], dirn)
            self.assertAlmostEqual(float(r["lot_size"]), lot)
            self.assertEqual(r["status"], status)
            self.assertEqual(r["comment"], comment or "")
            if profit is None:
                self.assertEqual(r["profit_dollars"], "")
            else:
                self.assertAlmostEqual(float(r["profit_dollars"]), profit, places=6)
        self.assertIn(COMMENT, [r["comment"] for r in rows])

    def test_command_line_export_reads_back_while_the_daemon_runs(self):
        code, out, err = run_cli(["--export", "passthru", "--period", "week", "-c", self.d.config_path])
        self.assertEqual(code, 0, err)
        self.assertIn('"Long, ""A"" entry"', out)        # quoted, quotes doubled
        self.check_rows(parse(out.encode()))
        self.assertIsNone(self.d.proc.poll())

    def test_chat_export_is_a_csv_document_equal_to_the_command_line_one(self):
        since = self.srv.last_seq()
        self.srv.push_message(ADMIN, "/export passthru all")
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendDocument", timeout=5, since=since)
        doc = rec["params"]["document"]
        self.assertRegex(doc["filename"], r"^zepix_passthru_all_\d{8}\.csv$")
        self.assertEqual(doc["content_type"], "text/csv")
        self.assertIn("passthru", rec["args"]["caption"])
        self.assertIn("%d trades" % len(self.ledger_rows()), rec["args"]["caption"])
        self.check_rows(parse(doc["content"]))
        code, out, err = run_cli(["--export", "passthru", "--period", "all", "-c", self.d.config_path])
        self.assertEqual(code, 0, err)
        self.assertEqual(out.encode(), doc["content"])

    def test_bad_arguments_are_named(self):
        code, out, err = run_cli(["--export", "passthru", "--period", "year", "-c", self.d.config_path])
        self.assertEqual(code, 2)
        self.assertIn("--period", err)
        self.assertEqual(out, "")
        code, out, err = run_cli(["--export", "nosuch", "-c", self.d.config_path])
        self.assertEqual(code, 1)
        self.assertIn("zepix_nosuch.db", err)
        code, out, err = run_cli(["--period", "week", "-c", self.d.config_path])
        self.assertEqual(code, 2)
        self.assertIn("--export", err)
        since = self.srv.last_seq()
        self.srv.push_message(ADMIN, "/export")
        rec = self.srv.wait_sent(lambda r: r["method"] == "sendMessage", timeout=5, since=since)
        self.assertIn("Usage: /export", rec["args"]["text"])


if __name__ == "__main__":
    unittest.main()
