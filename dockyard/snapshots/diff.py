"""Turn a snapshot's changes back into a layer tar (``docker commit``), and
list them (``docker diff``).

The tar is deterministic: entries in sorted depth-first order, PAX format,
no user/group names, whole-second mtimes (optionally clamped to
``clamp_mtime`` for reproducible builds), whiteouts and opaque markers with
time 0, hard links within the layer written once and linked after. Only
portable xattrs travel (``user.*`` and ``security.capability``).
"""
from __future__ import annotations

import hashlib
import os
import stat
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from . import fsops
from .apply import OPAQUE_MARKER, WHITEOUT_PREFIX
from .changes import Change, iter_changes
from .snapshotter import Layers
from .tarstream import BLK, CHR, DIR, FIFO, LNK, REG, SYM, Entry, TarWriter

__all__ = ["DiffResult", "write_diff", "changes"]


@dataclass(frozen=True)
class DiffResult:
    diff_id: str          # sha256 of the uncompressed tar
    digest: str           # sha256 of the blob as written
    size: int             # bytes written
    compression: str | None


def changes(layers: Layers) -> list[tuple[str, str]]:
    """Docker-style change list [(kind "A"/"C"/"D", "/path")], parents first."""
    out = []
    for c in iter_changes(layers):
        out.append((c.kind, c.name))
        if c.opaque and c.kind == "C":  # what the opaque directory hides is gone
            upper_names = set(os.listdir(c.source))
            for n in sorted(fsops.overlay_listdir(layers.lowers, c.path) - upper_names, key=os.fsencode):
                out.append(("D", c.name + "/" + n))
    return out


class _Sink:
    """Compresses, hashes and writes the tar bytes."""

    def __init__(self, out: BinaryIO, compression: str | None, level: int | None):
        self.out = out
        self.raw_hash = hashlib.sha256()
        self.blob_hash = hashlib.sha256()
        self.size = 0
        if compression == "gzip":
            self._c = zlib.compressobj(6 if level is None else level, zlib.DEFLATED, 31)
        elif compression == "zstd":
            import zstandard  # lazy: keeps CLI start fast

            self._c = zstandard.ZstdCompressor(level=3 if level is None else level).compressobj()
        elif compression is None:
            self._c = None
        else:
            raise ValueError(f"unsupported layer compression: {compression!r}")

    def _emit(self, data: bytes) -> None:
        if data:
            self.blob_hash.update(data)
            self.size += len(data)
            self.out.write(data)

    def write(self, data: bytes) -> None:
        self.raw_hash.update(data)
        self._emit(self._c.compress(data) if self._c else data)

    def close(self) -> None:
        if self._c:
            self._emit(self._c.flush())


def write_diff(layers: Layers, out: BinaryIO, *, compression: str | None = None,
               clamp_mtime: int | None = None, level: int | None = None) -> DiffResult:
    """Write the changes of ``layers`` (from Snapshotter.layers) as a layer tar to out."""
    sink = _Sink(out, compression, level)
    tw = TarWriter(sink.write)
    links: dict[tuple[int, int], str] = {}
    for c in iter_changes(layers):
        name = "/".join(c.path)
        if c.kind == "D":
            parent, _, base = name.rpartition("/")
            tw.add(_marker((parent + "/" if parent else "") + WHITEOUT_PREFIX + base))
            continue
        _add(tw, c, name, links, clamp_mtime)
        if c.opaque:
            tw.add(_marker(name + "/" + OPAQUE_MARKER))
    tw.close()
    sink.close()
    return DiffResult("sha256:" + sink.raw_hash.hexdigest(), "sha256:" + sink.blob_hash.hexdigest(),
                      sink.size, compression)


def _marker(name: str) -> Entry:
    return Entry(name=name, type=REG, mode=0o600)


def _add(tw: TarWriter, c: Change, name: str, links: dict, clamp: int | None) -> None:
    p = c.source
    st = os.lstat(p)
    mode = st.st_mode
    mtime = st.st_mtime_ns // 10**9
    if clamp is not None:
        mtime = min(mtime, clamp)
    e = Entry(name=name, type=REG, mode=stat.S_IMODE(mode), uid=st.st_uid, gid=st.st_gid,
              mtime_ns=mtime * 10**9, xattrs=fsops.portable_xattrs(p))
    if stat.S_ISDIR(mode):
        e.type = DIR
        tw.add(e)
        return
    key = (st.st_dev, st.st_ino)
    if st.st_nlink > 1 and key in links:
        e.type, e.linkname = LNK, links[key]
        tw.add(e)
        return
    if stat.S_ISREG(mode):
        e.size = st.st_size
        fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            tw.add(e, lambda n: os.read(fd, n))
        finally:
            os.close(fd)
    elif stat.S_ISLNK(mode):
        e.type, e.linkname = SYM, os.readlink(p)
        tw.add(e)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        e.type = CHR if stat.S_ISCHR(mode) else BLK
        e.devmajor, e.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        tw.add(e)
    elif stat.S_ISFIFO(mode):
        e.type = FIFO
        tw.add(e)
    else:
        return
    if st.st_nlink > 1:
        links[key] = name
