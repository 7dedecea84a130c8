"""tty containers and execs: the pty master over the console socket, resize, raw streams."""
import asyncio
import os
import tempfile

import pytest

from dockyard.shim.client import ShimError
from shimtest_support import DOCKYARD_RUNTIME, make_shim, read_until, run

pytestmark = pytest.mark.root


def test_tty_console_size_resize_and_log(any_shim):
    s = any_shim
    cid = s.cid()

    async def body():
        await s.create(cid, ["sh", "-c", "stty size; read line; stty size; echo got:$line"], tty=True, stdin=True,
                       console_size=(30, 100))
        reader, writer = await s.client.attach(cid, stdin=True)
        await s.client.start(cid)
        await read_until(reader, b"30 100")
        await s.client.resize(cid, height=40, width=120)
        writer.write(b"typed\r")
        await writer.drain()
        out = await read_until(reader, b"got:typed")
        assert b"40 120" in out
        assert (await s.client.wait(cid))["exit_code"] == 0
        writer.close()
    run(body())
    entries = s.log_entries(cid)
    assert {e["stream"] for e in entries} == {"stdout"}
    text = "".join(e["log"] for e in entries)
    assert "30 100\r\n" in text and "40 120\r\n" in text and "got:typed" in text


@pytest.fixture
def long_root_shim(tmp_path, shared_rootfs):
    s = make_shim(tmp_path, shared_rootfs, DOCKYARD_RUNTIME, long_root=True)
    try:
        s.start()
        yield s
        s.check_log()
    finally:
        s.cleanup()


def test_tty_with_a_long_exec_root(long_root_shim):
    """<exec-root>/shim/<64-char id>/console.sock is too long for a socket: a short path is used."""
    s = long_root_shim
    cid = s.cid()
    assert len(os.path.join(s.exec_root, "shim", cid, "console.sock")) > 107
    tmp = tempfile.gettempdir()
    before = {n for n in os.listdir(tmp) if n.startswith("dockyard-shim-")}

    async def body():
        await s.create(cid, ["sh", "-c", "stty size"], tty=True, console_size=(7, 77))
        reader, writer = await s.client.attach(cid)
        await s.client.start(cid)
        await read_until(reader, b"7 77")
        await s.client.wait(cid)
        writer.close()
    run(body())
    after = {n for n in os.listdir(tmp) if n.startswith("dockyard-shim-")}
    assert after <= before, "the temporary console socket directory was left behind"


def test_tty_exec_with_resize(any_shim):
    s = any_shim
    cid = s.cid()
    proc = {"args": ["sh", "-c", "stty size; read x; stty size"], "cwd": "/", "env": ["PATH=/bin", "TERM=xterm"],
            "user": {"uid": 0, "gid": 0}}

    async def body():
        await s.create(cid, ["sleep", "60"])
        await s.client.start(cid)
        with pytest.raises(ShimError, match="has no terminal"):
            await s.client.resize(cid, height=10, width=10)
        eid = "e" * 64  # as long as Docker's exec ids
        pid, reader, writer = await s.client.exec_attach(cid, eid, proc, tty=True, stdin=True, console_size=(12, 34))
        await read_until(reader, b"12 34")
        await s.client.resize(exec_id=eid, height=50, width=60)
        writer.write(b"\r")
        await read_until(reader, b"50 60")
        assert (await s.client.wait(exec_id=eid))["exit_code"] == 0
        await asyncio.wait_for(reader.read(), 5)  # the shim ends the stream after the exit
        assert reader.at_eof()
        writer.close()
        await s.client.kill(cid, 9)
        await s.client.wait(cid)
    run(body())
