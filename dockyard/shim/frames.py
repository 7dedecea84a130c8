"""Docker's multiplexed attach stream (non-tty): an 8-byte header per frame.

    [stream type: 0 stdin, 1 stdout, 2 stderr][0 0 0][payload length, big-endian uint32]
"""
from __future__ import annotations

import struct

STDIN, STDOUT, STDERR = 0, 1, 2
STREAM_IDS = {"stdin": STDIN, "stdout": STDOUT, "stderr": STDERR}
_HEADER = struct.Struct(">BxxxI")
HEADER_SIZE = _HEADER.size
MAX_PAYLOAD = 0xFFFFFFFF


def encode_frame(stream: int, data: bytes) -> bytes:
    if stream not in (STDIN, STDOUT, STDERR):
        raise ValueError(f"attach frame: invalid stream type {stream}")
    if len(data) > MAX_PAYLOAD:
        raise ValueError(f"attach frame: payload of {len(data)} bytes is too large")
    return _HEADER.pack(stream, len(data)) + data


class FrameDecoder:
    """Incremental decoder: ``feed(bytes)`` returns the complete frames as (stream, payload)."""

    def __init__(self):
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        out = []
        while len(self._buf) >= HEADER_SIZE:
            stream, size = _HEADER.unpack_from(self._buf)
            if stream not in (STDIN, STDOUT, STDERR) or self._buf[1:4] != b"\0\0\0":
                raise ValueError(f"attach frame: invalid header {bytes(self._buf[:HEADER_SIZE]).hex()}")
            if len(self._buf) < HEADER_SIZE + size:
                break
            out.append((stream, bytes(self._buf[HEADER_SIZE:HEADER_SIZE + size])))
            del self._buf[:HEADER_SIZE + size]
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buf)


async def read_frame(reader) -> tuple[int, bytes] | None:
    """One frame from an asyncio StreamReader; None at a clean end of stream."""
    import asyncio
    try:
        header = await reader.readexactly(HEADER_SIZE)
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise ValueError("attach frame: stream ended inside a frame header") from None
        return None
    stream, size = _HEADER.unpack(header)
    if stream not in (STDIN, STDOUT, STDERR) or header[1:4] != b"\0\0\0":
        raise ValueError(f"attach frame: invalid header {header.hex()}")
    try:
        return stream, await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise ValueError("attach frame: stream ended inside a frame") from None
