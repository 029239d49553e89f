"""Plugins through the real binary: --list-plugins, --check-config with a broken
plugin, and a daemon running a test plugin (tests/plugins/tp_ok, built by
`make tests-bin` into $ZEPIX_BUILD/testplugins/) behind the webhook."""
import json
import os
import re
import shutil
import sqlite3
import tempfile
import unittest

from zx import BUILD, ROOT, Daemon, base_config, run_cli

SHIPPED = ("combined_v3", "price_action_v6")


def plugin_build(name):
    """Path of the build of tests/plugins/<name>."""
    path = os.path.join(BUILD, "testplugins", name, "plugin.so")
    if not os.path.isfile(path):
        raise AssertionError("%s is missing: run `make tests-bin` first" % path)
    return path


def install(plugin_dir, name, as_id):
    """Put the build of tests/plugins/<name> at <plugin_dir>/<as_id>/plugin.so."""
    d = os.path.join(plugin_dir, as_id)
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(plugin_build(name), os.path.join(d, "plugin.so"))


def shipped_def(pid):
    """(name, version) from the zx_plugin_def in plugins/<pid>/plugin.c."""
    with open(os.path.join(ROOT, "plugins", pid, "plugin.c")) as f:
        src = f.read()
    name = re.search(r'\.name\s*=\s*"([^"]*)"', src).group(1)
    version = re.search(r'\.version\s*=\s*"([^"]*)"', src).group(1)
    return name, version


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-plg-")
        self.plugin_dir = os.path.join(self.tmp, "plugins")
        os.makedirs(self.plugin_dir)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_config(self, plugin_dir, plugins=None):
        cfg = base_config(self.tmp, 8080)
        cfg["plugin_system"]["plugin_dir"] = plugin_dir
        cfg["plugins"] = plugins or {}
        path = os.path.join(self.tmp, "zepix.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def test_list_plugins_shows_the_shipped_plugins_with_name_version_and_abi(self):
        path = self.write_config(os.path.join(ROOT, "plugins"),
                                 {"combined_v3": {"enabled": True}, "price_action_v6": {"enabled": False}})
        code, out, err = run_cli(["--list-plugins", "-c", path])
        self.assertEqual(code, 0, out + err)
        lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.strip()}
        self.assertIn("ID", lines)                      # the header
        for pid in SHIPPED:
            self.assertIn(pid, lines, out)
            name, version = shipped_def(pid)
            line = lines[pid]
            self.assertIn(name, line)
            self.assertRegex(line, r"\s%s\s+1\s" % re.escape(version))   # version, then ABI 1
            self.assertNotIn("failed", line)
        self.assertIn("enabled", lines["combined_v3"])
        self.assertNotIn("_template", out)               # '_' directories are not plugins

    def test_check_config_with_a_wrong_abi_plugin_exits_2_and_says_why(self):
        install(self.plugin_dir, "tp_badabi", "tp_ok")
        path = self.write_config(self.plugin_dir, {"tp_ok": {"enabled": True}})
        code, out, err = run_cli(["--check-config", "-c", path])
        self.assertEqual(code, 2, out + err)
        line = next((ln for ln in out.splitlines() if ln.startswith("tp_ok")), "")
        self.assertIn("failed", line, out)
        self.assertIn("ABI 999", line)
        # Listing is not validation: it shows the failure and exits 0.
        code, out, err = run_cli(["--list-plugins", "-c", path])
        self.assertEqual(code, 0, out + err)
        self.assertIn("ABI 999", out)

    def test_check_config_names_a_missing_entry_symbol_and_a_wrong_id(self):
        install(self.plugin_dir, "tp_noentry", "tp_ok")
        install(self.plugin_dir, "tp_wrongid", "tp_wrongid")
        install(self.plugin_dir, "tp_ok2", "tp_ok2")
        path = self.write_config(self.plugin_dir)
        code, out, err = run_cli(["--check-config", "-c", path])
        self.assertEqual(code, 2, out + err)
        by_id = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("tp_")}
        self.assertIn("zx_plugin_entry", by_id["tp_ok"])
        self.assertIn("someone_else", by_id["tp_wrongid"])
        self.assertNotIn("failed", by_id["tp_ok2"])

    def test_check_config_accepts_good_plugins(self):
        install(self.plugin_dir, "tp_ok", "tp_ok")
        path = self.write_config(self.plugin_dir, {"tp_ok": {"enabled": True}})
        code, out, err = run_cli(["--check-config", "-c", path])
        self.assertEqual(code, 0, out + err)
        self.assertRegex(out, r"tp_ok\s+registry test plugin\s+1\.0\.0\s+1\s+enabled")


