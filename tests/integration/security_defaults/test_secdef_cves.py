"""Attacks of the classes of runc's container escapes, which must fail:

* CVE-2019-5736: overwriting the runtime's binary through /proc/<pid>/exe while it joins the container;
* CVE-2024-21626: a working directory outside the container's root, through a leaked directory fd;
* not dumpable until exec, checked on a created-but-not-started container.

(CVE-2018-15664, `docker cp` against swapped symlinks, is attacked through the API in
tests/integration/daemon_archive/test_daemon_archive_cp.py::test_symlink_swapped_while_copying.)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from dockyard.runtime.bundle import busybox_rootfs
from dockyard.runtime.defaults import default_spec

pytestmark = pytest.mark.root
RUNTIME = os.path.join(os.path.dirname(sys.executable), "dockyard-runtime")


def runtime_binaries() -> set[tuple[int, int]]:
    """(st_dev, st_ino) of what /proc/<pid>/exe of a dockyard-runtime process is: the interpreter."""
    out = set()
    for p in (sys.executable, os.path.realpath(sys.executable), RUNTIME):
        st = os.stat(p)
        out.add((st.st_dev, st.st_ino))
    return out


def test_runtime_exe_unreachable_while_joining_containers(d, probe):
    """A container scans /proc while execs into it, and containers joining its pid namespace,
    start: the runtime's processes must never be reachable (non-dumpable: no /proc/<pid>/exe,
    no ptrace), and no exe the container can reach may be the runtime's."""
    w = d.docker("run", "-d", "-v", f"{probe}:/probe:ro", "busybox", "/probe", "exewatch", "60").stdout.strip()
    try:
        time.sleep(0.3)
        for _ in range(5):
            d.docker("exec", w, "true")
            d.docker("run", "--rm", "--pid", f"container:{w}", "busybox", "true")
        time.sleep(0.2)
        d.docker("kill", w)
        out = d.docker("logs", w).stdout
    finally:
        d.docker("rm", "-f", w, check=False)
    lines = out.splitlines()
    runtime = runtime_binaries()
    nondumpable = [ln for ln in lines if ln.startswith("NONDUMPABLE")]
    reachable = [ln for ln in lines if ln.startswith("REACHABLE")]
    assert len(nondumpable) >= 5, out   # the scan did see the runtime's processes while they joined
    for ln in nondumpable:
        f = dict(kv.split("=", 1) for kv in ln.split()[2:])
        assert f["ptrace"] != "ok" or f["attached-to"].startswith("/bin/"), ln  # only after exec
    for ln in reachable:
        f = dict(kv.split("=", 1) for kv in ln.split()[2:])
        assert (int(f["dev"]), int(f["ino"])) not in runtime, f"the runtime's binary was reachable: {ln}"
        assert f["target"].startswith("/bin/"), ln
        assert f["write"] != "ok" and f["write-via-fd"] != "ok", ln


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8, 9])
def test_workdir_through_proc_self_fd_refused(d, n):
    out = d.docker("run", "--rm", "-w", f"/proc/self/fd/{n}", "busybox", "sh", "-c", "pwd; ls ..", check=False)
    assert out.returncode != 0, out.stdout
    assert "chdir to cwd" in out.stderr or "outside" in out.stderr, out.stderr


def test_exec_workdir_through_proc_fd_refused(d):
    c = d.docker("run", "-d", "busybox", "sleep", "60").stdout.strip()
    try:
        for n in range(3, 9):
            for path in (f"/proc/self/fd/{n}", f"/proc/1/fd/{n}"):
                out = d.docker("exec", "-w", path, c, "sh", "-c", "pwd; ls ..", check=False)
                assert out.returncode != 0, (path, out.stdout)
    finally:
        d.docker("rm", "-f", c, check=False)


@pytest.fixture(scope="module")
def rt_env():
    if not os.path.exists("/bin/busybox"):
        pytest.skip("busybox-static is not installed")
    tmp = tempfile.mkdtemp(prefix="dockyard-secdef-rt-", dir="/var/tmp")
    root = os.path.join(tmp, "state")
    try:
        rootfs = busybox_rootfs(os.path.join(tmp, "rootfs"))
        yield tmp, root, rootfs
    finally:
        if os.path.isdir(root):
            for cid in os.listdir(root):
                subprocess.run([RUNTIME, "--root", root, "delete", "--force", cid], capture_output=True)
        subprocess.run(["rm", "-rf", tmp])


