"""Interactive `docker run -it` / `docker exec -it` against dockyardd, typed through tmux (needs root)."""
import os
import shutil
import subprocess
import time

import pytest


pytestmark = [pytest.mark.root,
              pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not on PATH"),
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]




class Tmux:
    def __init__(self, base, env, name="tmux"):
        self.sock = os.path.join(base, f"{name}.sock")
        self.env = env

    def run(self, *args):
        return subprocess.run(["tmux", "-S", self.sock, *args], capture_output=True, text=True, env=self.env)

    def start(self, cmd, cols=100, rows=30):
        self.run("new-session", "-d", "-s", "t", "-x", str(cols), "-y", str(rows), cmd + "; echo EXIT=$?; sleep 60")

    def keys(self, *keys):
        self.run("send-keys", "-t", "t", *keys)

    def screen(self):
        return self.run("capture-pane", "-p", "-t", "t").stdout

    def wait_for(self, text, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.screen():
                return
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear:\n{self.screen()}\n{self.run('list-sessions').stdout}")

    def kill(self):
        self.run("kill-server")


def test_run_it_and_exec_it_with_real_keystrokes(d, tmp_path):
    t = Tmux(str(tmp_path), d.env)
    try:
        t.start("docker run -it --name inter busybox sh", cols=100, rows=30)
        t.wait_for("/ #")
        t.keys("stty size; tty; echo $((6*7))", "Enter")
        t.wait_for("42")
        assert "30 100" in t.screen() and "/dev/pts/0" in t.screen()
        # detach with ctrl-p ctrl-q: the container keeps running
        t.keys("C-p", "C-q")
        t.wait_for("EXIT=0")
        assert d.docker("inspect", "-f", "{{.State.Running}}", "inter").stdout.strip() == "true"
        t.kill()
        t = Tmux(str(tmp_path), d.env, "tmux2")
        t.start("docker exec -it inter sh")
        t.wait_for("/ #")
        t.keys("echo exec-$((2+3)); exit 6", "Enter")
        t.wait_for("EXIT=6")
        assert "exec-5" in t.screen()
    finally:
        t.kill()
        d.docker("rm", "-f", "inter", check=False)
