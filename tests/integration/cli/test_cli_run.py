"""run, start -a, exec, attach, logs, wait: streams, stdin, exit codes and signals, against the daemon."""
from __future__ import annotations

import signal
import subprocess
import time

import pytest

from cli_helpers import normalize


def test_run_streams_and_status(dy, dk):
    for runner in (dk, dy):
        r = runner("run", "--rm", "busybox", "sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 3")
        assert (r.rc, r.out, r.err) == (3, "out1\nout2\n", "err1\n"), runner.argv0


@pytest.mark.parametrize("cmd,status", [(["nonexist"], 127), (["/etc/passwd"], 126), (["/"], 126)])
def test_run_cannot_invoke(dy, dk, cmd, status):
    a, b = dy("run", "--rm", "busybox", *cmd), dk("run", "--rm", "busybox", *cmd)
    assert a.rc == b.rc == status
    assert normalize(a.err) == normalize(b.err)
    assert a.err.startswith("dockyard: Error response from daemon: ")
    assert a.err.endswith("\n\nRun 'dockyard run --help' for more information\n")


def test_run_rm_removes_and_detach_keeps(dy, cleanup):
    r = dy("run", "--rm", "--name", "run-rm", "busybox", "true")
    assert r.rc == 0, r
    assert dy("ps", "-a", "-q", "--filter", "name=run-rm").out == ""
    cleanup.append("run-d")
    r = dy("run", "-d", "--name", "run-d", "busybox", "sleep", "600")
    assert r.rc == 0 and len(r.out.strip()) == 64, r
    assert dy("inspect", "-f", "{{.State.Running}} {{.Config.AttachStdout}}", "run-d").out == "true false\n"
    r = dy("run", "--name", "run-d", "busybox", "true")
    assert r.rc == 125 and "is already in use" in r.err


def test_run_stdin_is_forwarded_then_closed(dy):
    data = "".join(f"line {i} " + "x" * 100 + "\n" for i in range(20000))  # ~2 MB, more than pipe buffers
    r = dy("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done", input=data, timeout=60)
    assert r.rc == 0 and r.out == data + "done\n", (r.rc, len(r.out), r.err)
    r = dy("run", "--rm", "-i", "busybox", "wc", "-c", input="")
    assert (r.rc, r.out.strip()) == (0, "0")


def test_run_without_i_does_not_read_stdin(dy):
    r = dy("run", "--rm", "busybox", "sh", "-c", "cat; echo after", input="ignored\n")
    assert (r.rc, r.out) == (0, "after\n")


def test_run_attach_stdout_only(dy, dk):
    for runner in (dk, dy):
        r = runner("run", "--rm", "-a", "stdout", "busybox", "sh", "-c", "echo o; echo e >&2")
        assert (r.rc, r.out, r.err) == (0, "o\n", ""), runner.argv0


def test_run_tty_without_terminal(dy, dk):
    a = dy("run", "--rm", "-t", "busybox", "sh", "-c", "tty; echo err >&2")
    b = dk("run", "--rm", "-t", "busybox", "sh", "-c", "tty; echo err >&2")
    assert (a.rc, a.out, a.err) == (b.rc, b.out, b.err) and "/dev/pts/0" in a.out and "err" in a.out, (a, b)
    for runner in (dk, dy):
        r = runner("run", "--rm", "-it", "busybox", "true", input="")
        assert (r.rc, r.err) == (1, "the input device is not a TTY\n"), (runner.argv0, r)


