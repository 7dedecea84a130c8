"""The main flow through the shim, with dockyard-runtime and with runc as the OCI runtime."""
import asyncio
import os

import pytest

from dockyard.shim.client import ShimError
from shimtest_support import read_frames, run

pytestmark = pytest.mark.root


def test_create_start_wait_and_json_log(any_shim):
    s = any_shim
    cid = s.cid()

    async def body():
        pid = await s.create(cid, ["sh", "-c", "echo out; echo err >&2; printf 'no newline'; exit 7"])
        assert pid > 0
        st = await s.client.state(cid)
        assert st["status"] == "created" and st["pid"] == pid and st["exit_code"] is None
        events = s.client.subscribe()
        first = asyncio.ensure_future(events.__anext__())
        await asyncio.sleep(0.05)
        started = await s.client.start(cid)
        assert started.endswith("Z")
        res = await s.client.wait(cid)
        assert res["exit_code"] == 7 and res["oom_killed"] is False and res["finished_at"].endswith("Z")
        ev = await asyncio.wait_for(first, 10)
        assert ev == {"event": "exit", "id": cid, "exec_id": None, "pid": pid, **res}
        await events.aclose()
        st = await s.client.state(cid)
        assert st["status"] == "stopped" and st["exit_code"] == 7 and st["pid"] == 0
        assert [c["id"] for c in await s.client.list()] == [cid]
        await s.client.delete(cid)
        assert await s.client.list() == []
        with pytest.raises(ShimError, match=f"no such container: {cid}"):
            await s.client.state(cid)
    run(body())
    entries = s.log_entries(cid)
    by_stream = {(e["stream"], e["log"]) for e in entries}
    assert by_stream == {("stdout", "out\n"), ("stderr", "err\n"), ("stdout", "no newline")}
    assert all(e["time"].endswith("Z") and e["time"][:2] == "20" for e in entries)
    assert not os.path.exists(os.path.join(s.exec_root, "shim", cid))
    assert not os.path.exists(os.path.join(s.runtime_root, cid))


def test_attach_gets_multiplexed_frames(any_shim):
    s = any_shim
    cid = s.cid()

    async def body():
        await s.create(cid, ["sh", "-c", "echo one; echo two >&2; echo three"])
        reader, writer = await s.client.attach(cid)
        only_err_r, only_err_w = await s.client.attach(cid, stdout=False)
        await s.client.start(cid)
        frames = await read_frames(reader)
        err_only = await read_frames(only_err_r)
        writer.close()
        only_err_w.close()
        assert frames == {1: b"one\nthree\n", 2: b"two\n"}
        assert err_only == {1: b"", 2: b"two\n"}
        assert (await s.client.wait(cid))["exit_code"] == 0
        # attaching to a finished container: the stream ends at once
        r2, w2 = await s.client.attach(cid)
        assert await read_frames(r2) == {1: b"", 2: b""}
        w2.close()
    run(body())


def test_stdin_round_trip_and_half_close(any_shim):
    s = any_shim
    cid = s.cid()

    async def body():
        await s.create(cid, ["cat"], stdin=True)
        reader, writer = await s.client.attach(cid, stdin=True)
        await s.client.start(cid)
        writer.write(b"hello through stdin\n")
        await writer.drain()
        writer.write_eof()  # cat sees EOF and exits
        frames = await read_frames(reader)
        assert frames[1] == b"hello through stdin\n"
        assert (await s.client.wait(cid))["exit_code"] == 0
        writer.close()
    run(body())


def test_exec_attached_detached_and_exit_codes(any_shim):
    s = any_shim
    cid = s.cid()
    proc = {"args": ["sh", "-c", "echo from-exec; echo exec-err >&2; exit 5"], "cwd": "/",
            "env": ["PATH=/bin:/usr/bin"], "user": {"uid": 0, "gid": 0}}

    async def body():
        await s.create(cid, ["sleep", "60"])
        await s.client.start(cid)
        pid, reader, writer = await s.client.exec_attach(cid, "e1", proc)
        assert pid > 0
        assert await read_frames(reader) == {1: b"from-exec\n", 2: b"exec-err\n"}
        writer.close()
        assert (await s.client.wait(exec_id="e1"))["exit_code"] == 5
        # detached exec: its output waits (bounded) for the first attach
        await s.client.exec(cid, "e2", dict(proc, args=["sh", "-c", "echo early; sleep 0.3; echo late"]))
        await asyncio.sleep(0.2)
        r2, w2 = await s.client.attach(exec_id="e2")
        assert (await read_frames(r2))[1] == b"early\nlate\n"
        w2.close()
        assert (await s.client.wait(exec_id="e2"))["exit_code"] == 0
        with pytest.raises(ShimError, match="exec e1 already exists"):
            await s.client.exec(cid, "e1", proc)
        with pytest.raises(ShimError):
            await s.client.exec(cid, "e3", dict(proc, args=["/no/such/binary"]))
        st = await s.client.state(cid)
        assert {e["exec_id"]: e["exit_code"] for e in st["execs"]} == {"e1": 5, "e2": 0}
        await s.client.kill(cid, 9)
        assert (await s.client.wait(cid))["exit_code"] == 137
    run(body())
    # exec output goes to the client only, never to the container's log
    assert not [e for e in s.log_entries(cid) if "exec" in e["log"] or "early" in e["log"]]


def test_kill_pause_resume_delete(any_shim):
    s = any_shim
    cid = s.cid()

    async def body():
        await s.create(cid, ["sh", "-c", "trap 'echo got-term; exit 42' TERM; while true; do sleep 0.05; done"])
        await s.client.start(cid)
        await asyncio.sleep(0.2)
        await s.client.pause(cid)
        assert (await s.client.state(cid))["status"] == "paused"
        await s.client.resume(cid)
        assert (await s.client.state(cid))["status"] == "running"
        with pytest.raises(ShimError) as e:
            await s.client.delete(cid)  # running: the runtime refuses without force
        assert "\n" not in str(e.value) and str(e.value)
        await s.client.kill(cid, 15)
        res = await s.client.wait(cid)
        assert res["exit_code"] == 42
        await s.client.delete(cid)

        cid2 = s.cid()
        await s.create(cid2, ["sleep", "60"])
        await s.client.start(cid2)
        await s.client.delete(cid2, force=True)
        assert await s.client.list() == []
    run(body())
    assert any(e["log"] == "got-term\n" for e in s.log_entries(cid))


def test_runtime_error_is_one_line(any_shim):
    s = any_shim
    cid = s.cid()

    async def body():
        with pytest.raises(ShimError) as e:
            await s.create(cid, ["/no/such/binary"])
        msg = str(e.value)
        assert msg and "\n" not in msg and "no/such/binary" in msg, msg
        assert await s.client.list() == []
        with pytest.raises(ShimError, match="no such container"):
            await s.client.start(cid)
    run(body())
    assert not os.path.exists(os.path.join(s.exec_root, "shim", cid))
