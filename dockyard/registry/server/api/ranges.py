"""The two range headers of the API: ``Range: bytes=...`` on blob GETs (RFC 9110, one range) and
``Content-Range: START-END`` on upload chunks (inclusive, as the Distribution spec writes it)."""
from __future__ import annotations

import re

_BYTES = re.compile(r"bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*")
_CHUNK = re.compile(r"(?:bytes[ =])?([0-9]{1,19})-([0-9]{1,19})(?:/(?:[0-9]{1,19}|\*))?")


class Unsatisfiable(ValueError):
    """A byte range that lies outside the blob: answer 416."""


def blob_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive for a satisfiable single range, None to send the whole blob
    (no header, several ranges, or a malformed one, which RFC 9110 lets us ignore)."""
    if not header or "," in header:
        return None
    m = _BYTES.fullmatch(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return None
        if start >= size:
            raise Unsatisfiable(f"range starts at {start}, the blob has {size} bytes")
        return start, end
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise Unsatisfiable("empty suffix range")
    return max(0, size - suffix), size - 1


def chunk_range(header: str) -> tuple[int, int] | None:
    """``START-END`` of a PATCH chunk; None when malformed or END < START."""
    m = _CHUNK.fullmatch(header.strip())
    if not m:
        return None
    start, end = int(m.group(1)), int(m.group(2))
    return (start, end) if end >= start else None


def upload_range(size: int) -> str:
    """The ``Range`` header of an upload status: ``0-<last byte>`` (``0-0`` when empty, like
    docker-registry)."""
    return f"0-{max(size - 1, 0)}"
