"""``X-Docker-Container-Path-Stat``: what ``docker cp`` learns about a path before copying.

The header is base64 of the JSON of Go's ``types.ContainerPathStat``: ``name``, ``size``, ``mode`` (an
``os.FileMode``: permission bits plus Go's own type and special bits, not the st_mode layout),
``mtime`` (Go's ``time.Time`` JSON: RFC 3339 with nanoseconds, trailing zeros trimmed, in the
daemon's local time zone) and ``linkTarget`` (for a symlink: its target fully resolved in the
container, as an absolute path).

How dockerd reads a path (``container.ResolvePath`` + ``StatPath``): the path is taken as absolute
and cleaned, keeping a trailing ``/`` or ``/.``; everything but the last component is resolved,
symlinks followed in the container's scope; the last component is followed only when the path
ends with ``/`` or ``/.``. The archive's top entry is named after the last component of the path
as given (``.`` for ``dir/.``, so the contents are copied; empty for ``/``).
"""
from __future__ import annotations

import base64
import json
import posixpath
import stat
from dataclasses import dataclass
from datetime import datetime, timezone

from .securefs import ContainerFS, Resolved, clean

HEADER = "X-Docker-Container-Path-Stat"

# Go's os.FileMode bits (io/fs)
MODE_DIR = 1 << 31
MODE_APPEND = 1 << 30
MODE_EXCLUSIVE = 1 << 29
MODE_TEMPORARY = 1 << 28
MODE_SYMLINK = 1 << 27
MODE_DEVICE = 1 << 26
MODE_NAMED_PIPE = 1 << 25
MODE_SOCKET = 1 << 24
MODE_SETUID = 1 << 23
MODE_SETGID = 1 << 22
MODE_CHAR_DEVICE = 1 << 21
MODE_STICKY = 1 << 20
MODE_IRREGULAR = 1 << 19


def go_file_mode(st_mode: int) -> int:
    """st_mode -> Go's os.FileMode (what os.Lstat(...).Mode() returns on Linux)."""
    mode = st_mode & 0o777
    fmt = stat.S_IFMT(st_mode)
    if fmt == stat.S_IFBLK:
        mode |= MODE_DEVICE
    elif fmt == stat.S_IFCHR:
        mode |= MODE_DEVICE | MODE_CHAR_DEVICE
    elif fmt == stat.S_IFDIR:
        mode |= MODE_DIR
    elif fmt == stat.S_IFIFO:
        mode |= MODE_NAMED_PIPE
    elif fmt == stat.S_IFLNK:
        mode |= MODE_SYMLINK
    elif fmt == stat.S_IFSOCK:
        mode |= MODE_SOCKET
    if st_mode & stat.S_ISGID:
        mode |= MODE_SETGID
    if st_mode & stat.S_ISUID:
        mode |= MODE_SETUID
    if st_mode & stat.S_ISVTX:
        mode |= MODE_STICKY
    return mode


def go_time(ns: int, tz=None) -> str:
    """A time as Go's time.Time marshals to JSON (RFC3339Nano), in ``tz`` (default: local)."""
    sec, frac = divmod(ns, 10**9)
    try:
        dt = datetime.fromtimestamp(sec, timezone.utc).astimezone(tz)
    except (OverflowError, OSError, ValueError):  # years Go cannot marshal either: clamp
        dt = datetime(1 if sec < 0 else 9999, 1, 1, tzinfo=timezone.utc)
        frac = 0
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    text = f"{dt.year:04d}{text[text.index('-'):]}"   # strftime may not pad years below 1000
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    off = dt.utcoffset()
    if not off:
        return text + "Z"
    minutes = int(off.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class PathStat:
    name: str
    size: int
    mode: int          # Go os.FileMode
    mtime: str         # Go time JSON
    link_target: str = ""

    def to_json(self) -> bytes:
        obj = {"name": _go_string(self.name), "size": self.size, "mode": self.mode, "mtime": self.mtime,
               "linkTarget": _go_string(self.link_target)}
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
        # Go's encoder escapes these for HTML safety
        for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                        ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
            text = text.replace(ch, esc)
        return text.encode()

    def header_value(self) -> str:
        return base64.b64encode(self.to_json()).decode("ascii")


def decode_header(value: str) -> dict:
    """The JSON object of a header value (what the Docker CLI does with it)."""
    return json.loads(base64.b64decode(value))


def _go_string(s: str) -> str:
    """Invalid UTF-8 (kept by surrogateescape) becomes U+FFFD, as Go's JSON encoder writes it."""
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass(frozen=True)
class Request:
    """A container path as dockerd reads it."""
    given: str         # as the client sent it
    abs_path: str      # cleaned, absolute, with the trailing "/" or "/." kept
    follow_last: bool  # the last component is followed (path ends with "/" or "/.")
    base: str          # Go's filepath.Base(abs_path): the stat name

    @property
    def rebase(self) -> str:
        """The name of the archive's top entry ("" for the root, whose entries are "/x")."""
        return "" if self.base == "/" else self.base


def parse_path(path: str) -> Request:
    cleaned = clean(path)
    abs_path = cleaned
    if posixpath.basename(path.rstrip("/")) == "." and posixpath.basename(cleaned.rstrip("/") or "/") != ".":
        abs_path = (cleaned if cleaned.endswith("/") else cleaned + "/") + "."
    if path.endswith("/") and not abs_path.endswith("/"):
        abs_path += "/"
    follow = abs_path.endswith("/") or abs_path.endswith("/.")
    stripped = abs_path.rstrip("/")
    base = posixpath.basename(stripped) if stripped else "/"
    return Request(path, abs_path, follow, base)


def resolve_request(fs: ContainerFS, req: Request) -> Resolved:
    """The entry a request names (FileNotFoundError / NotADirectoryError when there is none)."""
    r = fs.resolve(req.abs_path, follow_last=req.follow_last)
    if req.follow_last and r.name is not None:
        # "x/" or "x/." where x is not a directory (or a symlink to one): lstat("x/") fails
        r.close()
        raise NotADirectoryError(20, "not a directory", req.abs_path)
    return r


def stat_entry(fs: ContainerFS, req: Request, r: Resolved, tz=None) -> PathStat:
    st = r.lstat()
    link = ""
    if stat.S_ISLNK(st.st_mode):
        with fs.resolve(req.abs_path, follow_last=True, must_exist=False) as target:
            link = target.path
    return PathStat(req.base, st.st_size, go_file_mode(st.st_mode), go_time(st.st_mtime_ns, tz), link)
