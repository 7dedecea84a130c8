"""The uncompressed byte stream of a layer blob.

A layer blob is a tar, plain or compressed with gzip or zstd. The compression
is detected from the magic bytes (gzip ``1f 8b``, zstd ``28 b5 2f fd``), which
is more robust than trusting a media type. While the tar bytes are read they
are hashed: the sha256 of the whole uncompressed stream is the layer's
``diff_id``. A limit on the uncompressed size stops decompression bombs.
"""
from __future__ import annotations

import hashlib
import zlib
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
COMPRESSIONS = ("gzip", "zstd", None)

_RAW_CHUNK = 1 << 18
# zstd can expand ~32768x (RLE blocks): small input pieces bound each output burst.
_ZSTD_PIECE = 1024
_ZSTD_FILL = 1 << 20  # a fill feeds pieces until it has about this much output
_GZIP_MAX_OUT = 1 << 20


class StreamError(Exception):
    """The layer byte stream is corrupt, truncated or too large."""


def detect(head: bytes) -> str | None:
    """Compression named by the first bytes of a blob: "gzip", "zstd" or None."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


class LayerStream:
    """File-like reader of a layer's tar bytes, hashing them as they pass.

    ``compression`` is "auto" (detect), "gzip", "zstd" or None (plain tar).
    Reading past ``max_bytes`` uncompressed bytes raises StreamError.
    """

    def __init__(self, raw: BinaryIO, compression: str | None = "auto", max_bytes: int | None = None):
        self._raw = raw
        self._pending = b""  # compressed bytes read but not yet fed
        if compression == "auto":
            self._pending = _read_head(raw, 4)
            compression = detect(self._pending)
        if compression not in COMPRESSIONS:
            raise StreamError(f"unsupported compression: {compression!r}")
        self.compression = compression
        self.max_bytes = max_bytes
        self.total = 0
        self._hash = hashlib.sha256()
        self._buf = bytearray()
        self._eof = False
        self._dec = None
        self._members = 0
        self._zin = b""  # zstd input being fed, from offset _zpos
        self._zpos = 0

    @property
    def diff_id(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    # -- reading -----------------------------------------------------------
    def read(self, n: int) -> bytes:
        """Up to n bytes; b"" only at the end of the stream."""
        buf = self._buf
        while len(buf) < n and not self._eof:
            self._fill()
        with memoryview(buf) as view:
            out = bytes(view[:n])
        del buf[:n]
        return out

    def read_exact(self, n: int) -> bytes:
        out = self.read(n)
        if len(out) != n:
            raise StreamError(f"stream truncated: wanted {n} more bytes, got {len(out)}")
        return out

    def drain(self) -> None:
        """Read (and hash) everything up to the end: trailing padding counts too."""
        while True:
            self._buf.clear()
            if self._eof:
                return
            self._fill()

    # -- internals ---------------------------------------------------------
    def _take_raw(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        return self._raw.read(_RAW_CHUNK)

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        self.total += len(data)
        if self.max_bytes is not None and self.total > self.max_bytes:
            raise StreamError(f"uncompressed size is larger than the limit of {self.max_bytes} bytes")
        self._hash.update(data)
        self._buf += data

    def _fill(self) -> None:
        if self.compression is None:
            data = self._take_raw()
            if not data:
                self._eof = True
            self._emit(data)
        elif self.compression == "gzip":
            self._fill_gzip()
        else:
            self._fill_zstd()

    def _fill_gzip(self) -> None:
        if self._dec is None:
            data = self._take_raw()
            if not data:
                if self._members == 0:
                    raise StreamError("gzip stream truncated: it is empty")
                self._eof = True
                return
            if self._members and data.strip(b"\0") == b"":
                return  # zero padding after the last member is tolerated
            self._dec = zlib.decompressobj(wbits=31)
            self._members += 1
            self._feed_gzip(data)
            return
        if self._dec.unconsumed_tail:
            self._feed_gzip(self._dec.unconsumed_tail)
            return
        data = self._take_raw()
        if not data:
            raise StreamError("gzip stream truncated before its trailer")
        self._feed_gzip(data)

    def _feed_gzip(self, data: bytes) -> None:
        try:
            self._emit(self._dec.decompress(data, _GZIP_MAX_OUT))
        except zlib.error as e:
            raise StreamError(f"corrupt gzip stream: {e}") from None
        if self._dec.eof:
            rest = self._dec.unused_data
            self._dec = None
            if rest:
                self._pending = rest + self._pending

    def _fill_zstd(self) -> None:
        import zstandard  # lazy: keeps the CLI's start fast

        if self._zpos >= len(self._zin):
            self._zin, self._zpos = self._pending or self._raw.read(_RAW_CHUNK), 0
            self._pending = b""
        if not self._zin:
            if self._dec is not None:
                raise StreamError("zstd stream truncated: the last frame is incomplete")
            if self._members == 0:
                raise StreamError("zstd stream truncated: it is empty")
            self._eof = True
            return
        out: list[bytes] = []
        produced = 0
        limit = None if self.max_bytes is None else self.max_bytes - self.total
        end = len(self._zin)
        with memoryview(self._zin) as view:
            while self._zpos < end and produced < _ZSTD_FILL:
                if self._dec is None:
                    self._dec = zstandard.ZstdDecompressor().decompressobj()
                    self._members += 1
                piece = view[self._zpos:self._zpos + _ZSTD_PIECE]
                try:
                    data = self._dec.decompress(piece)
                except zstandard.ZstdError as e:
                    raise StreamError(f"corrupt zstd stream: {e}") from None
                self._zpos += len(piece)
                if data:
                    out.append(data)
                    produced += len(data)
                    if limit is not None and produced > limit:
                        raise StreamError(f"uncompressed size is larger than the limit of {self.max_bytes} bytes")
                if self._dec.eof:
                    self._zpos -= len(self._dec.unused_data)  # the next frame starts there
                    self._dec = None
        self._emit(b"".join(out) if len(out) != 1 else out[0])


def _read_head(raw: BinaryIO, n: int) -> bytes:
    out = b""
    while len(out) < n:
        b = raw.read(n - len(out))
        if not b:
            break
        out += b
    return out
