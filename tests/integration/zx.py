"""zx — helpers for integration tests that drive the real build/zepix binary.

Daemon(cfg_overrides) writes a config into a fresh temporary directory (data in
it too), picks a free loopback port, starts $ZEPIX_BUILD/zepix, waits for
/healthz, and stops it with SIGTERM. Standard library only.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("ZEPIX_BUILD", "build"))
BIN = os.path.join(BUILD, "zepix")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deep_merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v
    return base


def base_config(tmp, port):
    return {
        "log": {"level": "debug"},
        "telegram": {"token": "", "admin_chat_ids": []},
        "console": {"enabled": False},
        "webhook": {"listen": "127.0.0.1:%d" % port, "path": "/webhook", "secret": "test-secret"},
        "plugin_system": {"plugin_dir": os.path.join(ROOT, "plugins"),
                          "data_dir": os.path.join(tmp, "data")},
        "plugins": {},
        "broker": {"kind": "paper", "paper": {"balance": 10000, "spread_pips": 0}},
        "symbols": {"EURUSD": {"pip_size": 0.0001, "contract_size": 100000}},
        "daily_reset": {"time": "03:35", "timezone": "Asia/Kolkata"},
    }


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, headers, body bytes); never raises for HTTP errors."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Daemon:
    def __init__(self, overrides=None, tmp=None, env=None, stdin=subprocess.DEVNULL, port=None):
        self.own_tmp = tmp is None
        self.tmp = tmp or tempfile.mkdtemp(prefix="zepix-it-")
        self.port = port or free_port()
        self.config = deep_merge(base_config(self.tmp, self.port), overrides or {})
        self.config_path = os.path.join(self.tmp, "zepix.json")
        self.env = dict(os.environ, **(env or {}))
        self.stdin = stdin
        self.proc = None
        self.log_path = os.path.join(self.tmp, "zepix.log")

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def write_config(self):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f)

    def start(self, wait=True):
        self.write_config()
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "-c", self.config_path], cwd=ROOT, stdin=self.stdin,
                                     stdout=subprocess.PIPE if self.stdin == subprocess.PIPE else self.logf,
                                     stderr=self.logf, env=self.env)
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError("zepix exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                st, _, _ = http("GET", self.base + "/healthz", timeout=1)
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("zepix did not become healthy:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def get(self, path, **kw):
        return http("GET", self.base + path, **kw)

    def post(self, path, body, ctype="application/json", **kw):
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        return http("POST", self.base + path, body, {"Content-Type": ctype}, **kw)

    def post_json(self, path, body, **kw):
        st, _, b = self.post(path, body, **kw)
        return st, json.loads(b)

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Stop the daemon; returns (exit code, seconds taken)."""
        if not self.proc or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), 0.0
        t0 = time.time()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        return code, time.time() - t0

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.logf.close()

    def again(self):
        """A new Daemon on the same directory, config and port (not started)."""
        self.cleanup()
        return Daemon(self.config, tmp=self.tmp, env=self.env, port=self.port)

    def cleanup(self):
        self.stop()
        if getattr(self, "logf", None) and not self.logf.closed:
            self.logf.close()
        if self.own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def run_cli(args, timeout=10, cwd=ROOT, env=None):
    p = subprocess.run([BIN] + args, cwd=cwd, capture_output=True, timeout=timeout,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def wait_for(fn, timeout=5.0, what="condition"):
    """fn()'s first true value, polled every 20 ms; AssertionError after timeout."""
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def plugin_dir(tmp, plugins):
    """Make tmp/plugins/<id>/plugin.so from $ZEPIX_BUILD/testplugins/<name>/plugin.so
    for each id -> name in plugins; returns the directory."""
    root = os.path.join(tmp, "plugins")
    for pid, name in plugins.items():
        os.makedirs(os.path.join(root, pid), exist_ok=True)
        shutil.copy(os.path.join(BUILD, "testplugins", name, "plugin.so"),
                    os.path.join(root, pid, "plugin.so"))
    return root
