"""Reading layer blobs: compression by media type or magic, diff IDs, sizes.

A layer blob is a tar, possibly gzip- or zstd-compressed. Its *diff ID* is the
digest of the uncompressed tar. Its *unpacked size* is what Docker reports as
the layer size: the sum of the sizes of non-directory entries once unpacked,
hard links counted once, symlinks by the length of their target, whiteouts 0.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
XZ_MAGIC = b"\xfd7zXZ\x00"
BZIP2_MAGIC = b"BZh"


class LayerError(ValueError):
    """A layer blob cannot be read (bad compression, not a tar, wrong diff ID)."""


def compression_of(media_type: str) -> str:
    """'gzip', 'zstd' or 'none' for a layer media type; LayerError if not a layer."""
    from dockyard.spec import image as spec

    try:
        return spec.layer_compression(media_type)
    except spec.SpecError as e:
        raise LayerError(str(e)) from None


def chain_ids(diff_ids: list[str]) -> list[str]:
    """Chain IDs of a layer stack: chain[0] = diff[0], chain[i] = sha256(chain[i-1] + " " + diff[i])."""
    out: list[str] = []
    for d in diff_ids:
        if not out:
            out.append(d)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {d}".encode()).hexdigest())
    return out


def _decompress_errors() -> tuple:
    errs: tuple = (OSError, EOFError, ValueError, tarfile.TarError)
    try:
        import zstandard

        errs += (zstandard.ZstdError,)
    except ImportError:  # pragma: no cover
        pass
    return errs


def sniff(head: bytes) -> str:
    """Compression named by the magic bytes at the start of a stream."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(BZIP2_MAGIC):
        return "bzip2"
    return "none"


def decompressed(f: BinaryIO, compression: str) -> BinaryIO:
    """A readable stream of the uncompressed bytes of ``f``."""
    if compression == "none":
        return f
    if compression == "gzip":
        return gzip.GzipFile(fileobj=f, mode="rb")
    if compression == "zstd":
        import zstandard  # lazy: third-party

        return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True, closefd=False)
    if compression == "xz":
        import lzma

        return lzma.LZMAFile(f, "rb")
    if compression == "bzip2":
        import bz2

        return bz2.BZ2File(f, "rb")
    raise LayerError(f"unsupported compression: {compression}")


def auto_decompressed(f: BinaryIO) -> BinaryIO:
    """Decompress ``f`` by sniffing its first bytes (plain tars pass through)."""
    buf = f if hasattr(f, "peek") else io.BufferedReader(_Raw(f), 1 << 16)
    head = buf.peek(8)[:8]
    return decompressed(buf, sniff(head))


class _Raw(io.RawIOBase):
    def __init__(self, f):
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._f.read(len(b))
        n = len(data)
        b[:n] = data
        return n


class HashingReader(io.RawIOBase):
    """Wraps a stream and hashes (and counts) every byte read through it."""

    def __init__(self, f: BinaryIO, algorithm: str = "sha256"):
        self._f = f
        self.hash = hashlib.new(algorithm)
        self.algorithm = algorithm
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._f.read(len(b))
        n = len(data)
        b[:n] = data
        self.hash.update(data)
        self.count += n
        return n

    def read(self, n: int = -1) -> bytes:
        data = self._f.read() if n is None or n < 0 else self._f.read(n)
        self.hash.update(data)
        self.count += len(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    @property
    def digest(self) -> str:
        return f"{self.algorithm}:{self.hash.hexdigest()}"


@dataclass(frozen=True)
class LayerStats:
    diff_id: str  # digest of the uncompressed tar
    unpacked_size: int  # Docker's layer size
    tar_size: int  # length of the uncompressed tar


def entry_size(ti: tarfile.TarInfo) -> int:
    """What one tar entry adds to Docker's layer size once unpacked."""
    base = ti.name.rstrip("/").rsplit("/", 1)[-1]
    if base.startswith(".wh."):
        return 0
    if ti.islnk() or ti.isdir():
        return 0
    if ti.issym():
        return len(ti.linkname.encode("utf-8", "surrogateescape"))
    if ti.isreg():
        return ti.size
    return 0


def scan_tar(stream: BinaryIO, name: str = "layer") -> LayerStats:
    """Hash and measure an uncompressed tar stream, reading it to the end."""
    h = HashingReader(stream)
    size = 0
    try:
        with tarfile.open(fileobj=h, mode="r|") as tf:
            for ti in tf:
                size += entry_size(ti)
    except _decompress_errors() as e:
        raise LayerError(f"{name}: not a valid tar archive: {e}") from None
    try:
        h.drain()
    except _decompress_errors() as e:
        raise LayerError(f"{name}: cannot read: {e}") from None
    return LayerStats(h.digest, size, h.count)


def scan_blob(f: BinaryIO, media_type: str, name: str = "layer") -> LayerStats:
    """Stats of a stored layer blob, decompressing as its media type says."""
    comp = compression_of(media_type)
    try:
        return scan_tar(decompressed(f, comp), name)
    except LayerError:
        raise
    except _decompress_errors() as e:  # gzip.BadGzipFile, zstd errors
        raise LayerError(f"{name}: cannot decompress ({comp}): {e}") from None
