"""The registry's storage under one root directory::

    blobs/       content by digest, shared by all repositories (``blobs.BlobStore``)
    repositories/<name>/   links, tags and referrers of each repository (``repos.Repos``)
    uploads/     blob upload sessions (``uploads.Uploads``)
    tmp/         temporary files of atomic writes
    lock         ``flock``: shared while a server runs, exclusive during garbage collection

Everything is plain files made visible by atomic renames, so several server processes can share a
root, and a crash leaves nothing half-written (only temporary files and resumable uploads).
"""
from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from . import fsutil
from .blobs import BlobStore
from .repos import Repos
from .uploads import Uploads

TMP_MAX_AGE = 3600.0


class StorageLocked(RuntimeError):
    """The root is in use in a way that excludes what was asked."""


class Storage:
    def __init__(self, root: str | os.PathLike, sync: bool = True):
        self.root = Path(root).absolute()
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.sync = sync
        self.blobs = BlobStore(self.root / "blobs", self.tmp, sync)
        self.repos = Repos(self.root / "repositories", self.tmp, sync)
        self.uploads = Uploads(self.root / "uploads", self.blobs, sync)
        self._lock_fd: int | None = None

    def lock(self, exclusive: bool) -> None:
        """Hold the root's lock (shared: serving; exclusive: garbage collection)."""
        if self._lock_fd is not None:
            return
        fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if exclusive:
                raise StorageLocked(f"registry storage {self.root} is in use by a running server; "
                                    "stop it before collecting garbage") from None
            raise StorageLocked(f"registry storage {self.root} is locked by a garbage collection") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def clean_tmp(self, max_age: float = TMP_MAX_AGE) -> int:
        """Remove temporary files older than ``max_age`` (left by a crash). Returns how many."""
        now, n = time.time(), 0
        for name in os.listdir(self.tmp):
            path = self.tmp / name
            try:
                if now - os.lstat(path).st_mtime >= max_age:
                    n += fsutil.unlink_quiet(path)
            except (FileNotFoundError, IsADirectoryError):
                continue
        return n
