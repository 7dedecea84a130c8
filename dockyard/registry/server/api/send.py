"""Sending a blob: Range answers, and the body by sendfile(2) on plain connections.

The body never passes through Python memory on plain HTTP: the head goes through h11, then h11 is
told the body's length (a placeholder object, as h11 documents for sendfile) and the kernel copies
the file to the socket. On TLS connections the file is read, encrypted and written in 1 MiB
pieces (the connection's write buffer is drained between pieces).
"""
from __future__ import annotations

import asyncio
import os

import h11

from dockyard.daemon.http import ClientGone

from ..errors import RegistryError
from .ranges import Unsatisfiable, blob_range

PIECE = 1 << 20


class _Placeholder:
    """Stands for ``n`` body bytes that sendfile sends (h11 only asks for ``len``)."""

    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n


async def send_blob(req, fd: int, size: int, headers: list, *, sendfile: bool,
                    content_type: str = "application/octet-stream") -> None:
    """Answer ``req`` (GET or HEAD) with the file ``fd`` of ``size`` bytes, honouring Range.
    Closes ``fd``."""
    with os.fdopen(fd, "rb", buffering=0) as f:
        status, start, length = 200, 0, size
        headers = list(headers) + [("Accept-Ranges", "bytes")]
        if req.method == "GET":
            try:
                rng = blob_range(req.headers.get("range"), size)
            except Unsatisfiable as e:
                raise RegistryError("SIZE_INVALID", f"requested range not satisfiable: {e}", status=416,
                                    headers=[("Content-Range", f"bytes */{size}")]) from None
            if rng is not None:
                start, end = rng
                status, length = 206, end - start + 1
                headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        headers.append(("Content-Length", str(length)))
        await req.stream(status, content_type, headers)
        if req.method == "HEAD" or length == 0:
            return
        conn = req._conn   # the daemon HTTP layer has no public sendfile yet
        conn.h11.send_with_data_passthrough(h11.Data(data=_Placeholder(length)))
        if sendfile and conn._tls is None:
            try:
                await asyncio.get_running_loop().sendfile(conn.transport, f, start, length, fallback=False)
                return
            except asyncio.SendfileNotAvailableError:
                pass   # nothing was sent: copy below
            except OSError as e:   # ConnectionError included
                raise ClientGone(f"client went away during the blob: {e}") from None
        pos, end = start, start + length
        while pos < end:
            piece = os.pread(f.fileno(), min(PIECE, end - pos), pos)
            if not piece:
                raise OSError(f"blob file shrank at offset {pos}")
            conn.write(piece)
            await conn.drain()
            pos += len(piece)
