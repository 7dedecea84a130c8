"""``docker export``: a tar of a directory tree (a container's merged rootfs).

Owners, modes, mtimes, hard links, symlinks, device nodes, FIFOs and extended
attributes are kept; user and group names are never looked up on the host
(the tree belongs to a container, not to the host's /etc/passwd). Sockets are
skipped as Docker does. Entries are sorted, so the same tree gives the same tar.
"""
from __future__ import annotations

import os
import stat
import tarfile
from typing import BinaryIO, Callable, Iterable

# xattrs that describe the storage, not the file: never exported
_SKIP_XATTR_PREFIXES = ("trusted.overlay.", "security.selinux", "system.posix_acl_")


class ExportError(OSError):
    pass


def _xattrs(path: str) -> dict[str, str]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for n in sorted(names):
        if n.startswith(_SKIP_XATTR_PREFIXES):
            continue
        try:
            v = os.getxattr(path, n, follow_symlinks=False)
        except OSError:
            continue
        out["SCHILY.xattr." + n] = v.decode("utf-8", "surrogateescape")
    return out


def tarinfo_for(full: str, arcname: str, st: os.stat_result, links: dict) -> tarfile.TarInfo | None:
    """A TarInfo for one filesystem entry (None for sockets and unknown types)."""
    ti = tarfile.TarInfo(arcname)
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.uid, ti.gid = st.st_uid, st.st_gid
    ti.uname = ti.gname = ""
    ti.mtime = int(st.st_mtime)
    mode = st.st_mode
    if stat.S_ISREG(mode):
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in links:
            ti.type = tarfile.LNKTYPE
            ti.linkname = links[key]
        else:
            if st.st_nlink > 1:
                links[key] = arcname
            ti.type = tarfile.REGTYPE
            ti.size = st.st_size
    elif stat.S_ISDIR(mode):
        ti.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(mode):
        ti.type = tarfile.SYMTYPE
        ti.linkname = os.readlink(full)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        ti.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
        ti.devmajor, ti.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(mode):
        ti.type = tarfile.FIFOTYPE
    else:
        return None
    pax = _xattrs(full)
    if pax:
        ti.pax_headers = pax
    return ti


def walk_sorted(root: str, one_file_system: bool = False) -> Iterable[tuple[str, str, os.stat_result]]:
    """Yield (full path, relative path, lstat) for every entry below ``root``, sorted."""
    root_dev = os.lstat(root).st_dev

    def rec(d: str, rel: str):
        try:
            names = sorted(os.listdir(d))
        except OSError as e:
            raise ExportError(f"cannot read directory {d}: {e.strerror}") from None
        for n in names:
            full = os.path.join(d, n)
            r = f"{rel}{n}"
            st = os.lstat(full)
            yield full, r, st
            if stat.S_ISDIR(st.st_mode) and not (one_file_system and st.st_dev != root_dev):
                yield from rec(full, r + "/")

    yield from rec(root, "")


def write_tree(
    root: str,
    tf: tarfile.TarFile,
    one_file_system: bool = False,
    exclude: Callable[[str], bool] | None = None,
    normalize: Callable[[tarfile.TarInfo], tarfile.TarInfo] | None = None,
) -> None:
    links: dict = {}
    for full, rel, st in walk_sorted(root, one_file_system):
        if exclude and exclude(rel):
            continue
        ti = tarinfo_for(full, rel, st, links)
        if ti is None:
            continue
        if normalize:
            ti = normalize(ti)
        if ti.type == tarfile.REGTYPE:
            try:
                with open(full, "rb") as f:
                    tf.addfile(ti, _Exact(f, ti.size, full))
            except OSError as e:
                raise ExportError(f"cannot read {full}: {e.strerror}") from None
        else:
            tf.addfile(ti)


class _Exact:
    """A file reader that yields exactly ``size`` bytes (files may change under us)."""

    def __init__(self, f, size: int, name: str):
        self._f, self._left, self._name = f, size, name

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if n is None or n < 0 or n > self._left:
            n = self._left
        data = self._f.read(n)
        if len(data) < n:  # shrank while we read: pad, as Go's archive/tar would fail; keep the tar valid
            data += b"\0" * (n - len(data))
        self._left -= len(data)
        return data


def export_dir(path: str | os.PathLike, out: BinaryIO, one_file_system: bool = False) -> None:
    """Write an uncompressed tar of the tree at ``path`` to ``out``."""
    root = os.fspath(path)
    if not os.path.isdir(root):
        raise ExportError(f"export: {root} is not a directory")
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        write_tree(root, tf, one_file_system)