class Running(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()
        self.plugin_dir = os.path.join(self.d.tmp, "plugins")
        self.d.config["plugin_system"]["plugin_dir"] = self.plugin_dir
        self.d.config["plugins"] = {"tp_ok": {"enabled": True, "log_on_shutdown": True}}
        install(self.plugin_dir, "tp_ok", "tp_ok")

    def tearDown(self):
        self.d.cleanup()

    def webhook(self, **fields):
        body = dict({"secret": "test-secret", "plugin": "tp_ok", "action": "buy", "symbol": "EURUSD",
                     "price": 1.1}, **fields)
        return self.d.post_json("/webhook", body)

    def trade(self, trade_id):
        con = sqlite3.connect(os.path.join(self.d.tmp, "data", "zepix_tp_ok.db"))
        try:
            return con.execute("SELECT lot_size, direction, status, symbol FROM trades WHERE id = ?",
                               (trade_id,)).fetchone()
        finally:
            con.close()

    def test_healthz_counts_the_enabled_plugin(self):
        self.d.start()
        st, _, raw = self.d.get("/healthz")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(raw)["plugins_enabled"], 1)

    def test_a_doubling_plugin_executes_twice_the_default_lot(self):
        self.d.start()
        st, body = self.webhook(comment="double")
        self.assertEqual(st, 200, body)
        self.assertTrue(body["ok"])
        self.assertEqual(len(body["results"]), 1)
        r = body["results"][0]
        self.assertEqual((r["plugin"], r["status"]), ("tp_ok", "executed"), body)
        self.assertGreater(r["trade_id"], 0)
        lot, direction, status, symbol = self.trade(r["trade_id"])
        self.assertAlmostEqual(lot, 0.02)                # default_lot 0.01 x 2
        self.assertEqual((direction, status, symbol), ("BUY", "OPEN", "EURUSD"))

    def test_a_rejecting_plugin_answers_rejected_with_its_reason(self):
        self.d.start()
        st, body = self.webhook(comment="reject")
        self.assertEqual(st, 200, body)
        r = body["results"][0]
        self.assertEqual(r["status"], "rejected")
        self.assertEqual(r["reason"], "told to reject")

    def test_an_unknown_plugin_is_a_400_naming_it(self):
        self.d.start()
        st, body = self.webhook(plugin="no_such_plugin")
        self.assertEqual(st, 400, body)
        self.assertFalse(body["ok"])
        self.assertIn("no_such_plugin", body["error"])

    def test_a_failed_plugin_is_skipped_and_the_others_run_on(self):
        install(self.plugin_dir, "tp_badabi", "tp_bad")
        self.d.config["plugins"]["tp_bad"] = {"enabled": True}
        self.d.start()
        st, _, raw = self.d.get("/healthz")
        self.assertEqual(json.loads(raw)["plugins_enabled"], 1)
        st, body = self.d.post_json("/webhook", {"secret": "test-secret", "action": "buy",
                                                 "symbol": "EURUSD", "price": 1.1})
        self.assertEqual(st, 200, body)
        by_plugin = {r["plugin"]: r for r in body["results"]}
        self.assertEqual(by_plugin["tp_bad"]["status"], "skipped")
        self.assertIn("ABI 999", by_plugin["tp_bad"]["reason"])
        self.assertEqual(by_plugin["tp_ok"]["status"], "executed")

    def test_sigterm_runs_the_plugins_shutdown_and_exits_0(self):
        self.d.start()
        code, secs = self.d.stop()
        self.assertEqual(code, 0, self.d.log())
        self.assertIn("tp_ok 1.0.0 shutdown", self.d.log())


if __name__ == "__main__":
    unittest.main()
