"""Layer byte streams (decompression, hashing, limits) and the tar reader/writer."""
from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

import pytest

from dockyard.snapshots.layerstream import LayerStream, StreamError, detect
from dockyard.snapshots.tarstream import DIR, REG, SYM, Entry, TarError, TarReader, TarWriter, parse_pax


def read_all(s: LayerStream) -> bytes:
    out = b""
    while True:
        b = s.read(7777)
        if not b:
            return out
        out += b


def test_detect():
    assert detect(b"\x1f\x8b\x08\x00") == "gzip"
    assert detect(b"\x28\xb5\x2f\xfd") == "zstd"
    assert detect(b"etc/") is None
    assert detect(b"") is None


@pytest.mark.parametrize("comp", ["gzip", "zstd", None])
def test_stream_round_trip_and_hash(comp):
    import zstandard
    data = bytes(range(256)) * 5000
    blob = {"gzip": lambda b: gzip.compress(b), "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
            None: lambda b: b}[comp](data)
    s = LayerStream(io.BytesIO(blob))
    assert s.compression == comp
    assert read_all(s) == data
    assert s.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert s.total == len(data)


def test_zstd_multiple_frames():
    import zstandard
    c = zstandard.ZstdCompressor()
    s = LayerStream(io.BytesIO(c.compress(b"a" * 1000) + c.compress(b"b" * 1000)))
    assert read_all(s) == b"a" * 1000 + b"b" * 1000


def test_gzip_zero_padding_tolerated_but_garbage_refused():
    data = b"x" * 1000
    assert read_all(LayerStream(io.BytesIO(gzip.compress(data) + b"\0" * 512))) == data
    with pytest.raises(StreamError, match="corrupt gzip stream"):
        read_all(LayerStream(io.BytesIO(gzip.compress(data) + b"garbage!")))


def test_zstd_bomb_stopped_by_limit():
    import zstandard
    bomb = zstandard.ZstdCompressor(level=3).compress(bytes(256 << 20))
    assert len(bomb) < 64 << 10
    s = LayerStream(io.BytesIO(bomb), max_bytes=1 << 20)
    with pytest.raises(StreamError, match="larger than the limit of 1048576 bytes"):
        read_all(s)
    assert s.total <= (1 << 20) + (64 << 20)  # bounded output per step, no 256 MiB buffer


def test_gzip_bomb_stopped_by_limit():
    s = LayerStream(io.BytesIO(gzip.compress(bytes(64 << 20))), max_bytes=1 << 20)
    with pytest.raises(StreamError, match="larger than the limit"):
        read_all(s)


def test_explicit_compression_mismatch():
    with pytest.raises(StreamError, match="corrupt gzip"):
        read_all(LayerStream(io.BytesIO(b"not gzip at all" * 10), compression="gzip"))
    with pytest.raises(StreamError, match="unsupported compression"):
        LayerStream(io.BytesIO(b""), compression="bzip2")


def test_empty_compressed_stream_is_truncated():
    with pytest.raises(StreamError, match="truncated"):
        read_all(LayerStream(io.BytesIO(b""), compression="gzip"))


def test_parse_pax_records():
    rec = b"30 mtime=1600000000.123456789\n" + b"27 SCHILY.xattr.user.x=\x00\x01\xff\n"
    assert parse_pax(rec) == {"mtime": b"1600000000.123456789", "SCHILY.xattr.user.x": b"\x00\x01\xff"}
    for bad in (b"5 a=b\n", b"x a=b\n", b"8 ab\nxx\n", b"100 a=b\n"):
        with pytest.raises(TarError, match="malformed PAX record"):
            parse_pax(bad)


def _reader(raw: bytes) -> TarReader:
    return TarReader(LayerStream(io.BytesIO(raw), compression=None))


def test_writer_output_is_readable_by_tarfile_and_reader():
    out = io.BytesIO()
    w = TarWriter(out.write)
    name = "d/" + "n" * 150 + b"\xe9".decode("utf-8", "surrogateescape")
    cap = b"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    w.add(Entry(name="d", type=DIR, mode=0o755, mtime_ns=5 * 10**9))
    w.add(Entry(name=name, type=REG, mode=0o4755, uid=1000, gid=2000, size=3, mtime_ns=7 * 10**9,
                xattrs={"security.capability": cap, "user.a": b"b"}), io.BytesIO(b"abc").read)
    w.add(Entry(name="d/l", type=SYM, linkname="/" + "t" * 200, mtime_ns=0))
    w.close()
    raw = out.getvalue()
    assert len(raw) % 512 == 0 and raw.endswith(b"\0" * 1024)
    entries = list(_reader(raw))
    assert [e.name for e in entries] == ["d", name, "d/l"]
    f = entries[1]
    assert (f.mode, f.uid, f.gid, f.size, f.mtime_ns) == (0o4755, 1000, 2000, 3, 7 * 10**9)
    assert f.xattrs == {"security.capability": cap, "user.a": b"b"}
    assert entries[2].linkname == "/" + "t" * 200
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:  # the standard reader agrees
        assert [m.name for m in t.getmembers()] == ["d", name, "d/l"]
        assert t.extractfile(t.getmembers()[1]).read() == b"abc"


def test_writer_refuses_shrinking_file():
    w = TarWriter(io.BytesIO().write)
    with pytest.raises(TarError, match="shrank"):
        w.add(Entry(name="f", type=REG, size=10), io.BytesIO(b"abc").read)


def test_reader_header_only_types_carry_no_data():
    # A symlink header claiming a size must not swallow the next header (as Go's reader)
    ti = tarfile.TarInfo("l")
    ti.type = tarfile.SYMTYPE
    ti.linkname = "x"
    block = bytearray(ti.tobuf(tarfile.USTAR_FORMAT))
    block[124:136] = b"%011o\0" % 512
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block[:512])
    ti2 = tarfile.TarInfo("after")
    raw = bytes(block) + ti2.tobuf(tarfile.USTAR_FORMAT) + b"\0" * 1024
    assert [e.name for e in _reader(raw)] == ["l", "after"]
