"""Paths inside a container, resolved without ever leaving it (the class of CVE-2018-15664).

``ContainerFS`` is the container's file system as ``docker cp`` sees it: the rootfs, with the
container's volumes and bind mounts over it, served from their host sources. A path is resolved
one component at a time from directory file descriptors:

* each step opens one name with ``O_NOFOLLOW|O_DIRECTORY`` relative to the directory before it,
  so nothing the container changes meanwhile can make a step follow a symlink that was not read
  and resolved here (a name swapped between the lstat and the open fails the open and is looked
  at again);
* a symlink is read with readlinkat and its target resolved the same way, an absolute one from
  the container's root;
* ``..`` pops the path resolved so far (a stack of the descriptors already open): it never goes
  above the root, and the kernel is never asked for a parent directory, which a concurrent rename
  could have moved;
* once the resolved path is a mount's destination, the walk goes on in the mount's source.

Everything done afterwards (reading, writing, walking) is relative to the resolved descriptors,
and a final name is never followed. The rootfs and mount sources are host paths the daemon chose
(opened normally); everything below them belongs to the container and is untrusted.
"""
from __future__ import annotations

import errno
import os
import posixpath
import stat
from dataclasses import dataclass

O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_SYMLINKS = 255   # like filepath-securejoin
MAX_RETRIES = 64     # a name that keeps changing under us

_DIR, _MISSING, _NOTDIR = "dir", "missing", "notdir"


class ReadOnlyPath(OSError):
    """``create`` would have made a directory in a read-only mount (or a read-only rootfs)."""

    def __init__(self, path: str, mount: "Mount | None"):
        super().__init__(errno.EROFS, "read-only file system", path)
        self.mount = mount


@dataclass(frozen=True)
class Mount:
    """A volume or bind mount: ``destination`` in the container (resolved), ``source`` on the host
    (``subpath``: the part of a volume mounted, below ``source``)."""
    destination: str
    source: str
    rw: bool = True
    subpath: str = ""


class Resolved:
    """Where a container path leads: the entry ``name`` in the directory ``dir_fd``, or, when
    ``name`` is None, the directory ``dir_fd`` itself. ``exists`` is False when it does not exist
    (then ``dir_fd`` is -1). Owns ``dir_fd``: close it (or use ``with``)."""

    __slots__ = ("path", "dir_fd", "name", "mount", "writable", "exists")

    def __init__(self, path: str, dir_fd: int, name: str | None, mount: Mount | None, writable: bool,
                 exists: bool = True):
        self.path = path            # the resolved container path, "/" + components
        self.dir_fd = dir_fd
        self.name = name
        self.mount = mount          # the innermost mount the entry is in; None for the rootfs
        self.writable = writable    # the mount (or the rootfs) is read-write
        self.exists = exists

    def lstat(self) -> os.stat_result:
        if not self.exists:
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", self.path)
        if self.name is None:
            return os.fstat(self.dir_fd)
        return os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)

    def open_dir(self) -> int:
        """A new descriptor of the entry, which must be a directory (never followed)."""
        if not self.exists:
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", self.path)
        if self.name is None:
            return os.dup(self.dir_fd)
        return os.open(self.name, O_DIR, dir_fd=self.dir_fd)

    def close(self) -> None:
        if self.dir_fd >= 0:
            os.close(self.dir_fd)
            self.dir_fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"Resolved({self.path!r}, name={self.name!r}, exists={self.exists})"


class _Frame:
    __slots__ = ("name", "fd", "kind", "mount")

    def __init__(self, name: str, fd: int, kind: str, mount: Mount | None):
        self.name, self.fd, self.kind, self.mount = name, fd, kind, mount


def split(path: str) -> list[str]:
    return [c for c in path.split("/") if c not in ("", ".")]


def clean(path: str) -> str:
    """An absolute, lexically cleaned container path (Go's filepath.Join("/", path))."""
    if "\0" in path:
        raise ValueError("path contains a NUL byte")
    return posixpath.normpath("/" + path).replace("//", "/")


