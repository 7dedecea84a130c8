"""Fixtures for the cgroup integration tests (root, this machine's real
hierarchies). Every cgroup goes below this process's own cgroup under a
unique top directory; processes started by a test are killed and the cgroups
removed afterwards, even when the test fails."""
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from dockyard.cgroups import CgroupError, open_manager
from dockyard.cgroups.paths import detect_layout
from dockyard.cgroups.v2 import V2Manager

pytestmark = pytest.mark.root


class Procs:
    """Processes a test starts; each waits for a byte on stdin before its work
    so it can be put into the cgroup first."""

    def __init__(self):
        self.procs = []

    def start(self, code, **kw):
        p = subprocess.Popen([sys.executable, "-I", "-S", "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
        self.procs.append(p)
        return p

    def go(self, p):
        p.stdin.write(b"g")
        p.stdin.flush()

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
            for f in (p.stdin, p.stdout, p.stderr):
                if f:
                    f.close()


def _cleanup(m, procs):
    procs.kill_all()
    try:
        m.thaw()  # signals stay pending in frozen tasks
    except CgroupError:
        pass
    # anything left in the cgroup descends from our own processes
    for _ in range(50):
        try:
            left = m.pids() if m.created else []
        except CgroupError:
            left = []
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    try:
        m.destroy()
    except CgroupError:
        time.sleep(0.5)
        m.destroy()


@pytest.fixture
def top():
    return f"dockyard-itest-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.kill_all()


@pytest.fixture
def v1(top, procs):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if detect_layout().mode == "v2":
        pytest.skip("this host has no cgroup v1 hierarchies")
    m = open_manager(f"/{top}/ctr", "unused")
    m.create()
    try:
        yield m
    finally:
        _cleanup(m, procs)
        for h in m.hierarchies:
            assert not os.path.exists(os.path.join(h.own_dir, top)), f"left behind in {h.name}"


@pytest.fixture
def v2(top, procs):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    lay = detect_layout()
    if lay.unified is None:
        pytest.skip("no cgroup2 mount on this host")
    m = V2Manager(lay.unified, f"{top}/ctr")
    m.create()
    try:
        yield m
    finally:
        _cleanup(m, procs)
        assert not os.path.exists(os.path.join(lay.unified.own_dir, top))
