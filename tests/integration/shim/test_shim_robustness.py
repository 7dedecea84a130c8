"""Clients that go away, floods of output, OOM, resource updates."""
import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from dockyard.shim.client import answers
from dockyard.shim.frames import read_frame
from shimtest_support import read_frames, run

pytestmark = pytest.mark.root


def _log_size(path):
    return sum(os.path.getsize(p) for p in [path] + [f"{path}.{i}" for i in range(1, 10)] if os.path.exists(p))


def test_clients_going_away_mid_stream_disturb_nothing(shim):
    s = shim
    cid = s.cid()

    async def body():
        await s.create(cid, ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.01; done"])
        await s.client.start(cid)
        # an attach, a subscribe and a wait whose clients vanish without a word
        r1, w1 = await s.client.attach(cid, stdin=False)
        assert (await read_frame(r1))[0] == 1
        sub = s.client.subscribe()
        pending = asyncio.ensure_future(sub.__anext__())
        waiter = asyncio.ensure_future(s.client.wait(cid))
        await asyncio.sleep(0.1)
        w1.transport.abort()
        pending.cancel()
        waiter.cancel()
        await asyncio.gather(pending, waiter, return_exceptions=True)
        await sub.aclose()
        await asyncio.sleep(0.3)
        assert (await s.client.ping())["containers"] == 1
        st = await s.client.state(cid)
        assert st["status"] == "running"
        # output keeps flowing into the log with nobody attached
        before = _log_size(s.log_path(cid))
        await asyncio.sleep(0.3)
        assert _log_size(s.log_path(cid)) > before
        # a new attach works
        r3, w3 = await s.client.attach(cid)
        assert (await read_frame(r3))[1].startswith(b"line ")
        await s.client.kill(cid, 9)
        assert (await s.client.wait(cid))["exit_code"] == 137
        await read_frames(r3)
        w3.close()
    run(body())


def test_output_flood_with_nobody_attached_is_logged_and_rotated(shim):
    s = shim
    cid = s.cid()
    log = s.log_path(cid)

    async def body():
        rss0 = s.rss_kb()
        await s.create(cid, ["sh", "-c", "yes 0123456789abcdef | head -c 8000000; echo; echo done"],
                       log_max_size=1 << 20, log_max_files=3)
        t0 = time.monotonic()
        await s.client.start(cid)
        res = await s.client.wait(cid)
        assert res["exit_code"] == 0
        assert time.monotonic() - t0 < 20
        grown = s.rss_kb() - rss0
        print(f"\nshim RSS grew {grown} KiB while logging 8 MB")
        assert grown < 20_000, "the shim buffered the flood in memory"
    run(body())
    assert os.path.exists(log) and os.path.exists(f"{log}.1") and os.path.exists(f"{log}.2")
    assert not os.path.exists(f"{log}.3")
    for p in (f"{log}.1", f"{log}.2"):
        # a file is rotated once it has reached max-size: at most one entry beyond it
        assert (1 << 20) <= os.path.getsize(p) < (1 << 20) + 200
    with open(log) as f:
        last = f.read().splitlines()[-1]
    assert '"log":"done\\n"' in last


def test_long_lines_become_partial_messages(shim):
    s = shim
    cid = s.cid()

    async def body():
        await s.create(cid, ["sh", "-c", "head -c 40000 /dev/zero | tr '\\0' x; echo; printf end"])
        await s.client.start(cid)
        await s.client.wait(cid)
    run(body())
    entries = s.log_entries(cid)
    assert [len(e["log"]) for e in entries] == [16384, 16384, 40000 - 2 * 16384 + 1, 3]
    assert entries[0]["time"] == entries[1]["time"] == entries[2]["time"]  # one line, one timestamp
    assert entries[2]["log"].endswith("x\n") and entries[3]["log"] == "end"


def test_oom_killed_is_reported(any_shim):
    s = any_shim
    cid = s.cid()

    def limit(spec):
        spec["linux"].setdefault("resources", {})["memory"] = {"limit": 16 << 20, "swap": 16 << 20}

    async def body():
        await s.create(cid, ["tail", "/dev/zero"], edit=limit)
        await s.client.start(cid)
        res = await s.client.wait(cid)
        assert res["exit_code"] == 137 and res["oom_killed"] is True
        st = await s.client.state(cid)
        assert st["oom_killed"] is True
    run(body(), timeout=60)


def test_update_changes_the_cgroup(any_shim):
    s = any_shim
    cid = s.cid()

    async def body():
        pid = await s.create(cid, ["sleep", "60"])
        await s.client.start(cid)
        await s.client.update(cid, {"pids": {"limit": 77}})
        with open(f"/proc/{pid}/cgroup") as f:
            rel = next(line.split(":", 2)[2].strip() for line in f if line.split(":")[1] == "pids")
        with open(f"/sys/fs/cgroup/pids{rel}/pids.max") as f:
            assert f.read().strip() == "77"
        await s.client.kill(cid, 9)
        await s.client.wait(cid)
    run(body())


def test_kill_9_of_the_client_process_leaves_containers_alone(shim, tmp_path):
    s = shim
    cid = s.cid()
    bundle = s.bundle(["sh", "-c", "while true; do echo alive; sleep 0.05; done"])
    script = tmp_path / "client.py"
    script.write_text(textwrap.dedent(f"""
        import asyncio, sys
        from dockyard.shim.client import ShimClient
        async def main():
            c = ShimClient({s.exec_root!r})
            await c.create({cid!r}, bundle={bundle!r}, runtime={s.runtime!r}, runtime_root={s.runtime_root!r},
                           log_path={s.log_path(cid)!r}, stdin=True)
            r, w = await c.attach({cid!r}, stdin=True)
            sub = c.subscribe()
            nxt = asyncio.ensure_future(sub.__anext__())
            await c.start({cid!r})
            w.write(b"x")
            await r.readexactly(8)
            print("ready", flush=True)
            await asyncio.sleep(3600)
        asyncio.run(main())
    """))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"ready\n"
        p.send_signal(signal.SIGKILL)
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

    async def body():
        await asyncio.sleep(0.3)
        assert answers(s.exec_root)
        st = await s.client.state(cid)
        assert st["status"] == "running"
        before = _log_size(s.log_path(cid))
        await asyncio.sleep(0.3)
        assert _log_size(s.log_path(cid)) > before
        await s.client.delete(cid, force=True)
    run(body())