class ContainerFS:
    """The rootfs with mounts over it; ``mounts``: (destination, host source, rw[, subpath]) in any
    order."""

    def __init__(self, rootfs: str, mounts=(), *, rootfs_writable: bool = True):
        self.rootfs_writable = rootfs_writable
        self.root_fd = os.open(rootfs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.mounts: dict[str, Mount] = {}
        # tests set this to change the tree between a step's lstat and its open (a racing container)
        self.on_step = None
        try:
            for m in sorted(mounts, key=lambda m: len(split(m[0]))):
                self.add_mount(*m)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.root_fd >= 0:
            os.close(self.root_fd)
            self.root_fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def add_mount(self, destination: str, source: str, rw: bool = True, subpath: str = "") -> None:
        """Mount ``source`` at ``destination``, resolved in the container as the runtime does
        (deepest last, so a mount inside another one is found through it)."""
        with self.resolve(destination, follow_last=True, must_exist=False) as r:
            dest = r.path
        if dest != "/":
            self.mounts[dest] = Mount(dest, source, rw, subpath)

    # -- resolution -------------------------------------------------------------------------------
    def resolve(self, path: str, *, follow_last: bool = False, must_exist: bool = True,
                create: bool = False) -> Resolved:
        """Resolve ``path`` (absolute in the container) component by component.

        ``follow_last``: a symlink in the last place is followed too (otherwise it is the answer).
        ``must_exist``: raise FileNotFoundError when it does not exist (else ``exists`` is False and
        ``path`` is the lexical rest). ``create``: make missing directories (0755, root) on the way,
        never in a read-only mount or rootfs (ReadOnlyPath); the path then always resolves to a
        directory (``name`` None). A non-directory in the middle of the path (or at its end, with
        ``create``) raises NotADirectoryError; more than MAX_SYMLINKS symlinks raises ELOOP.
        """
        todo = split(path)
        todo.reverse()          # a stack: the next component is todo[-1]
        stack = [_Frame("", self.root_fd, _DIR, None)]
        links = 0
        try:
            while todo:
                c = todo.pop()
                last = not todo
                if c == "..":
                    if len(stack) > 1:
                        _close_frame(stack.pop())
                    continue
                top = stack[-1]
                cpath = _join(stack, c)
                m = self.mounts.get(cpath)
                if m is not None:
                    try:
                        fd, fname = self._open_source(m)
                    except FileNotFoundError:
                        stack.append(_Frame(c, -1, _MISSING, m))
                        continue
                    if fname is None:
                        stack.append(_Frame(c, fd, _DIR, m))
                        continue
                    if last and not create:   # a file mount: the file in its source's directory
                        return Resolved(cpath, fd, fname, m, m.rw)
                    os.close(fd)
                    raise NotADirectoryError(errno.ENOTDIR, "not a directory", cpath)
                if top.kind == _NOTDIR:
                    raise NotADirectoryError(errno.ENOTDIR, "not a directory", _path(stack))
                if top.kind == _MISSING:
                    stack.append(_Frame(c, -1, _MISSING, top.mount))
                    continue
                for _ in range(MAX_RETRIES):
                    st = _lstat_at(top.fd, c)
                    if st is None:
                        if create:
                            if not self._writable(top.mount):
                                raise ReadOnlyPath(cpath, top.mount)
                            try:
                                os.mkdir(c, 0o755, dir_fd=top.fd)
                            except FileExistsError:
                                pass
                            continue
                        stack.append(_Frame(c, -1, _MISSING, top.mount))
                        break
                    if stat.S_ISLNK(st.st_mode):
                        if last and not follow_last and not create:
                            return self._answer(stack, c)
                        links += 1
                        if links > MAX_SYMLINKS:
                            raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
                        try:
                            target = os.readlink(c, dir_fd=top.fd)
                        except OSError as e:
                            if e.errno in (errno.EINVAL, errno.ENOENT):
                                continue   # no longer a symlink: look again
                            raise
                        if target.startswith("/"):
                            while len(stack) > 1:
                                _close_frame(stack.pop())
                        todo.extend(reversed(split(target)))
                        break
                    if not stat.S_ISDIR(st.st_mode):
                        if last and not create:
                            return self._answer(stack, c)
                        if create:
                            raise NotADirectoryError(errno.ENOTDIR, "not a directory", cpath)
                        stack.append(_Frame(c, -1, _NOTDIR, top.mount))
                        break
                    if last and not follow_last and not create:
                        return self._answer(stack, c)
                    if self.on_step is not None:
                        self.on_step(top.fd, c)
                    try:
                        fd = os.open(c, O_DIR, dir_fd=top.fd)
                    except OSError as e:
                        if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT):
                            continue   # swapped since the lstat: look again
                        raise
                    stack.append(_Frame(c, fd, _DIR, top.mount))
                    break
                else:
                    raise OSError(errno.EAGAIN, "path keeps changing while it is resolved", cpath)
            top = stack[-1]
            if top.kind == _DIR:
                fd = top.fd if len(stack) > 1 else os.dup(top.fd)
                if len(stack) > 1:
                    stack.pop()
                return Resolved(_path(stack + [top]), fd, None, top.mount, self._writable(top.mount))
            if top.kind == _NOTDIR:   # only reached through ".." in a symlink target
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", _path(stack))
            if must_exist:
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", _path(stack))
            return Resolved(_path(stack), -1, None, top.mount, self._writable(top.mount), exists=False)
        finally:
            for f in stack[1:]:
                _close_frame(f)

    def _answer(self, stack: list[_Frame], name: str) -> Resolved:
        """The entry ``name`` in the directory on top of the stack (dup'd: the stack is closed)."""
        top = stack[-1]
        return Resolved(_join(stack, name), os.dup(top.fd), name, top.mount, self._writable(top.mount))

    def _writable(self, mount: Mount | None) -> bool:
        return self.rootfs_writable if mount is None else mount.rw

    def _open_source(self, m: Mount) -> tuple[int, str | None]:
        """(descriptor, None) for a directory source, (descriptor of its directory, name) for a
        file. The source is a host path (opened normally); a volume's ``subpath`` is inside the
        volume, so the container controls it: it is walked without following any symlink.
        FileNotFoundError when there is nothing (usable) there."""
        try:
            fd = os.open(m.source, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except NotADirectoryError:
            if m.subpath:
                raise FileNotFoundError(errno.ENOENT, "volume is not a directory", m.destination) from None
            parent, base = os.path.split(os.path.realpath(m.source))
            return os.open(parent or "/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), base
        comps = split(m.subpath)
        try:
            for i, c in enumerate(comps):
                st = _lstat_at(fd, c)
                if st is None or stat.S_ISLNK(st.st_mode):
                    raise FileNotFoundError(errno.ENOENT, "volume subpath does not exist", m.destination)
                if not stat.S_ISDIR(st.st_mode):
                    if i == len(comps) - 1 and stat.S_ISREG(st.st_mode):
                        return fd, c
                    raise FileNotFoundError(errno.ENOENT, "volume subpath does not exist", m.destination)
                try:
                    nfd = os.open(c, O_DIR, dir_fd=fd)
                except OSError:
                    raise FileNotFoundError(errno.ENOENT, "volume subpath does not exist", m.destination) from None
                os.close(fd)
                fd = nfd
        except BaseException:
            os.close(fd)
            raise
        return fd, None

    def mount_at(self, path: str) -> Mount | None:
        """The mount whose destination is exactly ``path`` (resolved), if any."""
        return self.mounts.get(path)

    def open_mount(self, m: Mount) -> Resolved:
        """The mount's source as an entry (a directory: ``name`` None; a file: in its directory)."""
        fd, name = self._open_source(m)
        return Resolved(m.destination, fd, name, m, m.rw)

    def read_file(self, path: str, limit: int = 16 << 20) -> bytes | None:
        """The contents of a regular file in the container (symlinks followed in scope); None when
        it does not exist or is not a regular file; refuses files larger than ``limit``."""
        try:
            r = self.resolve(path, follow_last=True)
        except (FileNotFoundError, NotADirectoryError):
            return None
        with r:
            if r.name is None:
                return None
            fd = os.open(r.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=r.dir_fd)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            if st.st_size > limit:
                raise OSError(errno.EFBIG, f"{path} is larger than {limit} bytes")
            chunks, total = [], 0
            while True:
                b = os.read(fd, 1 << 16)
                if not b:
                    return b"".join(chunks)
                total += len(b)
                if total > limit:
                    raise OSError(errno.EFBIG, f"{path} is larger than {limit} bytes")
                chunks.append(b)
        finally:
            os.close(fd)


def _lstat_at(dirfd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _close_frame(f: _Frame) -> None:
    if f.fd >= 0:
        os.close(f.fd)
        f.fd = -1


def _path(stack: list[_Frame]) -> str:
    return "/" + "/".join(f.name for f in stack[1:])


def _join(stack: list[_Frame], name: str) -> str:
    return "/" + "/".join([f.name for f in stack[1:]] + [name])
