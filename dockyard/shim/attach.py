"""One attached client of a process's output (and maybe its stdin).

Non-tty output is framed (``frames.encode_frame``); tty output is sent raw. A client that went
away is noticed on the next write and dropped: nothing it does disturbs the process.
"""
from __future__ import annotations

import asyncio

from .frames import STREAM_IDS, encode_frame


class Attachment:
    __slots__ = ("writer", "streams", "tty", "stdin", "done")

    def __init__(self, writer: asyncio.StreamWriter, *, stdout: bool, stderr: bool, stdin: bool, tty: bool):
        self.writer = writer
        self.streams = frozenset(s for s, on in (("stdout", stdout), ("stderr", stderr)) if on)
        self.tty, self.stdin = tty, stdin
        self.done = asyncio.get_running_loop().create_future()

    @property
    def gone(self) -> bool:
        return self.done.done() or self.writer.is_closing()

    def send(self, stream: str, data: bytes) -> bool:
        """Queue output for the client; False once it is gone."""
        if self.gone:
            return False
        if stream in self.streams:
            self.writer.write(data if self.tty else encode_frame(STREAM_IDS[stream], data))
        return True

    def buffered(self) -> int:
        t = self.writer.transport
        return 0 if t is None or t.is_closing() else t.get_write_buffer_size()

    async def drain(self) -> bool:
        try:
            await self.writer.drain()
            return not self.gone
        except (ConnectionError, RuntimeError, OSError):
            return False

    def close(self) -> None:
        """The process's output has ended (or the client is gone): flush what is queued, then close."""
        if not self.done.done():
            self.done.set_result(None)
        try:
            self.writer.close()
        except RuntimeError:  # loop closing
            pass
