"""A plugin author's path, as plugins/_template/README.md tells it: copy the
template, set the id, build with nothing but `cc -shared -fPIC -I plugins`,
drop it in the plugin directory; zepix discovers it, lists it and runs its hooks.
(Hot reload from chat is proven in test_commands.py.)"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from zx import ROOT, Daemon

SECRET = "test-secret"


def build(src_dir, out, plugin_id, extra=""):
    """Compile the template as plugin_id into out, the README's command line."""
    work = tempfile.mkdtemp(prefix="zepix-author-")
    try:
        with open(os.path.join(src_dir, "plugin.c")) as f:
            code = f.read().replace('#define TPL_ID "_template"', '#define TPL_ID "%s"' % plugin_id)
        code += extra
        with open(os.path.join(work, "plugin.c"), "w") as f:
            f.write(code)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run(["cc", "-shared", "-fPIC", "-I", os.path.join(ROOT, "plugins"), "-o", out,
                        os.path.join(work, "plugin.c")], check=True, capture_output=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class PluginAuthor(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-pa-")
        self.pdir = os.path.join(self.tmp, "plugins")
        self.so = os.path.join(self.pdir, "my_strategy", "plugin.so")
        build(os.path.join(ROOT, "plugins", "_template"), self.so, "my_strategy")
        self.d = Daemon({"plugin_system": {"plugin_dir": self.pdir},
                         "plugins": {"my_strategy": {"enabled": True, "max_lot_size": 0.05}}},
                        tmp=self.tmp).start()

    def tearDown(self):
        code, _ = self.d.stop()
        self.d.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(code, 0)

    def test_template_copy_is_discovered_and_trades(self):
        st, _, body = self.d.get("/healthz")
        self.assertEqual(json.loads(body)["plugins_enabled"], 1)
        st, j = self.d.post_json("/webhook", {"secret": SECRET, "plugin": "my_strategy", "action": "buy",
                                              "symbol": "EURUSD", "price": 1.1, "lot": 0.2})
        self.assertEqual(st, 200, j)
        r = j["results"][0]
        self.assertEqual((r["plugin"], r["status"]), ("my_strategy", "executed"), j)
        # Its init read its config and logged through the API, tagged with its id.
        self.assertIn("plugin my_strategy: initialised (max_spread_pips=0)", self.d.log())

    def test_listing_shows_it(self):
        p = subprocess.run([os.path.join(ROOT, os.environ.get("ZEPIX_BUILD", "build"), "zepix"),
                            "-c", self.d.config_path, "--list-plugins"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"my_strategy\s+Plugin Template\s+1\.0\.0\s+1\s+enabled")


if __name__ == "__main__":
    unittest.main()
