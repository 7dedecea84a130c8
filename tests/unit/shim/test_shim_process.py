"""A supervised process's output fan-out over real pipes and sockets (no container needed)."""
import asyncio
import json
import os
import socket

from dockyard.shim.attach import Attachment
from dockyard.shim.frames import FrameDecoder
from dockyard.shim.jsonlog import JsonFileLog
from dockyard.shim.process import BACKLOG_MAX, HIGH_WATER, Process
from dockyard.shim.stdio import output_pipe, write_all


async def client_pair():
    """(Attachment's writer side, the client's reader) over a real socketpair."""
    a, b = socket.socketpair()
    _r, w = await asyncio.open_connection(sock=a)
    reader, cw = await asyncio.open_connection(sock=b)
    return w, reader, cw


def test_output_goes_to_log_and_attached_clients(tmp_path):
    async def body():
        p = Process("c1", None, False, log=JsonFileLog(str(tmp_path / "log")))
        out_r, out_w = output_pipe()
        err_r, err_w = output_pipe()
        p.start_output([(out_r, "stdout"), (err_r, "stderr")])
        w, reader, cw = await client_pair()
        p.attach(Attachment(w, stdout=True, stderr=True, stdin=False, tty=False))
        os.write(out_w, b"to stdout\n")
        os.write(err_w, b"to stderr\n")
        os.close(out_w)
        os.close(err_w)
        await asyncio.wait_for(p.output_done.wait(), 5)
        p.exited(0)
        p.finish()
        data = await asyncio.wait_for(reader.read(), 5)  # the stream ends after finish
        cw.close()
        return data
    data = asyncio.run(body())
    assert sorted(FrameDecoder().feed(data)) == [(1, b"to stdout\n"), (2, b"to stderr\n")]
    logged = [json.loads(line) for line in open(tmp_path / "log")]
    assert [(e["stream"], e["log"]) for e in logged] in (
        [("stdout", "to stdout\n"), ("stderr", "to stderr\n")], [("stderr", "to stderr\n"), ("stdout", "to stdout\n")])


def test_exec_backlog_is_bounded_and_replayed_on_first_attach():
    async def body():
        p = Process("c1", "e1", True, backlog=True)
        r, w = output_pipe()
        p.start_output([(r, "stdout")])
        chunk = b"a" * 4096
        for _ in range(BACKLOG_MAX // 4096 + 8):
            await write_all(w, chunk)
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        assert p.backlog_size <= BACKLOG_MAX
        cw_w, reader, cw = await client_pair()
        p.attach(Attachment(cw_w, stdout=True, stderr=True, stdin=False, tty=True))
        os.write(w, b"after")
        os.close(w)
        await asyncio.wait_for(p.output_done.wait(), 5)
        p.exited(0)
        p.finish()
        data = await asyncio.wait_for(reader.read(), 5)
        cw.close()
        return data
    data = asyncio.run(body())
    assert data == b"a" * BACKLOG_MAX + b"after"  # the first 64 KiB, then live output


def test_a_slow_client_pauses_reading_instead_of_buffering():
    async def body():
        p = Process("c1", None, True)
        r, w = output_pipe()
        p.start_output([(r, "stdout")])
        cw_w, reader, cw = await client_pair()
        p.attach(Attachment(cw_w, stdout=True, stderr=True, stdin=False, tty=True))
        os.set_blocking(w, False)
        written = 0
        for _ in range(2000):  # the client reads nothing: the writer must end up blocked
            try:
                written += os.write(w, b"x" * 65536)
            except BlockingIOError:
                await asyncio.sleep(0.01)
                if p.throttled:
                    try:
                        written += os.write(w, b"x" * 65536)
                    except BlockingIOError:
                        break
        assert p.throttled
        queued = p.attachments[0].buffered()
        assert queued < HIGH_WATER + 2 * 65536 + (1 << 20)  # bounded: the pipe filled up, not our memory
        got = 0
        while got < written:  # the client catches up; reading resumes
            got += len(await asyncio.wait_for(reader.read(1 << 20), 5))
        os.close(w)
        await asyncio.wait_for(p.output_done.wait(), 5)
        p.release()
        cw.close()
        return written, got
    written, got = asyncio.run(body())
    assert got == written > HIGH_WATER


def test_a_vanished_client_is_dropped():
    async def body():
        p = Process("c1", None, False)
        r, w = output_pipe()
        p.start_output([(r, "stdout")])
        cw_w, _reader, cw = await client_pair()
        a = Attachment(cw_w, stdout=True, stderr=True, stdin=False, tty=False)
        p.attach(a)
        cw.transport.abort()
        for _ in range(50):
            os.write(w, b"data\n")
            await asyncio.sleep(0.01)
            if not p.attachments:
                break
        os.close(w)
        await asyncio.wait_for(p.output_done.wait(), 5)
        return p.attachments, a.done.done()
    attachments, done = asyncio.run(body())
    assert attachments == [] and done
