"""Extract a tar stream into a directory of a container (``docker cp`` in), as dockerd's Untar.

dockerd extracts chrooted into the container's root: entry names stay below the destination (a
name that cleans to ``../x`` is refused), parent directories that are missing are made (0755,
root), symlinks met on the way (even ones the archive itself made) are followed inside the
container, a final name never is. Here every parent is resolved with ``securefs`` (so the same
holds without a chroot, whatever the container does meanwhile), and every write is relative to
the resolved directory descriptor: ``*at`` calls with AT_SYMLINK_NOFOLLOW, files made with
O_CREAT|O_EXCL|O_NOFOLLOW. Writes into a read-only volume, or into the rootfs of a container with a
read-only rootfs, are refused whatever symlink led there (the kernel would refuse them inside the
container; the daemon writes through host paths, so it checks).

An existing entry is replaced, unless both are directories (merged); with
``no_overwrite_dir_nondir`` replacing a directory by a non-directory, or the reverse, is an error.
A regular file is written under a temporary name and renamed into place, so a broken stream never
leaves a partial file. Owners are the archive's (or ``chown``, for ``copyUIDGID``), modes, xattrs
(but overlayfs' own) and times are kept; directory times are set at the end. The stream may be
plain, gzip, bzip2, xz or zstd.
"""
from __future__ import annotations

import bz2
import errno
import lzma
import os
import posixpath
import shutil
import stat
from dataclasses import dataclass

from ...snapshots import fsops
from ...snapshots.layerstream import LayerStream, StreamError
from ...snapshots.tarstream import BLK, CHR, FIFO, LNK, SYM, Entry, TarError, TarReader
from .securefs import O_DIR, ContainerFS, ReadOnlyPath, Resolved

_TMP_PREFIX = ".dockyard-cp-"
_O_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_NODE_KIND = {CHR: stat.S_IFCHR, BLK: stat.S_IFBLK, FIFO: stat.S_IFIFO}
ROOTFS_READONLY = "container rootfs is marked read-only"
VOLUME_READONLY = "mounted volume is marked read-only"


class ExtractError(Exception):
    """The archive cannot be extracted as asked (bad input or a conflict); one line."""


class ReadOnlyError(ExtractError):
    pass


@dataclass(frozen=True)
class Options:
    no_overwrite_dir_nondir: bool = False
    chown: tuple[int, int] | None = None   # owner of everything extracted (copyUIDGID)
    same_owner: bool | None = None         # keep the archive's owners (default: when root)


# -- the byte stream -------------------------------------------------------------------------------
class _Prefixed:
    def __init__(self, head: bytes, raw):
        self._head, self._raw = head, raw

    def read(self, n: int) -> bytes:
        if self._head:
            out, self._head = self._head[:n], self._head[n:]
            return out
        return self._raw.read(n)


class _Decompressed:
    """bzip2 / xz (concatenated streams too) as a reader."""

    def __init__(self, raw, factory, what: str):
        self._raw, self._factory, self._what = raw, factory, what
        self._dec = factory()
        self._buf = b""
        self._eof = False

    def read(self, n: int) -> bytes:
        while not self._buf and not self._eof:
            if self._dec.eof:
                rest = self._dec.unused_data
                if not rest:
                    rest = self._raw.read(1 << 16)
                if not rest or not rest.strip(b"\0"):
                    self._eof = True
                    break
                self._dec = self._factory()
                data = rest
            elif self._dec.needs_input:
                data = self._raw.read(1 << 16)
                if not data:
                    raise StreamError(f"{self._what} stream truncated")
            else:
                data = b""
            try:
                self._buf = self._dec.decompress(data, 1 << 20)
            except (OSError, lzma.LZMAError, EOFError) as e:
                raise StreamError(f"corrupt {self._what} stream: {e}") from None
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def open_stream(raw) -> LayerStream:
    """The tar bytes of ``raw`` (anything with ``read(n)``), decompressed as its magic says."""
    head = b""
    while len(head) < 6:
        b = raw.read(6 - len(head))
        if not b:
            break
        head += b
    src = _Prefixed(head, raw)
    if head.startswith(b"BZh"):
        src = _Decompressed(src, bz2.BZ2Decompressor, "bzip2")
    elif head.startswith(b"\xfd7zXZ\x00"):
        src = _Decompressed(src, lzma.LZMADecompressor, "xz")
    return LayerStream(src, "auto", None)


# -- extraction ------------------------------------------------------------------------------------
def components(name: str, dest: str) -> tuple[str, ...]:
    """An entry name's components below the destination (Go's filepath.Clean, then the check)."""
    if "\0" in name:
        raise ExtractError(f"tar entry {name!r}: the name contains a NUL byte")
    p = posixpath.normpath(name) if name else "."
    p = p.lstrip("/") or "."
    if p == ".." or p.startswith("../"):
        raise ExtractError(f'"{name}" is outside of "{dest}"')
    return tuple(c for c in p.split("/") if c not in ("", "."))


