"""Interactive sessions on a real terminal (tmux): typing, the tty size and its changes, detach keys,
attach, exec -it, and the local terminal restored afterwards. Run with both CLIs."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(not TMUX, reason="tmux is not installed")


class Pane:
    def __init__(self, sock: str, name: str):
        self.sock, self.name = sock, name

    def tmux(self, *args) -> str:
        return subprocess.run([TMUX, "-S", self.sock, *args], capture_output=True, text=True, timeout=10).stdout

    def text(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", self.name)

    def wait_for(self, pattern: str, timeout: float = 15) -> re.Match:
        deadline = time.time() + timeout
        while True:
            m = re.search(pattern, self.text())
            if m:
                return m
            if time.time() > deadline:
                raise AssertionError(f"{pattern!r} never showed up; the pane:\n{self.text()}")
            time.sleep(0.1)

    def type(self, text: str, enter: bool = True) -> None:
        self.tmux("send-keys", "-t", self.name, "-l", text)
        if enter:
            self.tmux("send-keys", "-t", self.name, "Enter")

    def keys(self, *keys: str) -> None:
        """Each key on its own, as a person types them (detach keys are matched key by key)."""
        for k in keys:
            self.tmux("send-keys", "-t", self.name, k)
            time.sleep(0.15)


@pytest.fixture
def term(tmp_path):
    sock = str(tmp_path / "tmux.sock")
    started = []

    def open_pane(runner, *args, name="s"):
        env = runner.env()
        cmd = " ".join(shlex.quote(a) for a in runner.argv0 + list(args))
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()
                           if k in ("DOCKER_HOST", "DOCKER_CONFIG", "PYTHONPATH", "PATH"))
        script = (f"export {exports}; {cmd}; echo EXIT=$?; "
                  "stty -a | grep -o -- ' -*icanon' | head -1 | sed 's/^/TERMMODE=/'; sleep 60")
        subprocess.run([TMUX, "-S", sock, "new-session", "-d", "-s", name, "-x", "100", "-y", "30",
                        "sh", "-c", script], check=True, timeout=10, env={**os.environ, "TERM": "xterm"})
        started.append(name)
        return Pane(sock, name)

    yield open_pane
    subprocess.run([TMUX, "-S", sock, "kill-server"], capture_output=True, timeout=10)


def _runners(dy, dk):
    return [("docker", dk), ("dockyard", dy)]


@pytest.mark.parametrize("which", ["docker", "dockyard"])
def test_run_it_type_resize_detach_attach(which, dy, dk, term, cleanup):
    runner = dict(_runners(dy, dk))[which]
    name = f"tty-{which}"
    cleanup.append(name)
    pane = term(runner, "run", "-it", "--name", name, "busybox", "sh")
    pane.wait_for(r"/ # ")
    pane.type("echo hi-$((20+22))")
    pane.wait_for(r"\nhi-42")
    pane.type("stty size")
    pane.wait_for(r"\n30 100")
    pane.tmux("resize-window", "-t", "s", "-x", "120", "-y", "40")
    time.sleep(0.5)
    pane.type("stty size")
    pane.wait_for(r"\n40 120")
    pane.keys("C-p", "C-q")
    pane.wait_for(r"EXIT=0")
    pane.wait_for(r"TERMMODE= icanon")  # the local terminal is back in cooked mode
    assert runner("inspect", "-f", "{{.State.Running}}", name).out == "true\n"

    pane2 = term(runner, "attach", name, name="a")
    time.sleep(0.5)
    pane2.type("echo back-$((1+1))")
    pane2.wait_for(r"back-2")
    pane2.type("exit 3")
    pane2.wait_for(r"EXIT=3")
    pane2.wait_for(r"TERMMODE= icanon")


@pytest.mark.parametrize("which", ["docker", "dockyard"])
def test_exec_it(which, dy, dk, term, cleanup):
    runner = dict(_runners(dy, dk))[which]
    name = f"tty-ex-{which}"
    cleanup.append(name)
    assert runner("run", "-d", "--name", name, "busybox", "sleep", "600").rc == 0
    pane = term(runner, "exec", "-it", name, "sh")
    pane.wait_for(r"/ # ")
    pane.type("stty size; echo in-exec")
    pane.wait_for(r"30 100\s+in-exec")
    pane.type("exit 5")
    pane.wait_for(r"EXIT=5")
    pane.wait_for(r"TERMMODE= icanon")


@pytest.mark.parametrize("which", ["docker", "dockyard"])
def test_run_it_exit_status_and_ctrl_c(which, dy, dk, term):
    runner = dict(_runners(dy, dk))[which]
    pane = term(runner, "run", "--rm", "-it", "busybox", "sh")
    pane.wait_for(r"/ # ")
    pane.type("sleep 30")
    time.sleep(0.5)
    pane.keys("C-c")  # goes to the container's shell, not to the CLI
    pane.wait_for(r"\^C|\n/ # \s*$")
    pane.type("exit 7")
    pane.wait_for(r"EXIT=7")


@pytest.mark.parametrize("which", ["docker", "dockyard"])
def test_attach_detach_keys(which, dy, dk, term, cleanup):
    runner = dict(_runners(dy, dk))[which]
    name = f"tty-at-{which}"
    cleanup.append(name)
    assert runner("run", "-dit", "--name", name, "busybox", "sh").rc == 0
    pane = term(runner, "attach", "--detach-keys", "ctrl-x,x", name)
    time.sleep(0.5)
    pane.type("echo attached")
    pane.wait_for(r"\nattached")
    pane.keys("C-x", "x")
    m = pane.wait_for(r"(?s)(.*)EXIT=(\d+)")
    assert m.group(2) == "1" and "read escape sequence" in m.group(1)
    assert runner("inspect", "-f", "{{.State.Running}}", name).out == "true\n"


def test_terminal_restored_when_the_cli_is_killed(dy, term, cleanup):
    """SIGTERM to our CLI in a raw-mode session: the local terminal goes back to cooked mode."""
    cleanup.append("tty-sig")
    pane = term(dy, "run", "-it", "--name", "tty-sig", "busybox", "sh")
    pane.wait_for(r"/ # ")
    shell_pid = int(pane.tmux("display", "-p", "-t", "s", "#{pane_pid}").strip())
    with open(f"/proc/{shell_pid}/task/{shell_pid}/children") as f:
        cli_pid = int(f.read().split()[0])
    os.kill(cli_pid, 15)
    pane.wait_for(r"EXIT=130")
    pane.wait_for(r"TERMMODE= icanon")
