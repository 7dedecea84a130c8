"""Unpacking untrusted image archives (docker-archive, OCI layout tars) safely.

Only directories, regular files and symlinks are accepted; member names must
stay inside the destination (no absolute paths, no ``..``), never pass through
a symlink, and appear once. Symlink targets must be relative and point inside
lexically, and every later read goes through ``open_inside``, which resolves
the real path and refuses anything outside the root.
"""
from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from typing import BinaryIO

from .errors import InvalidImage

MAX_MEMBERS = 100_000


class ArchiveError(InvalidImage):
    """An image archive is malformed or hostile."""


def clean_name(name: str) -> str:
    """A member name made relative and normalized; ArchiveError if it escapes."""
    if "\x00" in name:
        raise ArchiveError(f"invalid archive member name {name!r}: NUL byte")
    if name.startswith("/"):
        raise ArchiveError(f"invalid archive member {name!r}: absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ArchiveError(f"invalid archive member {name!r}: path escapes the archive ('..')")
    return "/".join(parts)


def _ensure_parents(root: str, rel: str) -> None:
    cur = root
    for part in rel.split("/")[:-1]:
        cur = os.path.join(cur, part)
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            os.mkdir(cur, 0o755)
            continue
        if stat.S_ISLNK(st.st_mode):
            raise ArchiveError(f"invalid archive member {rel!r}: path goes through a symlink")
        if not stat.S_ISDIR(st.st_mode):
            raise ArchiveError(f"invalid archive member {rel!r}: parent is not a directory")


def extract(fileobj: BinaryIO, dest: str, max_members: int = MAX_MEMBERS) -> None:
    """Unpack an uncompressed tar stream into the empty directory ``dest``."""
    seen: set[str] = set()
    try:
        tf = tarfile.open(fileobj=fileobj, mode="r|")
    except tarfile.TarError as e:
        raise ArchiveError(f"invalid image archive: {e}") from None
    try:
        for m in tf:
            if len(seen) >= max_members:
                raise ArchiveError(f"invalid image archive: more than {max_members} members")
            rel = clean_name(m.name)
            if not rel:
                if m.isdir():
                    continue
                raise ArchiveError(f"invalid archive member {m.name!r}: empty name")
            if rel in seen:
                raise ArchiveError(f"invalid image archive: duplicate member {rel!r}")
            seen.add(rel)
            _ensure_parents(dest, rel)
            path = os.path.join(dest, rel)
            if m.isdir():
                try:
                    st = os.lstat(path)
                    if not stat.S_ISDIR(st.st_mode):
                        raise ArchiveError(f"invalid archive member {rel!r}: exists and is not a directory")
                except FileNotFoundError:
                    os.mkdir(path, 0o755)
            elif m.isreg():
                src = tf.extractfile(m)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as out:
                    left = m.size
                    while left:
                        b = src.read(min(left, 1 << 20))
                        if not b:
                            raise ArchiveError(f"invalid image archive: {rel!r} is truncated")
                        out.write(b)
                        left -= len(b)
            elif m.issym():
                target = m.linkname
                if not target or target.startswith("/") or "\x00" in target:
                    raise ArchiveError(f"invalid archive member {rel!r}: symlink to {target!r} leaves the archive")
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
                if resolved == ".." or resolved.startswith("../"):
                    raise ArchiveError(f"invalid archive member {rel!r}: symlink to {target!r} leaves the archive")
                os.symlink(target, path)
            elif m.islnk():
                raise ArchiveError(f"invalid archive member {rel!r}: hard links are not allowed in image archives")
            else:
                raise ArchiveError(f"invalid archive member {rel!r}: device, FIFO or other special file")
    except (tarfile.TarError, EOFError) as e:
        raise ArchiveError(f"invalid image archive: {e}") from None
    except OSError as e:
        raise ArchiveError(f"cannot unpack image archive: {e}") from None
    finally:
        tf.close()


def resolve_inside(root: str, rel: str) -> str:
    """The real path of ``rel`` under ``root``; ArchiveError if missing or outside."""
    if not isinstance(rel, str) or not rel:
        raise ArchiveError(f"invalid path {rel!r} in image archive")
    name = clean_name(rel)
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, name))
    if real != real_root and not real.startswith(real_root + os.sep):
        raise ArchiveError(f"invalid path {rel!r} in image archive: resolves outside the archive")
    if not os.path.exists(real):
        raise ArchiveError(f"image archive is missing {rel!r}")
    return real


def open_inside(root: str, rel: str) -> BinaryIO:
    real = resolve_inside(root, rel)
    if not os.path.isfile(real):
        raise ArchiveError(f"{rel!r} in image archive is not a regular file")
    return open(real, "rb")


def read_inside(root: str, rel: str, limit: int) -> bytes:
    with open_inside(root, rel) as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise ArchiveError(f"{rel!r} in image archive is too large ({size} bytes, limit {limit})")
        return f.read(limit + 1)
