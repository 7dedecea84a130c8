"""Copy a directory tree exactly: owners, modes (setuid included), xattrs
(file capabilities included), device nodes, fifos, hard links, symlinks and
times. Used by the native (copying) snapshotter. Symlinks are copied, never
followed.
"""
from __future__ import annotations

import errno
import os
import stat

from . import fsops


class CopyError(Exception):
    """A tree could not be copied; the message names the file."""


def copy_tree(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Copy src to the new directory dst (which must not exist)."""
    src, dst = str(src), str(dst)
    owner = os.geteuid() == 0
    links: dict[tuple[int, int], str] = {}
    dirs: list[tuple[str, os.stat_result, dict[str, bytes]]] = []
    stack = [(src, dst)]
    try:
        st = os.lstat(src)
        if not stat.S_ISDIR(st.st_mode):
            raise CopyError(f"copy source {src!r} is not a directory")
        os.mkdir(dst, 0o700)
        dirs.append((dst, st, fsops.list_xattrs(src)))
        while stack:
            sdir, ddir = stack.pop()
            with os.scandir(sdir) as it:
                entries = sorted(it, key=lambda e: e.name)
            for ent in entries:
                s, d = ent.path, os.path.join(ddir, ent.name)
                st = ent.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    os.mkdir(d, 0o700)
                    dirs.append((d, st, fsops.list_xattrs(s)))
                    stack.append((s, d))
                    continue
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in links:
                    os.link(links[key], d, follow_symlinks=False)
                    continue
                _copy_file(s, d, st, owner)
                if st.st_nlink > 1:
                    links[key] = d
        for d, st, xattrs in reversed(dirs):  # children before parents: times stay put
            fd = os.open(d, fsops.O_DIR)
            try:
                if owner:
                    os.fchown(fd, st.st_uid, st.st_gid)
                for k, v in xattrs.items():
                    fsops.set_xattr(fd, k, v, st.st_mode)
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
            finally:
                os.close(fd)
    except CopyError:
        raise
    except OSError as e:
        raise CopyError(f"copying {e.filename or src!r}: {e.strerror or e}") from None


def _copy_file(s: str, d: str, st: os.stat_result, owner: bool) -> None:
    mode = st.st_mode
    xattrs = fsops.list_xattrs(s)
    if stat.S_ISREG(mode):
        sfd = os.open(s, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            dfd = os.open(d, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                _copy_data(sfd, dfd)
                if owner:
                    os.fchown(dfd, st.st_uid, st.st_gid)  # before xattrs: chown drops capabilities
                for k, v in xattrs.items():
                    fsops.set_xattr(dfd, k, v, mode)
                os.fchmod(dfd, stat.S_IMODE(mode))
                os.utime(dfd, ns=(st.st_atime_ns, st.st_mtime_ns))
            finally:
                os.close(dfd)
        finally:
            os.close(sfd)
        return
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(s), d)
    else:  # char/block device, fifo, socket
        os.mknod(d, stat.S_IFMT(mode) | 0o600, st.st_rdev)
    if owner:
        os.chown(d, st.st_uid, st.st_gid, follow_symlinks=False)
    for k, v in xattrs.items():
        fsops.set_xattr(d, k, v, mode)
    if not stat.S_ISLNK(mode):
        os.chmod(d, stat.S_IMODE(mode))
    os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _copy_data(sfd: int, dfd: int) -> None:
    try:
        while True:
            n = os.copy_file_range(sfd, dfd, 1 << 30)
            if n == 0:
                return
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
    os.lseek(sfd, 0, os.SEEK_SET)
    os.lseek(dfd, 0, os.SEEK_SET)
    os.ftruncate(dfd, 0)
    while True:
        b = os.read(sfd, 1 << 20)
        if not b:
            return
        view = memoryview(b)
        while view:
            view = view[os.write(dfd, view):]
