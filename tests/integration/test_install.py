"""make install / make uninstall, and the installed daemon as an operator runs it:
the layout of SPEC section 12 under a DESTDIR, the daemon started from there (not
from the checkout) with the installed example configuration pointed at the
installed plugin directory, its plugins in isolation "process" run by the
installed zepix-plugin-host, and an alert that trades."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from zx import BUILD, ROOT, Daemon, plugin_dir

PREFIX = "/usr/local"


def make(*args):
    """Run make in the checkout without the calling make's jobserver."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    p = subprocess.run(["make", "-s", "--no-print-directory", "BUILD=" + os.path.relpath(BUILD, ROOT)]
                       + list(args), cwd=ROOT, env=env, capture_output=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError("make %s failed:\n%s%s" % (" ".join(args), p.stdout.decode(), p.stderr.decode()))
    return p


def install(destdir):
    make("install", "DESTDIR=" + destdir, "PREFIX=" + PREFIX)
    return destdir + PREFIX


def children(pid):
    """(pid, exe) of the direct children of pid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                out.append((int(d), os.readlink("/proc/%s/exe" % d)))
        except OSError:
            continue
    return out


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zepix-inst-")
        cls.dest = os.path.join(cls.tmp, "dest")
        cls.prefix = install(cls.dest)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_install_puts_every_part_where_spec_12_says(self):
        p = self.prefix
        for path, mode in [("bin/zepix", 0o755), ("lib/zepix/zepix-plugin-host", 0o755),
                           ("lib/zepix/plugins/combined_v3/plugin.so", 0o644),
                           ("lib/zepix/plugins/price_action_v6/plugin.so", 0o644),
                           ("share/zepix/ZepixBridge.mq5", 0o644),
                           ("share/zepix/zepix.example.json", 0o644),
                           ("lib/systemd/system/zepix.service", 0o644),
                           ("share/doc/zepix/operations.md", 0o644)]:
            full = os.path.join(p, path)
            self.assertTrue(os.path.isfile(full), full)
            self.assertEqual(os.stat(full).st_mode & 0o777, mode, path)
        self.assertFalse(os.path.exists(os.path.join(p, "lib/zepix/plugins/_template")))
        self.assertTrue(os.path.isfile(os.path.join(self.dest, "etc/zepix/zepix.json")))
        with open(os.path.join(p, "lib/systemd/system/zepix.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=%s/bin/zepix -c /etc/zepix/zepix.json" % PREFIX, unit)
        with open(os.path.join(self.dest, "etc/zepix/zepix.json")) as f:
            cfg = json.load(f)
        self.assertEqual(cfg["plugin_system"]["plugin_dir"], PREFIX + "/lib/zepix/plugins")
        self.assertEqual(cfg["plugin_system"]["data_dir"], "/var/lib/zepix")

    def test_installed_daemon_runs_plugins_in_its_installed_host_and_trades(self):
        plugins = os.path.join(self.prefix, "lib/zepix/plugins")
        # One test plugin beside the shipped ones: it executes every signal.
        shutil.copytree(plugin_dir(self.tmp, {"passthru": "passthru"}), plugins, dirs_exist_ok=True)
        with open(os.path.join(self.dest, "etc/zepix/zepix.json")) as f:
            cfg = json.load(f)
        cfg["plugin_system"]["plugin_dir"] = plugins
        cfg["plugins"]["price_action_v6"]["enabled"] = True
        cfg["plugins"]["passthru"] = {"enabled": True}
        d = Daemon(cfg)
        d.config = cfg
        cfg["webhook"]["listen"] = "127.0.0.1:%d" % d.port
        cfg["webhook"]["secret"] = "inst-secret"
        cfg["plugin_system"]["data_dir"] = os.path.join(d.tmp, "data")
        self.assertEqual(cfg["plugin_system"]["isolation"], "process")
        env = {k: v for k, v in os.environ.items() if k != "ZEPIX_PLUGIN_HOST"}
        d.write_config()
        d.logf = open(d.log_path, "ab")
        d.proc = subprocess.Popen([os.path.join(self.prefix, "bin/zepix"), "-c", d.config_path],
                                  cwd=d.tmp, stdin=subprocess.DEVNULL, stdout=d.logf, stderr=d.logf, env=env)
        try:
            d.wait_healthy()
            host = os.path.join(self.prefix, "lib/zepix/zepix-plugin-host")
            kids = children(d.proc.pid)
            self.assertTrue(kids, d.log())
            for _, exe in kids:
                self.assertEqual(exe, host)
            st, body = d.post_json("/webhook", {"secret": "inst-secret", "plugin": "all", "action": "buy",
                                                "symbol": "EURUSD", "price": 1.1})
            self.assertEqual(st, 200, body)
            res = {r["plugin"]: r for r in body["results"]}
            self.assertEqual(res["passthru"]["status"], "executed", body)
            self.assertGreater(res["passthru"]["trade_id"], 0)
            # The shipped plugin ran in its child: the verdict is its own.
            self.assertEqual(res["price_action_v6"]["status"], "rejected", body)
            self.assertIn("price action", res["price_action_v6"]["reason"])
            # Every installed plugin loaded (none failed in its sandbox).
            metrics = d.get("/metrics")[2].decode()
            for pid in ("combined_v3", "price_action_v6", "passthru"):
                self.assertIn('zepix_plugin_state{plugin="%s",state="failed"} 0' % pid, metrics)
            code, _ = d.stop()
            self.assertEqual(code, 0, d.log())
        finally:
            d.cleanup()

    def test_uninstall_removes_the_program_and_keeps_configuration(self):
        dest = os.path.join(self.tmp, "dest2")
        prefix = install(dest)
        conf = os.path.join(dest, "etc/zepix/zepix.json")
        with open(conf, "a") as f:
            f.write(" ")                        # the operator's edit
        install(dest)                           # a reinstall never overwrites it
        with open(conf) as f:
            self.assertTrue(f.read().endswith(" "))
        make("uninstall", "DESTDIR=" + dest, "PREFIX=" + PREFIX)
        for path in ("bin/zepix", "lib/zepix", "share/zepix", "share/doc/zepix", "lib/systemd/system/zepix.service"):
            self.assertFalse(os.path.exists(os.path.join(prefix, path)), path)
        self.assertTrue(os.path.isfile(conf))


if __name__ == "__main__":
    unittest.main()
