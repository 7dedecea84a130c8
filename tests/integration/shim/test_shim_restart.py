"""The shim going away and coming back; starting it from the client library."""
import asyncio
import json
import os
import signal
import subprocess
import sys

import pytest

from dockyard.shim.client import ShimClient, ShimUnavailable, answers, ensure_running
from shimtest_support import run

pytestmark = pytest.mark.root


def _entries(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def _alive(pid):
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_restart_rebuilds_state_and_detects_later_exit(shim):
    s = shim
    ticker, done, tty = s.cid("tick"), s.cid("done"), s.cid("tty")

    async def before():
        await s.create(ticker, ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done"])
        await s.client.start(ticker)
        await s.create(done, ["sh", "-c", "exit 3"])
        await s.client.start(done)
        assert (await s.client.wait(done))["exit_code"] == 3
        await s.create(tty, ["sleep", "60"], tty=True)
        await s.client.start(tty)
        await asyncio.sleep(0.2)
    run(before())
    old_pid = s.proc.pid
    s.kill(signal.SIGKILL)
    assert not answers(s.exec_root, timeout=0.5)
    ticks_while_away = len(_entries(s.log_path(ticker)))
    s.start()
    assert s.proc.pid != old_pid

    async def after():
        states = {c["id"]: c for c in await s.client.list()}
        assert set(states) == {ticker, done, tty}
        assert states[ticker]["status"] == "running" and states[ticker]["recovered"] is True
        assert states[done]["status"] == "stopped" and states[done]["exit_code"] == 3
        # the ticker never blocked nor died: its output went on into the fifo, and now into the log again
        await asyncio.sleep(0.4)
        ticks = [e["log"] for e in _entries(s.log_path(ticker))]
        assert len(ticks) > ticks_while_away
        numbers = [int(t.split()[1]) for t in ticks]
        assert numbers == list(range(len(numbers))), "lines were lost or reordered across the restart"
        # its later exit is noticed (through a pidfd: the code itself is unknown)
        events = s.client.subscribe()
        nxt = asyncio.ensure_future(events.__anext__())
        await asyncio.sleep(0.05)
        await s.client.kill(ticker, 9)
        res = await s.client.wait(ticker)
        assert res["exit_code"] == 255 and res["finished_at"]
        ev = await asyncio.wait_for(nxt, 10)
        assert ev["id"] == ticker and ev["exit_code"] == 255
        await events.aclose()
        with open(os.path.join(s.exec_root, "shim", ticker, "exit.json")) as f:
            assert json.load(f)["exit_code"] == 255
        for cid in (ticker, done, tty):
            await s.client.delete(cid, force=True)
        assert await s.client.list() == []
    run(after())


def test_sigterm_stops_the_shim_but_not_the_containers(shim):
    s = shim
    cid = s.cid()

    async def before():
        await s.create(cid, ["sleep", "60"])
        return await s.client.start(cid)
    run(before())
    s.kill(signal.SIGTERM)
    assert s.proc.returncode == 0
    assert not os.path.exists(os.path.join(s.exec_root, "shim.sock"))
    state = subprocess.run([s.runtime, "--root", s.runtime_root, "state", cid], capture_output=True, text=True)
    assert json.loads(state.stdout)["status"] == "running"
    s.start()

    async def after():
        assert (await s.client.state(cid))["status"] == "running"
        await s.client.delete(cid, force=True)
    run(after())


def test_one_shim_per_exec_root(shim):
    p = subprocess.run([sys.executable, "-m", "dockyard.shim", "--exec-root", shim.exec_root],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "another dockyard-shim is running" in p.stderr
    assert answers(shim.exec_root)


def test_ensure_running_starts_a_detached_shim_once(tmp_path):
    import tempfile
    exec_root = tempfile.mkdtemp(prefix="dys-", dir="/tmp")
    pid = None
    try:
        ensure_running(exec_root, log_file=str(tmp_path / "shim.log"))
        pid = run(ShimClient(exec_root).ping())["pid"]
        assert os.getsid(pid) == pid, "the shim leads its own session"
        with open(f"/proc/{pid}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        assert ppid != os.getpid(), "the shim is not the caller's child"
        ensure_running(exec_root)  # already answering: nothing new
        assert run(ShimClient(exec_root).ping())["pid"] == pid
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
        import shutil
        import time
        deadline = time.monotonic() + 10
        while pid and _alive(pid) and time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)  # in case it did end up our child
            except ChildProcessError:
                pass
            time.sleep(0.02)
        shutil.rmtree(exec_root, ignore_errors=True)


def test_ensure_running_reports_a_shim_that_cannot_start():
    import tempfile
    base = tempfile.mkdtemp(prefix="dys-", dir="/tmp")
    try:
        with pytest.raises(ShimUnavailable, match="too long for a unix socket"):
            ensure_running(os.path.join(base, "x" * 120), timeout=5)
    finally:
        import shutil
        shutil.rmtree(base, ignore_errors=True)
