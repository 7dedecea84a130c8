"""The build context: the tar a client sends with ``POST /build``, unpacked into a private directory.

The stream may be plain, gzip, bzip2, xz or zstd. Entry names are cleaned and must stay inside the
context (``../x`` is refused); every write is relative to a directory descriptor opened with
O_NOFOLLOW, so an entry below a symlink the archive made (``link/x`` with ``link -> /etc``) is
refused instead of followed. Symlinks are kept as they are: they are only ever resolved inside the
context (``securefs``), so one that points outside it cannot make the builder read host files.
Devices and FIFOs are skipped.

While regular files are written their contents are hashed: ``files`` maps every path to what a
COPY's cache key needs (type, mode, owner, link target, sha256 of the content), so checking the
cache does not read the context again.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from typing import BinaryIO

from ...daemon.containers.securefs import ContainerFS
from ...daemon.containers.tarin import ExtractError, components, open_stream
from ...snapshots.layerstream import StreamError
from ...snapshots.tarstream import BLOCK, DIR, LNK, REGULAR_TYPES, SYM, TarError, TarReader
from ..dockerignore import DockerignoreError, PatternMatcher, read_dockerignore
from .errors import ContextError

_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_DOCKERFILE = 16 << 20


@dataclass(frozen=True)
class FileInfo:
    """One context entry as a cache key sees it (no times: Docker's cache ignores them)."""
    kind: str          # "file", "dir", "symlink"
    mode: int          # permission bits (with setuid/setgid/sticky)
    uid: int = 0
    gid: int = 0
    size: int = 0
    link: str = ""     # symlink target
    digest: str = ""   # sha256 of a file's content

    def key(self) -> list:
        return [self.kind, self.mode, self.uid, self.gid, self.link, self.digest]


class BuildContext:
    """An unpacked build context under ``root`` (removed by ``close``)."""

    def __init__(self, root: str):
        self.root = root
        self.files: dict[str, FileInfo] = {}
        self.fs: ContainerFS | None = None

    # -- receiving ---------------------------------------------------------------------------------
    @classmethod
    def receive(cls, stream: BinaryIO, root: str) -> "BuildContext":
        """Unpack the tar ``stream`` into the new directory ``root``."""
        os.makedirs(root, mode=0o700)
        ctx = cls(root)
        try:
            _Unpacker(ctx).run(stream)
            ctx.fs = ContainerFS(root)
        except BaseException:
            ctx.close()
            raise
        return ctx

    def close(self) -> None:
        if self.fs is not None:
            self.fs.close()
            self.fs = None
        shutil.rmtree(self.root, ignore_errors=True)

    # -- reading ------------------------------------------------------------------------------------
    def read_file(self, rel: str, limit: int = MAX_DOCKERFILE) -> bytes | None:
        """A regular file of the context (symlinks resolved inside it), None when missing."""
        try:
            data = self.fs.read_file("/" + rel, limit)
        except IsADirectoryError:
            return None
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return None
            raise ContextError(f"reading {rel} from the build context: {e.strerror or e}") from None
        return data

    def dockerfile(self, name: str) -> tuple[str, bytes]:
        """The Dockerfile's path in the context and its bytes (``Dockerfile`` falls back to
        ``dockerfile``, as dockerd does)."""
        rel = _clean_rel(name)
        data = self.read_file(rel)
        if data is None and rel == "Dockerfile":
            data = self.read_file("dockerfile")
            rel = "dockerfile" if data is not None else rel
        if data is None:
            raise ContextError(f"Cannot locate specified Dockerfile: {name}")
        return rel, data

    def drop_build_files(self, dockerfile: str) -> None:
        """Remove .dockerignore and the Dockerfile from the context when .dockerignore excludes
        them (the client sent them only so the builder could read them)."""
        data = self.read_file(".dockerignore")
        if data is None:
            return
        try:
            pm = PatternMatcher(read_dockerignore(data))
        except DockerignoreError as e:
            raise ContextError(f"invalid .dockerignore: {e}") from None
        for rel in (".dockerignore", dockerfile):
            if pm.matches(rel):
                self.files.pop(rel, None)
                try:
                    os.unlink(os.path.join(self.root, rel))
                except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                    pass


def _clean_rel(name: str) -> str:
    try:
        comps = components(name, "the build context")
    except ExtractError as e:
        raise ContextError(f"invalid Dockerfile path {name!r}: {e}") from None
    if not comps:
        raise ContextError(f"invalid Dockerfile path {name!r}")
    return "/".join(comps)


class _Unpacker:
    def __init__(self, ctx: BuildContext):
        self.ctx = ctx
        self.root_fd = os.open(ctx.root, _O_DIR)
        self._dir: tuple[tuple[str, ...], int] | None = None
        self.dirs: list[tuple[tuple[str, ...], int, int]] = []

    def run(self, stream: BinaryIO) -> None:
        try:
            reader = TarReader(_LenientEnd(open_stream(stream)))
            for e in reader:
                try:
                    comps = components(e.name, "the build context")
                except ExtractError as err:
                    raise ContextError(f"invalid build context: {err}") from None
                if not comps:
                    continue
                self._entry(comps, e, reader)
            for comps, mode, mtime in reversed(self.dirs):
                path = os.path.join(self.ctx.root, *comps)
                os.chmod(path, mode, follow_symlinks=False)
                os.utime(path, ns=(mtime, mtime), follow_symlinks=False)
        except (TarError, StreamError) as err:
            raise ContextError(f"invalid build context: the tar stream is corrupt: {err}") from None
        finally:
            self._close_dir()
            os.close(self.root_fd)

    # -- directories --------------------------------------------------------------------------------
    def _close_dir(self) -> None:
        if self._dir is not None and self._dir[1] != self.root_fd:
            os.close(self._dir[1])
        self._dir = None

    def _parent(self, comps: tuple[str, ...]) -> int:
        """A descriptor of the entry's parent directory, made as needed, never through a symlink."""
        parent = comps[:-1]
        if self._dir is not None and self._dir[0] == parent:
            return self._dir[1]
        self._close_dir()
        fd = self.root_fd
        try:
            for i, c in enumerate(parent):
                try:
                    nfd = os.open(c, _O_DIR, dir_fd=fd)
                except FileNotFoundError:
                    os.mkdir(c, 0o755, dir_fd=fd)
                    nfd = os.open(c, _O_DIR, dir_fd=fd)
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise ContextError(f"invalid build context: entry {'/'.join(comps)}: "
                                           f"{'/'.join(parent[:i + 1])} is not a directory") from None
                    raise
                if fd != self.root_fd:
                    os.close(fd)
                fd = nfd
        except BaseException:
            if fd != self.root_fd:
                os.close(fd)
            raise
        self._dir = (parent, fd)
        return fd

    @staticmethod
    def _clear(pfd: int, name: str, keep_dir: bool) -> bool:
        """Make room for a new entry; True when a directory is there and kept."""
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            if keep_dir:
                return True
            raise ContextError(f"invalid build context: {name} is both a directory and a file")
        os.unlink(name, dir_fd=pfd)
        return False

    # -- entries --------------------------------------------------------------------------------------
    def _entry(self, comps: tuple[str, ...], e, reader: TarReader) -> None:
        rel = "/".join(comps)
        pfd = self._parent(comps)
        name = comps[-1]
        mode = e.mode & 0o7777
        if e.type == DIR:
            if not self._clear(pfd, name, keep_dir=True):
                os.mkdir(name, 0o700, dir_fd=pfd)
            self.dirs.append((comps, mode, e.mtime_ns))
            self.ctx.files[rel] = FileInfo("dir", mode, e.uid, e.gid)
        elif e.type in REGULAR_TYPES:
            self._clear(pfd, name, keep_dir=False)
            h = hashlib.sha256()
            fd = os.open(name, _O_NEW, 0o600, dir_fd=pfd)
            try:
                size = 0
                for chunk in reader.data():
                    h.update(chunk)
                    _write_all(fd, chunk)
                    size += len(chunk)
                os.fchmod(fd, mode)
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                os.close(fd)
            self.ctx.files[rel] = FileInfo("file", mode, e.uid, e.gid, size, digest="sha256:" + h.hexdigest())
        elif e.type == SYM:
            self._clear(pfd, name, keep_dir=False)
            os.symlink(e.linkname, name, dir_fd=pfd)
            os.utime(name, ns=(e.mtime_ns, e.mtime_ns), dir_fd=pfd, follow_symlinks=False)
            self.ctx.files[rel] = FileInfo("symlink", 0o777, e.uid, e.gid, link=e.linkname)
        elif e.type == LNK:
            self._hardlink(comps, e.linkname)

    def _hardlink(self, comps: tuple[str, ...], linkname: str) -> None:
        try:
            target = components(linkname, "the build context")
        except ExtractError as err:
            raise ContextError(f"invalid build context: hard link {'/'.join(comps)}: {err}") from None
        info = self.ctx.files.get("/".join(target))
        if info is None or info.kind != "file":
            raise ContextError(f"invalid build context: hard link {'/'.join(comps)} to {linkname}, "
                               "which is not a file the archive holds")
        tfd = os.dup(self._parent(target))
        try:
            pfd = self._parent(comps)
            self._clear(pfd, comps[-1], keep_dir=False)
            os.link(target[-1], comps[-1], src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
        finally:
            os.close(tfd)
        self.ctx.files["/".join(comps)] = info


class _LenientEnd:
    """A tar stream that may end right after its last file's data, without the padding and the
    end-of-archive blocks: the Docker CLI sends such streams when it adds a Dockerfile from outside
    the context, and Go's tar reader (dockerd's) takes them as complete. A stream cut anywhere
    else is still an error."""

    def __init__(self, stream):
        self._s = stream
        self.ended = False

    def read(self, n: int) -> bytes:
        return b"" if self.ended else self._s.read(n)

    def read_exact(self, n: int) -> bytes:
        if n >= BLOCK or self.ended:
            return self._s.read_exact(n)
        data = self._s.read(n)
        if not data:   # the padding after the last file's data is missing: the end
            self.ended = True
            return b"\0" * n
        while len(data) < n:
            more = self._s.read(n - len(data))
            if not more:
                raise StreamError(f"stream truncated: wanted {n - len(data)} more bytes, got 0")
            data += more
        return data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
