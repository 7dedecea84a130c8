"""The uncompressed byte stream of a layer blob.

A layer blob is a tar, plain or compressed with gzip or zstd. The compression
is detected from the magic bytes (gzip ``1f 8b``, zstd ``28 b5 2f fd``), which
is more robust than trusting a media type. While the tar bytes are read they
are hashed: the sha256 of the whole uncompressed stream is the layer's
``diff_id``. A limit on the uncompressed size stops decompression bombs.
"""
from __future__ import annotations

import hashlib
import queue
import threading
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
_AHEAD_CHUNKS = 8  # pieces (up to ~1 MiB each) decoded ahead in the background


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

    With ``background``, a thread reads, decompresses and hashes ahead (a few MiB) while the
    caller works on what it read: zlib, zstd and sha256 let go of the GIL, so both run at once.
    Errors of the thread are raised by ``read``; ``close`` stops it (call it when giving up early).
    """

    def __init__(self, raw: BinaryIO, compression: str | None = "auto", max_bytes: int | None = None,
                 background: bool = False):
        self._raw = raw
        self._pending = b""  # compressed bytes read but not yet fed
        if compression == "auto":
            self._pending = _read_head(raw, 4)
            compression = detect(self._pending)
        if compression not in COMPRESSIONS:
            raise StreamError(f"unsupported compression: {compression!r}")
        self.compression = compression
        self.max_bytes = max_bytes
        self.total = 0  # bytes handed to the reader's buffer
        self._produced = 0  # bytes decoded (ahead of ``total`` in the background)
        self._hash = hashlib.sha256()
        self._buf = bytearray()
        self._eof = False  # the reader's side reached the end
        self._done = False  # the decoding side reached the end
        self._dec = None
        self._members = 0
        self._zin = b""  # zstd input being fed, from offset _zpos
        self._zpos = 0
        self._decode = {None: self._decode_plain, "gzip": self._decode_gzip, "zstd": self._decode_zstd}[compression]
        self._queue: queue.Queue | None = None
        if background:
            self._queue = queue.Queue(_AHEAD_CHUNKS)
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="layerstream", daemon=True)
            self._thread.start()

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

    def close(self) -> None:
        """Stop the background thread (if any); the stream cannot be read any more."""
        if self._queue is not None and self._thread.is_alive():
            self._stop.set()
            while self._thread.is_alive():
                try:
                    self._queue.get(timeout=0.05)
                except queue.Empty:
                    pass
            self._thread.join()
        self._buf.clear()
        self._eof = True

    # -- the reader's side ---------------------------------------------------
    def _fill(self) -> None:
        if self._queue is None:
            data = self._next_chunk()
        else:
            data = self._queue.get()
            if isinstance(data, BaseException):
                self._eof = True
                raise data
        if not data:
            self._eof = True
            return
        self.total += len(data)
        self._buf += data

    # -- the decoding side -----------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._next_chunk()
                self._put(data)
                if not data:
                    return
        except BaseException as e:  # handed to the reader, which raises it
            self._put(e)

    def _put(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _next_chunk(self) -> bytes:
        """The next piece of tar bytes, hashed and counted against the limit; b"" at the end."""
        while not self._done:
            data = self._decode()
            if data:
                self._produced += len(data)
                if self.max_bytes is not None and self._produced > self.max_bytes:
                    raise StreamError(f"uncompressed size is larger than the limit of {self.max_bytes} bytes")
                self._hash.update(data)
                return data
        return b""

    def _take_raw(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        return self._raw.read(_RAW_CHUNK)

    def _decode_plain(self) -> bytes:
        data = self._take_raw()
        if not data:
            self._done = True
        return data

    def _decode_gzip(self) -> bytes:
        if self._dec is None:
            data = self._take_raw()
            if not data:
                if self._members == 0:
                    raise StreamError("gzip stream truncated: it is empty")
                self._done = True
                return b""
            if self._members and data.strip(b"\0") == b"":
                return b""  # zero padding after the last member is tolerated
            self._dec = zlib.decompressobj(wbits=31)
            self._members += 1
            return self._feed_gzip(data)
        if self._dec.unconsumed_tail:
            return self._feed_gzip(self._dec.unconsumed_tail)
        data = self._take_raw()
        if not data:
            raise StreamError("gzip stream truncated before its trailer")
        return self._feed_gzip(data)

    def _feed_gzip(self, data: bytes) -> bytes:
        try:
            out = self._dec.decompress(data, _GZIP_MAX_OUT)
        except zlib.error as e:
            raise StreamError(f"corrupt gzip stream: {e}") from None
        if self._dec.eof:
            rest = self._dec.unused_data
            self._dec = None
            if rest:
                self._pending = rest + self._pending
        return out

    def _decode_zstd(self) -> bytes:
        import zstandard  # lazy: keeps the CLI's start fast

        if self._zpos >= len(self._zin):
            self._zin, self._zpos = self._pending or self._raw.read(_RAW_CHUNK), 0
            self._pending = b""
        if not self._zin:
            if self._dec is not None:
                raise StreamError("zstd stream truncated: the last frame is incomplete")
            if self._members == 0:
                raise StreamError("zstd stream truncated: it is empty")
            self._done = True
            return b""
        out: list[bytes] = []
        produced = 0
        limit = None if self.max_bytes is None else self.max_bytes - self._produced
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
        return b"".join(out) if len(out) != 1 else out[0]


def _read_head(raw: BinaryIO, n: int) -> bytes:
    out = b""
    while len(out) < n:
        b = raw.read(n - len(out))
        if not b:
            break
        out += b
    return out
