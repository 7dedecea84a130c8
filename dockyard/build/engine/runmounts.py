"""``RUN --mount``: what the step's container gets mounted, and what must be let go after it.

- ``type=cache``: a directory that outlives builds, one per ``id`` (default: the target path), under
  ``<data-root>/builder/cache-mounts``; made with ``mode``/``uid``/``gid`` the first time;
  ``sharing=locked`` holds an exclusive lock on it while the step runs (``shared`` and ``private``
  share it).
- ``type=bind``: a path of the build context, or of a stage's or image's files (``from=``), read-only
  unless ``rw`` is given — then the step writes to a throwaway copy, as BuildKit does.
- ``type=tmpfs``: a tmpfs (``size=`` limits it).

Sources are resolved inside their tree, so a bind of a context symlink cannot reach host files.
Secret and SSH mounts need a BuildKit session and are refused by name.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import posixpath
import shutil
from typing import Callable

from ...daemon.containers.securefs import ContainerFS
from ..mounts import BIND, CACHE, SECRET, SSH, TMPFS, Mount
from .errors import BuildError

# from= value -> host root of that stage's or image's files
TreeFor = Callable[[str], str]


class RunMounts:
    def __init__(self, mounts: tuple[Mount, ...], workdir: str, context_root: str, cache_root: str,
                 scratch_dir: str, tree_for: TreeFor):
        self.specs = mounts
        self.workdir = workdir or "/"
        self.context_root = context_root
        self.cache_root = cache_root
        self.scratch_dir = scratch_dir
        self.tree_for = tree_for
        self.api: list[dict] = []         # HostConfig.Mounts entries
        self.targets: list[str] = []      # mount points (stubs to leave out of the layer)
        self._locks: list[int] = []
        self._copies: list[str] = []

    def prepare(self) -> list[dict]:
        try:
            for m in self.specs:
                self._one(m)
        except BaseException:
            self.release()
            raise
        return self.api

    def release(self) -> None:
        for fd in self._locks:
            os.close(fd)
        self._locks = []
        for d in self._copies:
            if os.path.isdir(d) and not os.path.islink(d):
                shutil.rmtree(d, ignore_errors=True)
            elif os.path.lexists(d):
                os.unlink(d)
        self._copies = []

    def key(self) -> list:
        """What the mounts contribute to the step's cache key (their specs, not their contents:
        a cache mount's files are no input of the step's identity, as in BuildKit)."""
        return [[m.type, m.target, m.source, m.from_, m.readonly, m.id, m.sharing, m.mode, m.uid, m.gid,
                 m.size_limit] for m in self.specs]

    # -- one mount ------------------------------------------------------------------------------------------
    def _target(self, m: Mount) -> str:
        t = m.target if m.target.startswith("/") else posixpath.join(self.workdir, m.target)
        t = posixpath.normpath(t)
        if t == "/":
            raise BuildError(f"RUN --mount: cannot mount over the root (target {m.target!r})")
        return t

    def _one(self, m: Mount) -> None:
        if m.type in (SECRET, SSH):
            raise BuildError(f"RUN --mount=type={m.type} is not supported by this builder "
                             "(it needs a BuildKit session)")
        target = self._target(m)
        if m.type == CACHE:
            src = self._cache_dir(m)
            self.api.append({"Type": "bind", "Source": src, "Target": target, "ReadOnly": bool(m.readonly)})
        elif m.type == BIND:
            src = self._bind_source(m)
            if not m.readonly:
                src = self._throwaway_copy(src)
            self.api.append({"Type": "bind", "Source": src, "Target": target, "ReadOnly": bool(m.readonly)})
        elif m.type == TMPFS:
            entry: dict = {"Type": "tmpfs", "Target": target}
            if m.size_limit:
                entry["TmpfsOptions"] = {"SizeBytes": m.size_limit}
            self.api.append(entry)
        else:
            raise BuildError(f"RUN --mount: unsupported mount type {m.type!r}")
        self.targets.append(target)

    def _cache_dir(self, m: Mount) -> str:
        if m.from_:
            raise BuildError("RUN --mount=type=cache,from=... is not supported by this builder")
        name = hashlib.sha256(m.cache_id.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        path = os.path.join(self.cache_root, name)
        os.makedirs(self.cache_root, mode=0o700, exist_ok=True)
        if not os.path.isdir(path):
            tmp = f"{path}.new-{os.getpid()}-{os.urandom(4).hex()}"
            os.mkdir(tmp, 0o755)
            os.chmod(tmp, 0o755 if m.mode is None else m.mode)
            if m.uid is not None or m.gid is not None:   # else the daemon's own (root)
                os.chown(tmp, m.uid or 0, m.gid or 0)
            try:
                os.rename(tmp, path)
            except OSError:   # made meanwhile by another build
                os.rmdir(tmp)
        if m.sharing == "locked":
            fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._locks.append(fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        return path

    def _bind_source(self, m: Mount) -> str:
        root = self.tree_for(m.from_) if m.from_ else self.context_root
        with ContainerFS(root) as fs:
            try:
                with fs.resolve("/" + (m.source or "").lstrip("/"), follow_last=True) as r:
                    resolved = r.path
            except (FileNotFoundError, NotADirectoryError):
                where = f"stage or image {m.from_!r}" if m.from_ else "the build context"
                raise BuildError(f"RUN --mount: source {m.source or '/'!r} not found in {where}") from None
        return os.path.join(root, resolved.lstrip("/")) if resolved != "/" else root

    def _throwaway_copy(self, src: str) -> str:
        os.makedirs(self.scratch_dir, mode=0o700, exist_ok=True)
        dst = os.path.join(self.scratch_dir, "rw-" + os.urandom(8).hex())
        self._copies.append(dst)
        if os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
        return dst
