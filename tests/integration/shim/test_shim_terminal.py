"""tty containers and execs: the pty master over the console socket, resize, raw streams."""
import asyncio

import pytest

from dockyard.shim.client import ShimError
from shimtest_support import read_until, run

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
        pid, reader, writer = await s.client.exec_attach(cid, "tx", proc, tty=True, stdin=True, console_size=(12, 34))
        await read_until(reader, b"12 34")
        await s.client.resize(exec_id="tx", height=50, width=60)
        writer.write(b"\r")
        await read_until(reader, b"50 60")
        assert (await s.client.wait(exec_id="tx"))["exit_code"] == 0
        await asyncio.wait_for(reader.read(), 5)  # the shim ends the stream after the exit
        assert reader.at_eof()
        writer.close()
        await s.client.kill(cid, 9)
        await s.client.wait(cid)
    run(body())
