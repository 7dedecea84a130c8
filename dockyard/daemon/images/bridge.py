"""Between the event loop and the worker threads that do blocking image work.

``ThreadReader`` lets a worker read a request body that the loop receives; ``ThreadWriter``
lets a worker write a response stream that the loop sends (buffered, with back-pressure: the
worker waits until the loop has sent each piece). ``Feed`` carries progress messages from a
worker to the loop in order. A reader or writer whose loop side fails (the client went away)
raises that error in the worker, which then stops.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

WRITE_BUFFER = 1 << 20


class ThreadReader:
    """A blocking file object over ``async read(n)``, for use in a worker thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, aread: Callable[[int], Awaitable[bytes]]):
        self._loop, self._aread = loop, aread
        self._buf = b""
        self._eof = False
        self.consumed = 0

    def _fill(self, n: int) -> None:
        while not self._eof and len(self._buf) < n:
            chunk = asyncio.run_coroutine_threadsafe(self._aread(max(n - len(self._buf), 1 << 16)),
                                                     self._loop).result()
            if not chunk:
                self._eof = True
            else:
                self._buf += chunk

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            while not self._eof:
                self._fill(len(self._buf) + (1 << 20))
            out, self._buf = self._buf, b""
        else:
            if not self._buf:
                self._fill(1)
            out, self._buf = self._buf[:n], self._buf[n:]
        self.consumed += len(out)
        return out

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass


class ThreadWriter:
    """A blocking, buffered file object over ``async write(bytes)``, for use in a worker thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, awrite: Callable[[bytes], Awaitable[None]],
                 buffer: int = WRITE_BUFFER):
        self._loop, self._awrite, self._limit = loop, awrite, buffer
        self._parts: list[bytes] = []
        self._size = 0
        self.written = 0

    def write(self, data) -> int:
        data = bytes(data)
        if data:
            self._parts.append(data)
            self._size += len(data)
            if self._size >= self._limit:
                self.flush()
        return len(data)

    def flush(self) -> None:
        if not self._parts:
            return
        data = b"".join(self._parts)
        self._parts, self._size = [], 0
        asyncio.run_coroutine_threadsafe(self._awrite(data), self._loop).result()
        self.written += len(data)

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        self.flush()


class Feed:
    """Messages from worker threads to an asyncio consumer, in order; ``end`` marks the last one."""

    END = object()

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self.queue: asyncio.Queue = asyncio.Queue()

    def put(self, item) -> None:
        """From any thread."""
        self._loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def end(self) -> None:
        self.put(self.END)
