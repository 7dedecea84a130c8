"""Tar for layers: a streaming header reader with limits, and a deterministic writer.

The 512-byte header block is decoded by ``tarfile.TarInfo.frombuf``; the
extension records (PAX ``x``/``g``, GNU ``L``/``K``) are read here, so their
size can be checked before anything is buffered. Names stay ``str`` decoded
as UTF-8 with surrogateescape, so any byte string round-trips through the
``os`` functions. xattr values stay bytes.
"""
from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass, field
from typing import Callable, Iterator

BLOCK = 512

REG, AREG, CONT = b"0", b"\0", b"7"
LNK, SYM, CHR, BLK, DIR, FIFO = b"1", b"2", b"3", b"4", b"5", b"6"
PAX, GLOBAL, GNU_LONGNAME, GNU_LONGLINK, GNU_SPARSE = b"x", b"g", b"L", b"K", b"S"
REGULAR_TYPES = (REG, AREG, CONT)
HEADER_ONLY_TYPES = (LNK, SYM, CHR, BLK, DIR, FIFO)
XATTR_PREFIX = "SCHILY.xattr."

_GNU_MAGIC = b"ustar  \0"
_MTIME_RE = re.compile(rb"^(-?)(\d{1,30})(?:\.(\d{0,30}))?$")
_INT_RE = re.compile(rb"^\d{1,30}$")


class TarError(Exception):
    """The tar stream is malformed, uses an unsupported feature, or breaks a limit."""


@dataclass
class Entry:
    name: str
    type: bytes
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    size: int = 0
    mtime_ns: int = 0
    atime_ns: int | None = None
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[str, bytes] = field(default_factory=dict)

    @property
    def is_dir(self) -> bool:
        return self.type == DIR

    @property
    def is_regular(self) -> bool:
        return self.type in REGULAR_TYPES


