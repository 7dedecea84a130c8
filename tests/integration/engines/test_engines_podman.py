"""podman 4.3 with the runtime under test (--runtime): run, exec (plain and with a tty through conmon's
--console-socket), stop, rm, pause, update, errors; each checked from podman's side and the runtime's."""
from __future__ import annotations

import os
import time

import pytest

from engines_cleanup import container_cgroups
from engines_image import IMAGE

pytestmark = pytest.mark.root

# pid 1 ignores SIGTERM unless it handles it: this one exits 3 on TERM, so `stop` shows the signal arrived
TRAP_LOOP = 'trap "echo got-term; exit 3" TERM; echo started; while :; do sleep 0.1; done'


def _verbs(podman, cid):
    return [c[0] for c in podman.runtime_calls(cid)]


def _assert_gone(podman, cid):
    """The runtime deleted the container: no state, no cgroup left (podman's conmon cgroup aside)."""
    assert cid not in podman.runtime_ids()
    assert container_cgroups(podman.cgroup_parent, cid) == []


def test_podman_run_rm_prints_ok(podman):
    cidfile = os.path.join(podman.base, "cid-run-rm")
    p = podman(*podman.run_args("--rm", "--cidfile", cidfile), IMAGE, "echo", "ok")
    assert p.stdout == "ok\n"
    cid = open(cidfile).read().strip()
    verbs = _verbs(podman, cid)
    assert verbs[:2] == ["create", "start"], verbs
    assert "delete" in verbs
    _assert_gone(podman, cid)
    assert podman("ps", "--all", "--quiet", "--filter", f"id={cid}").stdout.strip() == ""


def test_podman_detached_exec_tty_stop_rm(podman):
    name = "lifecycle"
    cid = podman(*podman.run_args("-d", "--name", name), IMAGE, "sh", "-c", TRAP_LOOP).stdout.strip()
    try:
        # podman ran it with our runtime, and both agree on the container's init
        assert podman.inspect(name, "{{.OCIRuntime}}") == podman.wrapper
        pid = int(podman.inspect(name, "{{.State.Pid}}"))
        state = podman.runtime_state(cid)
        assert (state["status"], state["pid"]) == ("running", pid)
        create = podman.runtime_calls(cid)[0]
        assert create[0] == "create" and "--pid-file" in create

        assert podman("exec", name, "echo", "hi").stdout == "hi\n"
        assert podman("exec", "-i", name, "cat", input="from stdin\n").stdout == "from stdin\n"

        p = podman("exec", "-t", name, "sh", "-c", "tty; echo tty-ok")
        assert "/dev/pts/" in p.stdout and "tty-ok" in p.stdout, p.stdout
        tty_execs = [c for c in podman.runtime_calls(cid) if c[0] == "exec" and "--tty" in c]
        assert tty_execs and all("--console-socket" in c and "--detach" in c for c in tty_execs)

        t0 = time.monotonic()
        podman("stop", "--time", "20", name)
        assert time.monotonic() - t0 < 10, "SIGTERM did not reach the container: podman waited for its timeout"
        assert podman.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 3"
        assert "got-term" in podman("logs", name).stdout
        assert any(c[0] == "kill" and c[-1] in ("15", "TERM", "SIGTERM") for c in podman.runtime_calls(cid))

        podman("rm", name)
        _assert_gone(podman, cid)
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def test_podman_run_with_tty(podman):
    cidfile = os.path.join(podman.base, "cid-tty")
    p = podman(*podman.run_args("--rm", "-t", "--cidfile", cidfile), IMAGE, "sh", "-c", "tty; stty size")
    assert "/dev/pts/0" in p.stdout, p.stdout
    cid = open(cidfile).read().strip()
    create = podman.runtime_calls(cid)[0]
    assert create[0] == "create" and "--console-socket" in create
    _assert_gone(podman, cid)


def test_podman_exit_codes_and_errors(podman):
    assert podman(*podman.run_args("--rm"), IMAGE, "sh", "-c", "exit 7", check=False).returncode == 7
    assert podman(*podman.run_args("--rm", "-i"), IMAGE, "cat", input="piped\n").stdout == "piped\n"

    # failures found at create time come back through podman as its OCI error kinds
    p = podman(*podman.run_args("--rm"), IMAGE, "/nonexistent", check=False)
    assert p.returncode == 127 and "no such file or directory" in p.stderr, p.stderr
    p = podman(*podman.run_args("--rm"), IMAGE, "nosuchcommand", check=False)
    assert p.returncode == 127 and "executable file not found" in p.stderr, p.stderr
    p = podman(*podman.run_args("--rm"), IMAGE, "/etc/passwd", check=False)
    assert p.returncode == 126 and "OCI permission denied" in p.stderr, p.stderr

    name = "errors"
    podman(*podman.run_args("-d", "--name", name), IMAGE, "sleep", "1000")
    try:
        assert podman("exec", name, "sh", "-c", "exit 5", check=False).returncode == 5
        p = podman("exec", name, "/nonexistent", check=False)
        assert p.returncode == 127 and "no such file or directory" in p.stderr, p.stderr
        p = podman("exec", name, "/etc/passwd", check=False)
        assert p.returncode == 126 and "permission denied" in p.stderr, p.stderr
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)
    assert podman("ps", "--all", "--quiet").stdout.strip() == ""


