"""/replay (SPEC 12): the journal of a plugin through its build on disk. A
plugin's first build trades live; a second build that decides differently is
dropped on disk; /replay lists every difference (verdict, lot) against the
recorded decisions, and places, journals and changes nothing."""
import os
import shutil
import tempfile
import unittest

from test_newcomer import ConsoleDaemon, trades
from test_preview import signals
from zx import BUILD, plugin_dir


class Replay(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zepix-rpl-")
        self.pdir = plugin_dir(self.tmp, {"tp_flip": "tp_flip"})
        self.d = ConsoleDaemon({"console": {"enabled": True}, "plugin_system": {"plugin_dir": self.pdir},
                                "plugins": {"tp_flip": {"enabled": True}}}, tmp=self.tmp).start()

    def tearDown(self):
        code, _ = self.d.stop()
        self.d.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(code, 0)

    def test_replay_lists_what_the_new_build_decides_differently(self):
        d = self.d
        self.assertIn("tp_flip: executed", d.ask("/signal tp_flip buy EURUSD price=1.1"))
        self.assertIn("tp_flip: rejected", d.ask("/signal tp_flip sell EURUSD price=1.1"))
        self.assertIn("tp_flip: executed", d.ask("/signal tp_flip close EURUSD price=1.1"))
        # the same build on disk: everything matches
        out = d.ask("/replay tp_flip", timeout=10)
        self.assertIn("3 of 3 decisions match", out)
        # a new build on disk, not loaded
        shutil.copy(os.path.join(BUILD, "testplugins", "tp_flip2", "plugin.so"),
                    os.path.join(self.pdir, "tp_flip", "plugin.so"))
        n_sig, n_trades = signals(d), len(trades(d, "tp_flip"))
        out = d.ask("/replay tp_flip 10", timeout=10)
        self.assertIn("1 of 3 decisions match", out)
        self.assertRegex(out, r"#1 buy EURUSD: accept → reject \(build 2 takes no buys\)")
        self.assertRegex(out, r"#2 sell EURUSD: reject → accept")
        # nothing happened for real, and the live build is still the first
        self.assertEqual((signals(d), len(trades(d, "tp_flip"))), (n_sig, n_trades))
        self.assertIn("tp_flip: executed", d.ask("/signal tp_flip buy EURUSD price=1.1"))
        self.assertIn("Unknown plugin", d.ask("/replay nobody"))


if __name__ == "__main__":
    unittest.main()