@pytest.mark.parametrize("proxy", [True, False])
def test_run_signal_proxy(dy, proxy):
    args = ["run", "--rm"] + ([] if proxy else ["--sig-proxy=false"]) + [
        "busybox", "sh", "-c", "trap 'echo got-term; exit 7' TERM; echo ready; while true; do sleep 0.1; done"]
    p = dy.popen(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if proxy:
        assert (p.returncode, out) == (7, "got-term\n"), err
    else:
        assert p.returncode != 7 and out == ""


def test_start_attach(dy, dk, cleanup):
    for runner, name in ((dk, "sa-dk"), (dy, "sa-dy")):
        cleanup.append(name)
        assert runner("create", "--name", name, "busybox", "sh", "-c", "echo hi; echo e >&2; exit 5").rc == 0
        r = runner("start", "-a", name)
        assert (r.rc, r.out, r.err) == (5, "hi\n", "e\n"), (runner.argv0, r)
        r = runner("start", name, "nope")
        assert (r.rc, r.out) == (1, f"{name}\n")
        assert normalize(r.err) == ("Error response from daemon: No such container: nope\n"
                                    "Error: failed to start containers: nope\n")
    cleanup.append("sai")
    assert dy("create", "-i", "--name", "sai", "busybox", "sh", "-c", "read x; echo got $x").rc == 0
    r = dy("start", "-ai", "sai", input="value\n")
    assert (r.rc, r.out) == (0, "got value\n"), r


def test_exec(dy, dk, cleanup):
    cleanup.append("ex")
    assert dy("run", "-d", "--name", "ex", "busybox", "sleep", "600").rc == 0
    for runner in (dk, dy):
        r = runner("exec", "-e", "A=1", "-w", "/tmp", "-u", "65534", "ex", "sh", "-c",
                   "echo $A $(pwd) $(id -u); echo err >&2; exit 4")
        assert (r.rc, r.out, r.err) == (4, "1 /tmp 65534\n", "err\n"), (runner.argv0, r)
        r = runner("exec", "-i", "ex", "sh", "-c", "tr a-z A-Z", input="shout\n")
        assert (r.rc, r.out) == (0, "SHOUT\n"), r
        r = runner("exec", "-d", "ex", "sh", "-c", "echo bg > /tmp/bg")
        assert (r.rc, r.out) == (0, "")
        r = runner("exec", "-t", "ex", "sh", "-c", "echo tty; tty")
        out = r.out.split()  # a pty an earlier exec has not released yet can make it pts/1
        assert r.rc == 0 and out[:1] == ["tty"] and out[1].startswith("/dev/pts/"), r
    time.sleep(0.3)
    assert dy("exec", "ex", "cat", "/tmp/bg").out == "bg\n"
    a, b = dy("exec", "ex", "nonexist"), dk("exec", "ex", "nonexist")
    assert a.rc == b.rc and normalize(a.out + a.err) == normalize(b.out + b.err), (a, b)
    assert dy("stop", "-t", "0", "ex").rc == 0
    a, b = dy("exec", "ex", "true"), dk("exec", "ex", "true")
    assert a.rc == b.rc == 1 and normalize(a.err) == normalize(b.err), (a, b)


def test_logs(dy, dk, cleanup):
    cleanup.append("lg")
    assert dy("run", "--name", "lg", "busybox", "sh", "-c", "echo a; echo b >&2; echo c").rc == 0
    for args in (("logs", "lg"), ("logs", "--tail", "1", "lg"), ("logs", "-n", "2", "lg"),
                 ("logs", "--since", "1h", "lg"), ("logs", "--until", "1h", "lg"), ("logs", "--since", "x", "lg")):
        a, b = dy(*args), dk(*args)
        assert (a.rc, a.out, normalize(a.err)) == (b.rc, b.out, normalize(b.err)), args
    r = dy("logs", "-t", "lg")
    lines = r.out.splitlines()
    assert len(lines) == 2 and all(x.split(" ", 1)[0].endswith("Z") for x in lines), r
    cleanup.append("lgf")
    assert dy("run", "-d", "--name", "lgf", "busybox", "sh", "-c",
              "for i in 1 2 3; do echo $i; sleep 0.2; done").rc == 0
    r = dy("logs", "-f", "lgf", timeout=30)
    assert (r.rc, r.out) == (0, "1\n2\n3\n")


def test_wait_and_attach(dy, cleanup):
    cleanup.append("wa")
    assert dy("run", "-d", "--name", "wa", "busybox", "sh", "-c",
              "trap 'exit 9' TERM; while true; do echo tick; sleep 0.2; done").rc == 0
    p = dy.popen("attach", "--no-stdin", "wa", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "tick\n"
        assert dy("stop", "-t", "5", "wa").rc == 0
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 9, err
    assert dy("wait", "wa").out == "9\n"
    r = dy("attach", "wa")
    assert (r.rc, r.err) == (1, "You cannot attach to a stopped container, start it first\n")


def test_create_then_inspect_roundtrip(dy, cleanup):
    cleanup.append("cr")
    r = dy("create", "--name", "cr", "-e", "K=V", "-l", "x=y", "--restart", "on-failure:2", "-m", "64m",
           "--pids-limit", "50", "--init", "-w", "/srv", "busybox", "echo", "hi")
    assert r.rc == 0 and len(r.out.strip()) == 64
    r = dy("inspect", "-f", "{{json .Config.Env}} {{.Config.Labels.x}} {{.HostConfig.RestartPolicy.Name}}"
           " {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.Init}} {{.Config.WorkingDir}}"
           " {{json .Config.Cmd}}", "cr")
    assert r.out.split(" ", 1)[1] == "y on-failure 67108864 50 true /srv [\"echo\",\"hi\"]\n"
    assert "K=V" in r.out.split(" ", 1)[0]
    r = dy("start", "-a", "cr")
    assert (r.rc, r.out) == (0, "hi\n")