def test_podman_config_reaches_the_container(podman):
    script = ("cat /proc/self/oom_score_adj /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes;"
              " ulimit -n; ulimit -u; id -u; hostname; grep CapEff /proc/self/status;"
              " touch /x 2>/dev/null || echo read-only; grep -c -E ' /dev/(shm|mqueue) ' /proc/self/mounts")
    p = podman(*podman.run_args("--rm", "--oom-score-adj", "100", "--pids-limit", "50", "--memory", "64m",
                                "--ulimit", "nofile=512:512", "--ulimit", "nproc=256:256", "--read-only",
                                "--user", "65534", "--hostname", "engines", "--cap-drop", "all"),
               IMAGE, "sh", "-c", script)
    assert p.stdout.split("\n")[:-1] == ["100", "50", str(64 << 20), "512", "256", "65534", "engines",
                                        "CapEff:\t0000000000000000", "read-only", "2"]


def test_podman_mounts_sysctl_and_init(podman, tmp_path):
    """podman's config.json has /proc/sys among readonlyPaths: sysctls must be written before those
    are made read-only (runc's order). Also catatonit bind-mounted as /run/podman-init (--init),
    bind mounts of a directory and of a file onto paths missing in the image, tmpfs, /dev/shm size."""
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "f").write_text("from-host\n")
    script = ("cat /proc/sys/kernel/msgmax; cat /data/f /etc/file1; touch /data/x 2>/dev/null || echo ro;"
              " grep -E ' /scratch | /dev/shm ' /proc/self/mounts | cut -d' ' -f2,4 | sort;"
              " tr '\\0' ' ' < /proc/1/cmdline")
    p = podman(*podman.run_args("--rm", "--init", "--sysctl", "kernel.msgmax=8192", "-v", f"{vol}:/data:ro",
                                "--mount", f"type=bind,src={vol / 'f'},dst=/etc/file1", "--tmpfs", "/scratch:size=1m",
                                "--shm-size", "2m"), IMAGE, "sh", "-c", script)
    lines = p.stdout.split("\n")
    assert lines[:4] == ["8192", "from-host", "from-host", "ro"], p.stdout
    assert lines[4].startswith("/dev/shm rw,") and "size=2048k" in lines[4], p.stdout
    assert lines[5].startswith("/scratch rw,") and "size=1024k" in lines[5], p.stdout
    assert lines[6].startswith("/run/podman-init -- sh -c"), p.stdout


def test_podman_negative_oom_score_adj_fails_cleanly(podman, runtime_under_test):
    """Lowering oom_score_adj needs CAP_SYS_RESOURCE, which this machine lacks: runc fails too.
    The runtime must fail the create, say why, and leave nothing behind."""
    cidfile = os.path.join(podman.base, "cid-oom")
    p = podman(*podman.run_args("--rm", "--cidfile", cidfile, "--oom-score-adj", "-100"), IMAGE, "true",
               check=False)
    with open("/proc/self/oom_score_adj") as f:
        can_lower = int(f.read()) <= -100
    if can_lower:
        pytest.skip("this process may lower oom_score_adj: nothing to check")
    assert p.returncode == 126, p.stderr
    if runtime_under_test.is_dockyard:
        assert "oom_score_adj" in p.stderr, p.stderr
    cid = open(cidfile).read().strip()
    _assert_gone(podman, cid)


def test_podman_pause_update_top(podman):
    name = "pause"
    cid = podman(*podman.run_args("-d", "--name", name), IMAGE, "sleep", "1000").stdout.strip()
    try:
        podman("pause", name)
        assert podman.inspect(name, "{{.State.Status}}") == "paused"
        assert podman.runtime_state(cid)["status"] == "paused"
        podman("unpause", name)
        assert podman.runtime_state(cid)["status"] == "running"

        podman("update", "--memory", "100m", "--cpu-shares", "512", name)
        p = podman("exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/cpu/cpu.shares")
        assert p.stdout.split() == [str(100 << 20), "512"]
        assert "update" in _verbs(podman, cid)

        assert "sleep 1000" in podman("top", name, "pid", "args").stdout
        podman("rm", "--force", "--time", "0", name)
        _assert_gone(podman, cid)
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)
