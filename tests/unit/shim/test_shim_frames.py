"""Docker's multiplexed attach frames; RFC3339Nano timestamps."""
import asyncio

import pytest

from dockyard.shim.frames import STDERR, STDOUT, FrameDecoder, encode_frame, read_frame
from dockyard.shim.timefmt import rfc3339nano


def test_header_layout():
    assert encode_frame(STDOUT, b"hi") == b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    assert encode_frame(STDERR, b"x" * 300)[:8] == b"\x02\x00\x00\x00\x00\x00\x01\x2c"
    assert encode_frame(STDOUT, b"") == b"\x01" + b"\0" * 7
    with pytest.raises(ValueError, match="invalid stream type 7"):
        encode_frame(7, b"")


def test_decoder_is_incremental():
    data = encode_frame(STDOUT, b"hello") + encode_frame(STDERR, b"world!") + encode_frame(STDOUT, b"")
    d = FrameDecoder()
    got = []
    for i in range(len(data)):
        got += d.feed(data[i:i + 1])
    assert got == [(1, b"hello"), (2, b"world!"), (1, b"")]
    assert d.pending == 0
    with pytest.raises(ValueError, match="invalid header"):
        FrameDecoder().feed(b"hello world!")


def test_read_frame_from_a_stream():
    async def body():
        r = asyncio.StreamReader()
        r.feed_data(encode_frame(STDERR, b"abc") + encode_frame(STDOUT, b"d")[:5])
        r.feed_eof()
        assert await read_frame(r) == (2, b"abc")
        with pytest.raises(ValueError, match="inside a frame header"):
            await read_frame(r)
        empty = asyncio.StreamReader()
        empty.feed_eof()
        assert await read_frame(empty) is None
    asyncio.run(body())


def test_rfc3339nano_trims_like_go():
    assert rfc3339nano(1_764_266_400_123_456_789) == "2025-11-27T18:00:00.123456789Z"
    assert rfc3339nano(1_764_266_400_120_000_000) == "2025-11-27T18:00:00.12Z"
    assert rfc3339nano(1_764_266_400_000_000_000) == "2025-11-27T18:00:00Z"
