"""Reading request bodies: blobs streamed into an upload, manifests up to a size limit."""
from __future__ import annotations

import asyncio
import errno
from concurrent.futures import Future, ThreadPoolExecutor

from dockyard.daemon.http import ApiError

from ..errors import RegistryError

PIECE = 1 << 20
INLINE = 32 << 10    # pieces smaller than this are written without a thread hop
_writers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="upload-writer")


def declared_length(req) -> int | None:
    """The Content-Length header as a number (None when absent; SIZE_INVALID when malformed)."""
    value = req.headers.get("content-length")
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        raise RegistryError("SIZE_INVALID", f"invalid Content-Length {value[:40]!r}")
    return int(value)


def _store_error(e: OSError) -> RegistryError:
    status = 507 if e.errno in (errno.ENOSPC, errno.EDQUOT) else 500
    return RegistryError("BLOB_UPLOAD_INVALID", f"cannot store the upload: {e.strerror or e}", status=status)


async def receive(req, session) -> int:
    """Append the request body to an upload session as it arrives; returns the bytes received.

    Hashing and writing a piece happen in a thread while the next piece is received (at most one
    piece in flight, so pieces land in order). If the client goes away, the bytes received so far
    stay in the upload (resumable)."""
    n = 0
    pending: Future | None = None
    try:
        while True:
            try:
                chunk = await req.read(PIECE)
            except ApiError as e:
                raise RegistryError("BLOB_UPLOAD_INVALID", f"upload body: {e.message}") from None
            if pending is not None:
                done, pending = pending, None
                try:
                    await asyncio.wrap_future(done)
                except OSError as e:
                    raise _store_error(e) from None
            if not chunk:
                return n
            if len(chunk) < INLINE:
                try:
                    session.write(chunk)
                except OSError as e:
                    raise _store_error(e) from None
            else:
                pending = _writers.submit(session.write, chunk)
            n += len(chunk)
    finally:
        if pending is not None:   # the request failed: let the piece land before the session closes
            try:
                pending.result()
            except OSError:
                pass


async def read_limited(req, limit: int, what: str) -> bytes:
    """The whole body, or 413 when it is larger than ``limit``."""
    length = declared_length(req)
    if length is not None and length > limit:
        raise RegistryError("MANIFEST_INVALID" if what == "manifest" else "SIZE_INVALID",
                            f"{what} of {length} bytes is larger than the limit of {limit} bytes", status=413)
    parts, total = [], 0
    while True:
        try:
            chunk = await req.read(PIECE)
        except ApiError as e:
            raise RegistryError("MANIFEST_INVALID" if what == "manifest" else "SIZE_INVALID",
                                f"{what} body: {e.message}") from None
        if not chunk:
            return b"".join(parts)
        total += len(chunk)
        if total > limit:
            raise RegistryError("MANIFEST_INVALID" if what == "manifest" else "SIZE_INVALID",
                                f"{what} is larger than the limit of {limit} bytes", status=413)
        parts.append(chunk)
