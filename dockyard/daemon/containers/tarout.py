"""A tar stream of a file or directory in a container (``docker cp`` out, ``docker export``).

Everything is read through directory descriptors from ``securefs``: a directory is listed from its
descriptor, a child directory opened with O_NOFOLLOW|O_DIRECTORY, a file with O_NOFOLLOW|O_NONBLOCK
(so a FIFO the container planted cannot block the daemon) and its type checked again with fstat;
a symlink is archived as a symlink. Entries come in Go's filepath.Walk order (depth first, names
sorted bytewise), the top entry named as asked (dockerd's TarResourceRebase) or left out (export).
Volumes and bind mounts met on the way are archived from their sources, as the container sees them.
Sockets are skipped, hard links within the archive written once, ``security.capability`` kept.
A file that shrinks while it is read is padded with zeros, one that grows is cut at its size.
"""
from __future__ import annotations

import errno
import logging
import os
import stat
import tarfile
from typing import Iterator

from .securefs import O_DIR, ContainerFS, Resolved

log = logging.getLogger("dockyard.containers")

CHUNK = 256 << 10
BLOCK = 512
_XATTRS = ("security.capability",)
_TYPES = {stat.S_IFDIR: tarfile.DIRTYPE, stat.S_IFREG: tarfile.REGTYPE, stat.S_IFLNK: tarfile.SYMTYPE,
          stat.S_IFCHR: tarfile.CHRTYPE, stat.S_IFBLK: tarfile.BLKTYPE, stat.S_IFIFO: tarfile.FIFOTYPE}