def _decode(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def parse_pax(data: bytes) -> dict[str, bytes]:
    """Records "LEN KEY=VALUE\\n"; raises TarError on a malformed record."""
    out: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        if not data[pos:].strip(b"\0"):
            break  # some writers pad the record block with NULs
        sp = data.find(b" ", pos, pos + 24)
        if sp < 0 or not _INT_RE.match(data[pos:sp]):
            raise TarError("malformed PAX record: bad length")
        length = int(data[pos:sp])
        end = pos + length
        if length <= sp - pos + 1 or end > len(data) or data[end - 1:end] != b"\n":
            raise TarError("malformed PAX record: length does not match")
        key, eq, value = data[sp + 1:end - 1].partition(b"=")
        if not eq or not key:
            raise TarError("malformed PAX record: missing key")
        out[_decode(key)] = value
        pos = end
    return out


def _pax_int(key: str, value: bytes) -> int:
    if not _INT_RE.match(value):
        raise TarError(f"malformed PAX {key} value {value[:40]!r}")
    return int(value)


def _pax_time_ns(key: str, value: bytes) -> int:
    m = _MTIME_RE.match(value)
    if not m:
        raise TarError(f"malformed PAX {key} value {value[:40]!r}")
    sign, secs, frac = m.groups()
    ns = int(secs) * 10**9 + int(((frac or b"") + b"000000000")[:9])
    return -ns if sign else ns


class _Header:
    """The fields of a ustar/GNU header block that the reader uses (what ``TarInfo`` would hold)."""

    __slots__ = ("name", "type", "mode", "uid", "gid", "size", "mtime", "linkname", "devmajor", "devminor")


_NUMERIC = ((100, 108), (108, 116), (116, 124), (124, 136), (136, 148), (329, 337), (337, 345))
_NO_PREFIX_TYPES = (GNU_LONGNAME, GNU_LONGLINK, GNU_SPARSE)


def _octal(field: bytes) -> int:
    p = field.find(b"\0")
    if p != -1:
        field = field[:p]
    return int(field.strip() or b"0", 8)


def _nts(field: bytes) -> str:
    p = field.find(b"\0")
    return _decode(field if p == -1 else field[:p])


def parse_header(buf: bytes):
    """A header block decoded as ``tarfile.TarInfo.frombuf(buf, "utf-8", "surrogateescape")``
    does, quicker for the common case (octal numbers, unsigned checksum); unusual blocks
    (base-256 numbers, signed checksums, sparse files) and malformed ones go to tarfile, which
    raises ``tarfile.HeaderError`` for the bad ones."""
    for a, _ in _NUMERIC:
        if buf[a] in (0o200, 0o377):
            return tarfile.TarInfo.frombuf(buf, "utf-8", "surrogateescape")
    try:
        chksum = _octal(buf[148:156])
        mode, uid, gid, size, mtime, devmajor, devminor = (_octal(buf[a:b]) for a, b in _NUMERIC)
    except ValueError:
        return tarfile.TarInfo.frombuf(buf, "utf-8", "surrogateescape")
    t = buf[156:157]
    if chksum != 256 + sum(buf) - sum(buf[148:156]) or t == GNU_SPARSE:
        return tarfile.TarInfo.frombuf(buf, "utf-8", "surrogateescape")
    h = _Header()
    name = _nts(buf[0:100])
    if t == AREG and name.endswith("/"):
        t = DIR
    if t == DIR:
        name = name.rstrip("/")
    prefix = _nts(buf[345:500])
    if prefix and t not in _NO_PREFIX_TYPES:
        name = prefix + "/" + name
    h.name, h.type, h.mode, h.uid, h.gid, h.size, h.mtime = name, t, mode, uid, gid, size, mtime
    h.linkname, h.devmajor, h.devminor = _nts(buf[157:257]), devmajor, devminor
    return h


class TarReader:
    """Yields the entries of a tar stream one at a time.

    ``stream`` has ``read(n)`` and ``read_exact(n)`` (a LayerStream). The data
    of the current entry is read with ``data()``; whatever is left unread is
    skipped when the next entry is requested.
    """

    def __init__(self, stream, max_header_bytes: int = 1 << 20, max_entries: int | None = None):
        self._s = stream
        self.max_header_bytes = max_header_bytes
        self.max_entries = max_entries
        self.count = 0
        self._remaining = 0
        self._padding = 0

    def __iter__(self) -> Iterator[Entry]:
        while True:
            e = self.next()
            if e is None:
                return
            yield e

    def data(self, chunk: int = 1 << 20) -> Iterator[bytes]:
        while self._remaining:
            b = self._s.read(min(chunk, self._remaining))
            if not b:
                raise TarError("tar stream truncated inside file data")
            self._remaining -= len(b)
            yield b

    def _skip(self) -> None:
        for _ in self.data():
            pass
        if self._padding:
            self._s.read_exact(self._padding)
            self._padding = 0

    def _read_special(self, info: tarfile.TarInfo) -> bytes:
        if info.size > self.max_header_bytes:
            raise TarError(f"tar extension header of {info.size} bytes exceeds the limit of {self.max_header_bytes}")
        data = self._s.read_exact(info.size)
        pad = -info.size % BLOCK
        if pad:
            self._s.read_exact(pad)
        return data

    def next(self) -> Entry | None:
        self._skip()
        pax: dict[str, bytes] = {}
        longname = longlink = None
        while True:
            buf = self._s.read(BLOCK)
            if not buf:
                if pax or longname is not None or longlink is not None:
                    raise TarError("tar stream truncated after an extension header")
                return None  # clean end at a block boundary (tolerated, like Go)
            if len(buf) != BLOCK:
                raise TarError("tar stream truncated inside a header")
            if not buf.strip(b"\0"):
                return None  # end-of-archive marker
            try:
                info = parse_header(buf)
            except tarfile.HeaderError as e:
                raise TarError(f"invalid tar header ({e})") from None
            if buf[257:265] == _GNU_MAGIC:  # GNU keeps atime/ctime where ustar has the prefix
                info.name = _decode(buf[0:100].split(b"\0", 1)[0])
            t = info.type
            if t == PAX:
                pax.update(parse_pax(self._read_special(info)))
                continue
            if t == GLOBAL:
                parse_pax(self._read_special(info))  # validated, then ignored (as Docker does)
                continue
            if t in (GNU_LONGNAME, GNU_LONGLINK):
                value = _decode(self._read_special(info).split(b"\0", 1)[0])
                if t == GNU_LONGNAME:
                    longname = value
                else:
                    longlink = value
                continue
            return self._entry(info, pax, longname, longlink)

    def _entry(self, info, pax: dict[str, bytes], longname, longlink) -> Entry:
        e = Entry(
            name=longname if longname is not None else info.name,
            type=info.type,
            mode=info.mode & 0o7777,
            uid=info.uid,
            gid=info.gid,
            size=info.size,
            mtime_ns=int(info.mtime) * 10**9,
            linkname=longlink if longlink is not None else info.linkname,
            devmajor=info.devmajor,
            devminor=info.devminor,
        )
        for key, value in pax.items():
            if key.startswith(XATTR_PREFIX):
                e.xattrs[key[len(XATTR_PREFIX):]] = value
            elif key.startswith("GNU.sparse."):
                raise TarError(f"tar entry {e.name!r}: sparse files are not supported")
            elif not value:
                continue
            elif key == "path":
                e.name = _decode(value)
            elif key == "linkpath":
                e.linkname = _decode(value)
            elif key in ("size", "uid", "gid"):
                setattr(e, key, _pax_int(key, value))
            elif key == "mtime":
                e.mtime_ns = _pax_time_ns(key, value)
            elif key == "atime":
                e.atime_ns = _pax_time_ns(key, value)
        if e.type == GNU_SPARSE:
            raise TarError(f"tar entry {e.name!r}: sparse files are not supported")
        if e.type not in REGULAR_TYPES + HEADER_ONLY_TYPES:
            raise TarError(f"tar entry {e.name!r}: unsupported entry type {e.type!r}")
        if e.size < 0:
            raise TarError(f"tar entry {e.name!r}: negative size")
        if e.type in HEADER_ONLY_TYPES:
            e.size = 0  # like Go's archive/tar: these types carry no data
        limit = getattr(self._s, "max_bytes", None)
        if limit is not None and e.size > limit - getattr(self._s, "total", 0):
            raise TarError(f"tar entry {e.name!r}: size {e.size} is larger than the limit of {limit} bytes")
        self.count += 1
        if self.max_entries is not None and self.count > self.max_entries:
            raise TarError(f"more than the limit of {self.max_entries} entries")
        self._remaining = e.size
        self._padding = -e.size % BLOCK
        return e


class TarWriter:
    """Writes PAX-format tar entries; deterministic for the same input.

    Only what is asked is written: no user/group name lookups, integer mtimes,
    and a two-block end marker (as Go's archive/tar, no record padding).
    """

    def __init__(self, write: Callable[[bytes], object]):
        self._write = write

    def add(self, e: Entry, read: Callable[[int], bytes] | None = None) -> None:
        """Write one entry; for regular files ``read(n)`` supplies e.size bytes."""
        info = tarfile.TarInfo(e.name)
        info.type = e.type
        info.mode = e.mode & 0o7777
        info.uid, info.gid = e.uid, e.gid
        info.size = e.size if e.is_regular else 0
        info.mtime = e.mtime_ns // 10**9
        info.linkname = e.linkname
        info.devmajor, info.devminor = e.devmajor, e.devminor
        info.uname = info.gname = ""
        for key in sorted(e.xattrs):
            info.pax_headers[XATTR_PREFIX + key] = _decode(e.xattrs[key])
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        left = info.size
        while left:
            b = read(min(left, 1 << 20)) if read else b""
            if not b:
                raise TarError(f"file {e.name!r} shrank while it was being archived")
            if len(b) > left:
                b = b[:left]
            self._write(b)
            left -= len(b)
        pad = -info.size % BLOCK
        if pad:
            self._write(b"\0" * pad)

    def close(self) -> None:
        self._write(b"\0" * (2 * BLOCK))