def _bundle(tmp, rootfs, name, args, **process):
    spec = default_spec()
    spec["process"].update(terminal=False, args=args, **process)
    spec["root"] = {"path": rootfs}
    b = os.path.join(tmp, name)
    os.makedirs(b)
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(spec, f)
    return b


def test_leaked_host_directory_fd_as_cwd_refused(rt_env):
    """CVE-2024-21626: a host directory fd handed to the container (here on purpose, with
    --preserve-fds) and process.cwd /proc/self/fd/3: the process must not start there."""
    tmp, root, rootfs = rt_env
    b = _bundle(tmp, rootfs, "cwd-leak", ["sh", "-c", "pwd; ls .."], cwd="/proc/self/fd/3")
    fd = os.open("/etc", os.O_RDONLY | os.O_DIRECTORY)
    try:
        p = subprocess.run([RUNTIME, "--root", root, "run", "--preserve-fds", "1", "--bundle", b, "cwdleak"],
                           capture_output=True, text=True, pass_fds=(fd,), timeout=30,
                           preexec_fn=lambda: os.dup2(fd, 3))
    finally:
        os.close(fd)
    assert p.returncode != 0 and "passwd" not in p.stdout, p.stdout
    assert "cwd ('/proc/self/fd/3')" in p.stderr, p.stderr
    # the same through exec into a running container
    b = _bundle(tmp, rootfs, "cwd-exec", ["sleep", "30"])
    subprocess.run([RUNTIME, "--root", root, "run", "-d", "--bundle", b, "cwdexec"], check=True, timeout=30,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fd = os.open("/etc", os.O_RDONLY | os.O_DIRECTORY)
    try:
        p = subprocess.run([RUNTIME, "--root", root, "exec", "--preserve-fds", "1", "--cwd", "/proc/self/fd/3",
                            "cwdexec", "sh", "-c", "pwd; ls .."], capture_output=True, text=True, pass_fds=(fd,),
                           timeout=30, preexec_fn=lambda: os.dup2(fd, 3))
    finally:
        os.close(fd)
    assert p.returncode != 0 and "passwd" not in p.stdout, p.stdout
    assert "cwd ('/proc/self/fd/3')" in p.stderr, p.stderr


def _owner_and_uid(pid: int) -> tuple[int, int]:
    """(owner of /proc/PID/status, the process's uid): the kernel gives a non-dumpable process's
    /proc files (not its /proc/PID directory) to root."""
    st = os.stat(f"/proc/{pid}/status")
    with open(f"/proc/{pid}/status") as f:
        uid = next(int(ln.split()[1]) for ln in f if ln.startswith("Uid:"))
    return st.st_uid, uid


def test_not_dumpable_until_exec(rt_env):
    """A created container's init (already uid 1000) is not dumpable (its /proc files belong to
    root, nobody can ptrace it or open its exe); after start the user's program is dumpable as usual."""
    tmp, root, rootfs = rt_env
    b = _bundle(tmp, rootfs, "dumpable", ["sleep", "30"], user={"uid": 1000, "gid": 1000})
    subprocess.run([RUNTIME, "--root", root, "create", "--bundle", b, "dump1"], check=True, timeout=30,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = json.loads(subprocess.run([RUNTIME, "--root", root, "state", "dump1"], capture_output=True, text=True,
                                      check=True).stdout)
    assert state["status"] == "created"
    pid = state["pid"]
    assert _owner_and_uid(pid) == (0, 1000)   # uid 1000 already, its /proc files root's: not dumpable
    subprocess.run([RUNTIME, "--root", root, "start", "dump1"], check=True, timeout=30)
    deadline = time.monotonic() + 5
    while _owner_and_uid(pid) != (1000, 1000) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _owner_and_uid(pid) == (1000, 1000)  # the exec'd program is dumpable again
    subprocess.run([RUNTIME, "--root", root, "delete", "--force", "dump1"], check=True, timeout=30)