_O_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def header(name: str, st: os.stat_result, linkname: str = "", *, size: int | None = None,
           xattrs: dict[str, bytes] | None = None, link: bool = False) -> bytes:
    """One tar header (PAX extensions only where ustar cannot hold a value)."""
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if link else _TYPES[stat.S_IFMT(st.st_mode)]
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.mtime = max(st.st_mtime_ns // 10**9, 0)
    info.size = (st.st_size if size is None else size) if info.type == tarfile.REGTYPE else 0
    info.linkname = linkname
    info.uname = info.gname = ""
    if info.type in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    for key, value in sorted((xattrs or {}).items()):
        info.pax_headers["SCHILY.xattr." + key] = value.decode("utf-8", "surrogateescape")
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _xattrs(fd: int) -> dict[str, bytes]:
    out = {}
    for key in _XATTRS:
        try:
            out[key] = os.getxattr(fd, key)
        except OSError:
            pass
    return out


def _names(fd: int) -> list[str]:
    return sorted(os.listdir(fd), key=os.fsencode)


def _child(parent: str, name: str) -> str:
    return ("" if parent == "/" else parent) + "/" + name


class TarSource:
    """The archive of one entry; ``chunks()`` yields its bytes, ``close()`` releases descriptors.

    Created with ``open_source`` (which does the first lstat/open, so a missing path is an error
    before any byte is sent)."""

    def __init__(self, fs: ContainerFS, top: Resolved, top_name: str | None, cross_mounts: bool):
        self.fs = fs
        self.top = top
        self.top_name = top_name
        self.cross_mounts = cross_mounts
        self._fds: list[int] = []
        self._buf = bytearray()
        self._links: dict[tuple[int, int], str] = {}
        self.top_st = top.lstat()

    def close(self) -> None:
        while self._fds:
            os.close(self._fds.pop())
        self.top.close()

    # -- output buffering ---------------------------------------------------------------------
    def _take(self) -> bytes:
        data = bytes(self._buf)
        self._buf.clear()
        return data

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self._run()
            self._buf += b"\0" * (2 * BLOCK)
            yield self._take()
        finally:
            self.close()

    # -- walking --------------------------------------------------------------------------------
    def _run(self) -> Iterator[bytes]:
        top, st = self.top, self.top_st
        if not stat.S_ISDIR(st.st_mode):
            yield from self._entry(top.dir_fd, top.name, top.path, self.top_name or "")
            return
        fd = top.open_dir()
        self._fds.append(fd)
        if self.top_name is not None:
            self._buf += header(self.top_name, os.fstat(fd), xattrs=_xattrs(fd))
        stack = [(fd, top.path, self.top_name, iter(_names(fd)))]
        while stack:
            dfd, cpath, tname, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                self._fds.remove(dfd)
                os.close(dfd)
                continue
            child_c = _child(cpath, name)
            child_t = name if tname is None else f"{tname}/{name}"
            sub = None
            m = self.fs.mount_at(child_c) if self.cross_mounts else None
            if m is not None:
                sub = yield from self._mount(m, child_c, child_t)
            else:
                sub = yield from self._entry(dfd, name, child_c, child_t)
            if sub is not None:
                stack.append((sub, child_c, child_t, iter(_names(sub))))
            if len(self._buf) >= CHUNK:
                yield self._take()

    def _mount(self, m, cpath: str, tname: str):
        try:
            r = self.fs.open_mount(m)
        except OSError as e:
            log.warning("archive: mount source of %s: %s", cpath, e.strerror or e)
            return None
        if r.name is not None:   # a file mount
            with r:
                return (yield from self._entry(r.dir_fd, r.name, cpath, tname))
        fd = r.dir_fd
        r.dir_fd = -1
        self._fds.append(fd)
        self._buf += header(tname, os.fstat(fd), xattrs=_xattrs(fd))
        return fd

    def _entry(self, dfd: int, name: str, cpath: str, tname: str):
        """Archive dfd/name; returns a descriptor to descend into when it is a directory."""
        for _ in range(16):   # the container may swap the entry between our calls: look again
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                return None   # gone since the listing
            fmt = stat.S_IFMT(st.st_mode)
            if fmt == stat.S_IFSOCK:
                return None
            if fmt == stat.S_IFLNK:
                try:
                    target = os.readlink(name, dir_fd=dfd)
                except OSError as e:
                    if e.errno in (errno.EINVAL, errno.ENOENT):
                        continue
                    raise
                self._buf += header(tname, st, target)
                return None
            if fmt == stat.S_IFDIR:
                try:
                    fd = os.open(name, O_DIR, dir_fd=dfd)
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT):
                        continue
                    raise
                self._fds.append(fd)
                self._buf += header(tname, os.fstat(fd), xattrs=_xattrs(fd))
                return fd
            if fmt == stat.S_IFREG:
                try:
                    fd = os.open(name, _O_FILE, dir_fd=dfd)
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOENT, errno.ENXIO):
                        continue
                    raise
                try:
                    fst = os.fstat(fd)
                    if not stat.S_ISREG(fst.st_mode):
                        continue
                    yield from self._file(fd, fst, tname)
                finally:
                    os.close(fd)
                return None
            self._buf += header(tname, st)
            return None
        raise OSError(errno.EAGAIN, "entry keeps changing while it is archived", cpath)

    def _file(self, fd: int, st: os.stat_result, tname: str) -> Iterator[bytes]:
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1:
            first = self._links.get(key)
            if first is not None:
                self._buf += header(tname, st, first, link=True)
                return
            self._links[key] = tname
        self._buf += header(tname, st, xattrs=_xattrs(fd))
        left = st.st_size
        while left:
            if len(self._buf) >= CHUNK:
                yield self._take()
            data = os.read(fd, min(left, CHUNK))
            if not data:
                log.warning("archive: %s shrank by %d bytes while it was read; padded with zeros", tname, left)
                data = b"\0" * left
            self._buf += data
            left -= len(data)
        pad = -st.st_size % BLOCK
        if pad:
            self._buf += b"\0" * pad


def open_source(fs: ContainerFS, top: Resolved, top_name: str | None, *, cross_mounts: bool = True) -> TarSource:
    """Takes ``top`` (closed with the source). ``top_name`` None: no top entry, names relative."""
    try:
        return TarSource(fs, top, top_name, cross_mounts)
    except BaseException:
        top.close()
        raise
