"""What a handler holds once it has started answering: a chunked stream or a hijacked socket."""
from __future__ import annotations

import h11

from .errors import ClientGone


class StreamResponse:
    """A response whose body is written piece by piece; each write is sent at once."""

    __slots__ = ("_conn", "_head_only", "closed")

    def __init__(self, conn, head_only: bool):
        self._conn = conn
        self._head_only = head_only
        self.closed = False

    async def write(self, data: bytes) -> None:
        """Send ``data`` now; raises ``ClientGone`` if the client went away."""
        if self.closed:
            raise RuntimeError("write to a stream response that is already closed")
        conn = self._conn
        if conn.gone:
            raise ClientGone("client closed the connection")
        if not data or self._head_only:
            return
        conn.write(conn.h11.send(h11.Data(data=data)))
        await conn.drain()

    async def close(self) -> None:
        """End the response (the last chunk). Closing twice, or after the client left, is allowed."""
        if self.closed:
            return
        self.closed = True
        conn = self._conn
        try:
            conn.write(conn.h11.send(h11.EndOfMessage()))
            await conn.drain()
        except ClientGone:
            pass

    @property
    def client_gone(self) -> bool:
        return self._conn.gone

    async def wait_client_gone(self) -> None:
        """Returns when the client disconnects (for streams that may stay silent for long)."""
        await self._conn.wait_gone()

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        if exc_type is None:
            await self.close()


class HijackedConn:
    """The raw socket after ``101 UPGRADED`` (or ``200 OK``): bytes both ways.

    ``read`` returns b"" once the client half-closed; ``write`` keeps working after that until
    the client really disconnects (then ``ClientGone``) or ``close`` is called. The connection is
    closed when the handler returns.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn):
        self._conn = conn

    async def read(self, n: int = 65536) -> bytes:
        if n <= 0:
            raise ValueError(f"read size must be positive, not {n}")
        return await self._conn.read_raw(n)

    async def write(self, data: bytes) -> None:
        if self._conn._closed:
            raise RuntimeError("write to a hijacked connection that is already closed")
        if not data:
            return
        self._conn.write(data)
        await self._conn.drain()

    @property
    def at_eof(self) -> bool:
        """The client will send nothing more (half-close or gone)."""
        return self._conn.eof and not self._conn._inbuf

    @property
    def client_gone(self) -> bool:
        return self._conn.lost

    async def close(self) -> None:
        self._conn.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        await self.close()