def _child(parent: str, name: str) -> str:
    return ("" if parent == "/" else parent) + "/" + name


def check_writable(r: Resolved) -> None:
    if not r.writable:
        raise ReadOnlyError(VOLUME_READONLY if r.mount is not None else ROOTFS_READONLY)


class Extractor:
    def __init__(self, fs: ContainerFS, dest: str, opts: Options = Options()):
        self.fs = fs
        self.dest = dest
        self.opts = opts
        self.same_owner = os.geteuid() == 0 if opts.same_owner is None else opts.same_owner
        self.dirs: list[tuple[str, Entry]] = []
        self._cache: tuple[str, Resolved] | None = None
        self.count = 0

    def run(self, raw) -> int:
        try:
            try:
                reader = TarReader(open_stream(raw))
                while True:
                    entry = reader.next()
                    if entry is None:
                        break
                    self._entry(entry, reader)
                    self.count += 1
            except (TarError, StreamError) as e:
                raise ExtractError(f"invalid tar stream: {e}") from None
            for cpath, e in self.dirs:
                self._dir_times(cpath, e)
        finally:
            self._forget()
        return self.count

    def _forget(self) -> None:
        if self._cache is not None:
            self._cache[1].close()
            self._cache = None

    def _parent(self, cpath: str) -> Resolved:
        """The directory ``cpath`` (made if missing), cached while nothing is removed."""
        if self._cache is not None and self._cache[0] == cpath:
            return self._cache[1]
        self._forget()
        try:
            r = self.fs.resolve(cpath, follow_last=True, create=True)
        except ReadOnlyPath as e:
            raise ReadOnlyError(VOLUME_READONLY if e.mount is not None else ROOTFS_READONLY) from None
        except NotADirectoryError as e:
            raise ExtractError(f"cannot extract into {e.filename or cpath}: not a directory") from None
        if r.name is not None:   # never write next to an entry that is not a directory
            r.close()
            raise ExtractError(f"cannot extract into {cpath}: not a directory")
        self._cache = (cpath, r)
        return r

    def _entry(self, e: Entry, reader: TarReader) -> None:
        comps = components(e.name, self.dest)
        if not comps:   # the destination itself
            if e.is_dir:
                return
            raise ExtractError(f"cannot overwrite directory \"{self.dest}\" with non-directory \"{e.name}\"")
        parent = self._parent(posixpath.join(self.dest, *comps[:-1]) if len(comps) > 1 else self.dest)
        check_writable(parent)
        cpath = _child(parent.path, comps[-1])
        mount = self.fs.mount_at(cpath)
        if mount is not None:
            self._onto_mount(e, cpath)
            return
        pfd, base = parent.dir_fd, comps[-1]
        existing = fsops.lstat_at(pfd, base)
        if existing is not None:
            is_dir = stat.S_ISDIR(existing.st_mode)
            if self.opts.no_overwrite_dir_nondir:
                if is_dir and not e.is_dir:
                    raise ExtractError(f"cannot overwrite directory \"{cpath}\" with non-directory \"{e.name}\"")
                if not is_dir and e.is_dir:
                    raise ExtractError(f"cannot overwrite non-directory \"{cpath}\" with directory \"{e.name}\"")
            if is_dir and not e.is_dir:
                if any(d.startswith(cpath + "/") for d in self.fs.mounts):
                    raise OSError(errno.EBUSY, f"extracting {cpath}: a mount point is below it")
                shutil.rmtree(base, dir_fd=pfd)
                existing = None
            elif not is_dir and not e.is_regular:   # a regular file replaces by rename
                os.unlink(base, dir_fd=pfd)
                existing = None
        try:
            self._create(e, reader, pfd, base, existing, cpath, parent)
        except ConnectionError:   # the client went away: not the file system's fault
            raise
        except OSError as err:
            raise OSError(err.errno, f"extracting {cpath}: {err.strerror or err}") from None

    def _onto_mount(self, e: Entry, cpath: str) -> None:
        """An entry that lands on a mount point: a directory merges into the mount, anything
        else would replace the mount point (EBUSY in the container too)."""
        with self.fs.open_mount(self.fs.mount_at(cpath)) as r:
            check_writable(r)
            if not e.is_dir or r.name is not None:
                raise OSError(errno.EBUSY, f"extracting {cpath}: device or resource busy")
            self._meta(e, fd=r.dir_fd, mode=stat.S_IFDIR)
        self.dirs.append((cpath, e))

    def _create(self, e: Entry, reader: TarReader, pfd: int, base: str, existing, cpath: str,
                parent: Resolved) -> None:
        if e.is_dir:
            if existing is None:
                os.mkdir(base, 0o700, dir_fd=pfd)
            fd = os.open(base, O_DIR, dir_fd=pfd)
            try:
                self._meta(e, fd=fd, mode=stat.S_IFDIR)
            finally:
                os.close(fd)
            self.dirs.append((cpath, e))
            return
        if e.is_regular:
            self._regular(e, reader, pfd, base)
            return
        if e.type == SYM:
            if not e.linkname or "\0" in e.linkname:
                raise ExtractError(f"tar entry {e.name!r}: invalid symlink target")
            os.symlink(e.linkname, base, dir_fd=pfd)
            self._meta(e, dirfd=pfd, name=base, mode=stat.S_IFLNK)
        elif e.type == LNK:
            self._hardlink(e, pfd, base, parent)
        elif e.type in _NODE_KIND:
            kind = _NODE_KIND[e.type]
            os.mknod(base, kind | 0o600, os.makedev(e.devmajor, e.devminor), dir_fd=pfd)
            self._meta(e, dirfd=pfd, name=base, mode=kind)

    def _regular(self, e: Entry, reader: TarReader, pfd: int, base: str) -> None:
        tmp = _TMP_PREFIX + os.urandom(8).hex()
        fd = os.open(tmp, _O_NEW, 0o600, dir_fd=pfd)
        try:
            try:
                for chunk in reader.data():
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view):]
                self._meta(e, fd=fd, mode=stat.S_IFREG)
            finally:
                os.close(fd)
            os.rename(tmp, base, src_dir_fd=pfd, dst_dir_fd=pfd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=pfd)
            except OSError:
                pass
            raise

    def _hardlink(self, e: Entry, pfd: int, base: str, parent: Resolved) -> None:
        try:
            tcomps = components(e.linkname, self.dest)
        except ExtractError:
            raise ExtractError(f'invalid hardlink "{e.name}" -> "{e.linkname}"') from None
        if not tcomps:
            raise ExtractError(f'invalid hardlink "{e.name}" -> "{e.linkname}": a directory')
        try:
            target = self.fs.resolve(posixpath.join(self.dest, *tcomps), follow_last=False)
        except (FileNotFoundError, NotADirectoryError):
            raise ExtractError(f"hard link target {e.linkname!r} of {e.name!r} does not exist") from None
        with target:
            if target.name is None or stat.S_ISDIR(target.lstat().st_mode):
                raise ExtractError(f"hard link target {e.linkname!r} of {e.name!r} is a directory")
            if target.mount != parent.mount:
                raise OSError(errno.EXDEV, "invalid cross-device link")
            os.link(target.name, base, src_dir_fd=target.dir_fd, dst_dir_fd=pfd, follow_symlinks=False)

    def _meta(self, e: Entry, *, fd: int | None = None, dirfd: int | None = None, name: str | None = None,
              mode: int) -> None:
        """Owner, xattrs, mode, times: on ``fd``, or on dirfd/name without following it."""
        owner = self.opts.chown or ((e.uid, e.gid) if self.same_owner else None)
        if owner is not None:
            if fd is not None:
                os.fchown(fd, *owner)
            else:
                os.chown(name, *owner, dir_fd=dirfd, follow_symlinks=False)
        for key in sorted(e.xattrs):
            if key.startswith(fsops.OVERLAY_XATTR_PREFIX):
                continue
            target = fd if fd is not None else fsops.proc_path(dirfd, name)
            try:
                fsops.set_xattr(target, key, e.xattrs[key], mode)
            except OSError as err:
                if err.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                    continue   # as dockerd: not every file system (or namespace) takes every xattr
                raise OSError(err.errno, f"setting xattr {key}: {err.strerror}") from None
        if mode != stat.S_IFLNK:
            if fd is not None:
                os.fchmod(fd, e.mode & 0o7777)
            else:
                try:
                    os.chmod(name, e.mode & 0o7777, dir_fd=dirfd, follow_symlinks=False)
                except NotImplementedError:   # it became a symlink meanwhile: leave it
                    raise OSError(errno.ELOOP, "replaced by a symlink while it was extracted") from None
        if mode == stat.S_IFDIR:
            return   # at the end
        mtime = fsops.bound_ns(e.mtime_ns)
        atime = max(mtime, fsops.bound_ns(e.atime_ns)) if e.atime_ns is not None else mtime
        if fd is not None:
            os.utime(fd, ns=(atime, mtime))
        else:
            os.utime(name, ns=(atime, mtime), dir_fd=dirfd, follow_symlinks=False)

    def _dir_times(self, cpath: str, e: Entry) -> None:
        try:
            r = self.fs.resolve(cpath, follow_last=False)
        except (FileNotFoundError, NotADirectoryError):
            return
        with r:
            if not r.writable:
                return   # a symlink swapped in since leads into a read-only mount
            try:
                fd = r.open_dir()
            except OSError:
                return   # replaced by something else since
        try:
            mtime = fsops.bound_ns(e.mtime_ns)
            atime = max(mtime, fsops.bound_ns(e.atime_ns)) if e.atime_ns is not None else mtime
            os.utime(fd, ns=(atime, mtime))
        finally:
            os.close(fd)


def extract(fs: ContainerFS, dest: str, raw, opts: Options = Options()) -> int:
    """Extract the tar stream ``raw`` into the directory ``dest`` (a resolved container path);
    returns the number of entries."""
    return Extractor(fs, dest, opts).run(raw)
