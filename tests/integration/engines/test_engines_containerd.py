"""containerd 1.6 (shim io.containerd.runc.v2) with the runtime under test (ctr --runc-binary): run,
exec, kill, delete, pause/resume, ps, ttys over --console-socket, and errors the shim reads from log.json."""
from __future__ import annotations

import base64
import json
import os
import pty
import select
import subprocess
import time

import pytest

from engines_cleanup import container_cgroups, mounts_under
from engines_image import IMAGE

pytestmark = pytest.mark.root

TRAP_LOOP = 'trap "exit 3" TERM; while :; do sleep 0.1; done'


def _runtime_state(containerd, runtime, cid):
    p = subprocess.run([runtime.binary, "--root", containerd.runtime_state_dir(), "state", cid],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _assert_gone(containerd, cid):
    assert cid not in containerd.ctr("container", "ls", "--quiet").stdout.split()
    state_dir = containerd.runtime_state_dir()
    assert not os.path.exists(os.path.join(state_dir, cid)), os.listdir(state_dir)
    assert container_cgroups(containerd.cgroup_parent, cid) == []


def _in_pty(cmd, timeout=30.0):
    """Run ``cmd`` with a pty as its stdio (ctr -t insists on a terminal); returns (status, output)."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    finally:
        os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every slave end is closed
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
        return proc.wait(10), out.decode(errors="replace")
    finally:
        os.close(master)


def test_ctr_run_rm_prints_ok(containerd):
    cid = "run-rm"
    p = containerd.ctr(*containerd.run_args(cid, "--rm"), IMAGE, cid, "echo", "ok")
    assert p.stdout == "ok\n"
    _assert_gone(containerd, cid)


def test_ctr_detached_exec_kill_delete(containerd, runtime_under_test):
    cid = "life"
    containerd.ctr(*containerd.run_args(cid, "-d", "--null-io"), IMAGE, cid, "sh", "-c", TRAP_LOOP)
    # containerd ran it with our runtime, and both agree on the init
    opts = json.loads(containerd.ctr("container", "info", cid).stdout)["Runtime"]["Options"]
    assert containerd.rt_root.encode() in base64.b64decode(opts["value"])
    if runtime_under_test.is_dockyard:
        assert runtime_under_test.binary.encode() in base64.b64decode(opts["value"])
    pid, status = containerd.task_status(cid)
    assert status == "RUNNING"
    state = _runtime_state(containerd, runtime_under_test, cid)
    assert (state["status"], state["pid"]) == ("running", pid)

    p = containerd.ctr(*containerd.exec_args(cid, "hi"), "echo", "hi")
    assert p.stdout == "hi\n"
    assert containerd.ctr(*containerd.exec_args(cid, "five"), "sh", "-c", "exit 5", check=False).returncode == 5

    containerd.ctr("task", "kill", cid)  # SIGTERM: the trap makes it exit 3
    containerd.wait_status(cid, "STOPPED")
    p = containerd.ctr("task", "delete", cid)
    assert "exit code 3" in p.stderr, p.stderr
    containerd.ctr("container", "rm", cid)
    _assert_gone(containerd, cid)


def test_ctr_pause_resume_ps_kill_all(containerd, runtime_under_test):
    cid = "pause"
    containerd.ctr(*containerd.run_args(cid, "-d", "--null-io"), IMAGE, cid, "sleep", "1000")
    containerd.ctr(*containerd.exec_args(cid, "bg", "--detach"), "sleep", "999")
    init_pid, _ = containerd.task_status(cid)
    lines = containerd.ctr("task", "ps", cid).stdout.splitlines()[1:]
    pids = [int(line.split()[0]) for line in lines]
    assert init_pid in pids and len(pids) == 2, lines
    assert any("ExecID:bg" in line for line in lines)

    containerd.ctr("task", "pause", cid)
    assert containerd.task_status(cid)[1] == "PAUSED"
    assert _runtime_state(containerd, runtime_under_test, cid)["status"] == "paused"
    containerd.ctr("task", "resume", cid)
    assert containerd.task_status(cid)[1] == "RUNNING"

    containerd.ctr("task", "kill", "--all", "--signal", "SIGKILL", cid)
    containerd.wait_status(cid, "STOPPED")
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}/cmdline") or open(f"/proc/{pid}/cmdline").read() == ""
    containerd.ctr("task", "delete", cid)
    containerd.ctr("container", "rm", cid)
    _assert_gone(containerd, cid)


def test_ctr_tty_run_and_exec(containerd):
    cid = "tty"
    status, out = _in_pty(containerd.ctr_cmd(*containerd.run_args(cid, "--rm", "-t"), IMAGE, cid,
                                                 "sh", "-c", "tty; echo tty-ok"))
    assert status == 0 and "/dev/pts/0" in out and "tty-ok" in out, out
    _assert_gone(containerd, cid)

    cid = "tty-exec"
    containerd.ctr(*containerd.run_args(cid, "-d", "--null-io"), IMAGE, cid, "sleep", "1000")
    status, out = _in_pty(containerd.ctr_cmd(*containerd.exec_args(cid, "t", "--tty"), "sh", "-c", "tty; exit 4"))
    assert status == 4 and "/dev/pts/" in out, out
    containerd.ctr("task", "kill", "--signal", "SIGKILL", cid)
    containerd.wait_status(cid, "STOPPED")
    containerd.ctr("task", "delete", cid)
    containerd.ctr("container", "rm", cid)
    _assert_gone(containerd, cid)


@pytest.mark.parametrize("propagation", ["rshared", "shared", "rprivate"])
def test_ctr_rootfs_propagation(containerd, propagation):
    """A shared root propagation makes the rootfs's parent mount shared, which pivot_root refuses:
    the runtime has to make that parent private first (as runc does), and nothing may leak to the host."""
    cid = f"prop-{propagation}"
    state = os.path.join(containerd.base, "state")
    before = mounts_under(state)
    p = containerd.ctr(*containerd.run_args(cid, "--rm", "--rootfs-propagation", propagation), IMAGE, cid,
                       "echo", "ok", check=False)
    assert (p.returncode, p.stdout) == (0, "ok\n"), p.stderr
    assert mounts_under(state) == before
    _assert_gone(containerd, cid)


@pytest.mark.parametrize("argv, message", [
    (["/nonexistent"], 'exec: "/nonexistent": stat /nonexistent: no such file or directory'),
    (["nosuchcommand"], 'exec: "nosuchcommand": executable file not found in $PATH'),
    (["/etc/passwd"], 'exec: "/etc/passwd": permission denied'),
], ids=["missing", "not-in-path", "not-executable"])
def test_ctr_reports_runtime_errors_from_log_json(containerd, argv, message):
    """The shim passes --log log.json --log-format json and reports the runtime's last error from it."""
    cid = "err"
    p = containerd.ctr(*containerd.run_args(cid, "--rm"), IMAGE, cid, *argv, check=False)
    assert p.returncode != 0
    assert "OCI runtime create failed" in p.stderr and message in p.stderr, p.stderr
    containerd.ctr("container", "rm", cid, check=False)  # ctr --rm keeps it when the task never started
    _assert_gone(containerd, cid)


def test_ctr_reports_exec_errors_from_log_json(containerd):
    cid = "exec-err"
    containerd.ctr(*containerd.run_args(cid, "-d", "--null-io"), IMAGE, cid, "sleep", "1000")
    for n, (argv, message) in enumerate([
        (["/nonexistent"], 'exec: "/nonexistent": stat /nonexistent: no such file or directory'),
        (["/etc/passwd"], 'exec: "/etc/passwd": permission denied'),
    ]):
        p = containerd.ctr(*containerd.exec_args(cid, f"e{n}"), *argv, check=False)
        assert p.returncode != 0
        assert "OCI runtime exec failed" in p.stderr and message in p.stderr, p.stderr
    p = containerd.ctr(*containerd.exec_args(cid, "user", "--user", "65534", "--cwd", "/tmp"), "sh", "-c", "id -u; pwd")
    assert p.stdout.split() == ["65534", "/tmp"]
    assert containerd.task_status(cid)[1] == "RUNNING"
    containerd.ctr("task", "kill", "--signal", "SIGKILL", cid)
    containerd.wait_status(cid, "STOPPED")
    containerd.ctr("task", "delete", cid)
    containerd.ctr("container", "rm", cid)
    _assert_gone(containerd, cid)
