"""The real binary: command line, exit codes, /healthz, graceful stop."""
import json
import os
import shutil
import signal
import tempfile
import time
import unittest

from zx import Daemon, run_cli, ROOT


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-cli-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, obj):
        path = os.path.join(self.tmp, "c.json")
        with open(path, "w") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
        return path

    def test_version_and_help_exit_0(self):
        code, out, _ = run_cli(["--version"])
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^zepix \d+\.\d+\.\d+")
        code, out, _ = run_cli(["--help"])
        self.assertEqual(code, 0)
        self.assertIn("--check-config", out)

    def test_unknown_option_is_usage_error(self):
        code, _, err = run_cli(["--frobnicate"])
        self.assertEqual(code, 2)
        self.assertIn("--frobnicate", err)
        code, _, err = run_cli(["-c"])
        self.assertEqual(code, 2)

    def test_check_config_accepts_the_shipped_config(self):
        code, out, err = run_cli(["-c", "config/zepix.json", "--check-config"])
        self.assertEqual(code, 0, err)
        self.assertIn("paper", out)

    def test_check_config_names_a_typod_key(self):
        path = self.write({"webhook": {"listen": "127.0.0.1:8080", "max_body_byte": 10}})
        code, _, err = run_cli(["-c", path, "--check-config"])
        self.assertEqual(code, 2)
        self.assertIn(path, err)
        self.assertIn("webhook.max_body_byte", err)
        self.assertIn("unknown key", err)

    def test_check_config_names_a_bad_value(self):
        path = self.write({"daily_reset": {"time": "25:00"}})
        code, _, err = run_cli(["-c", path, "--check-config"])
        self.assertEqual(code, 2)
        self.assertIn("daily_reset.time", err)

    def test_missing_config_file_is_exit_2(self):
        code, _, err = run_cli(["-c", os.path.join(self.tmp, "nope.json")])
        self.assertEqual(code, 2)
        self.assertIn("nope.json", err)

    def test_bad_json_is_exit_2(self):
        code, _, err = run_cli(["-c", self.write("{ not json"), "--check-config"])
        self.assertEqual(code, 2)
        self.assertIn("not valid JSON", err)


class Running(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()

    def tearDown(self):
        self.d.cleanup()

    def test_healthz_then_sigterm_exits_0_quickly(self):
        self.d.start()
        st, hdr, body = self.d.get("/healthz")
        self.assertEqual(st, 200)
        self.assertEqual(hdr.get("Content-Type"), "application/json")
        j = json.loads(body)
        self.assertTrue(j["ok"])
        self.assertIsInstance(j["uptime_s"], int)
        self.assertIn("plugins_enabled", j)
        code, took = self.d.stop(signal.SIGTERM)
        self.assertEqual(code, 0, self.d.log())
        self.assertLess(took, 2.0)

    def test_sigint_exits_0(self):
        self.d.start()
        code, took = self.d.stop(signal.SIGINT)
        self.assertEqual(code, 0)
        self.assertLess(took, 2.0)

    def test_unknown_path_and_method(self):
        self.d.start()
        st, _, body = self.d.get("/nope")
        self.assertEqual(st, 404)
        self.assertFalse(json.loads(body)["ok"])
        st, _, _ = self.d.post("/healthz", "{}")
        self.assertEqual(st, 405)

    def test_port_in_use_is_runtime_error(self):
        self.d.start()
        other = Daemon()
        try:
            other.port = self.d.port
            other.config["webhook"]["listen"] = "127.0.0.1:%d" % self.d.port
            other.start(wait=False)
            code = other.proc.wait(5)
            self.assertEqual(code, 1)
            self.assertIn("cannot listen", other.log())
        finally:
            other.cleanup()

    def test_data_dir_is_created_with_host_db(self):
        self.d.start()
        self.assertTrue(os.path.exists(os.path.join(self.d.tmp, "data", "zepix.db")))

    def test_secrets_from_environment_never_reach_the_log(self):
        self.d.env["ZEPIX_WEBHOOK_SECRET"] = "env-secret-value-123"
        self.d.start()
        self.d.post("/webhook", {"secret": "env-secret-value-123"})
        self.d.stop()
        self.assertNotIn("env-secret-value-123", self.d.log())


if __name__ == "__main__":
    unittest.main()
