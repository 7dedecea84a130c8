"""Blob upload sessions: resumable, lockable, hashed as they arrive, safe against crashes.

Layout: ``uploads/<uuid>/info`` (JSON: repository, start time) and ``uploads/<uuid>/data`` (the
bytes received so far). A request works on a session through ``Session``, which holds an
exclusive ``flock`` on the data file (another request on the same upload gets ``UploadBusy``,
in this process or another). The running hash lives in memory between requests; after a restart,
or when a chunk was rolled back, it is recomputed from the data file. ``commit`` verifies the
digest, fsyncs and renames the data into the blob store: the blob is complete or absent.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid as uuidlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from dockyard.images import digest as dg

from . import fsutil
from .blobs import BlobStore

WRITEBACK_EVERY = 8 << 20     # bytes written between two writeback starts (see ``fsutil.start_writeback``)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_STATES = 4096


class UploadBusy(Exception):
    """Another request is writing to this upload."""


class UploadGone(Exception):
    """The upload was cancelled or purged while it was in use."""


class DigestMismatch(Exception):
    def __init__(self, expected: str, got: str):
        super().__init__(f"digest mismatch: got {got}, expected {expected}")
        self.expected, self.got = expected, got


@dataclass
class UploadInfo:
    uuid: str
    name: str
    started: float


class Uploads:
    def __init__(self, root: Path, blobs: BlobStore, sync: bool = True):
        self.root = root
        self.blobs = blobs
        self.sync = sync
        root.mkdir(parents=True, exist_ok=True)
        self._states: OrderedDict[str, tuple[str, int, object]] = OrderedDict()
        self._lock = threading.Lock()

    def _dir(self, uuid: str) -> Path:
        if not UUID_RE.fullmatch(uuid):
            raise ValueError(f"invalid upload id {uuid!r}")
        return self.root / uuid

    def create(self, name: str) -> str:
        uuid = str(uuidlib.uuid4())
        d = self._dir(uuid)
        d.mkdir()
        info = json.dumps({"name": name, "started": time.time()}).encode()
        fsutil.atomic_write(d / "info", info, d, sync=False)
        fsutil.touch(d / "data")
        return uuid

    def info(self, uuid: str) -> UploadInfo | None:
        if not UUID_RE.fullmatch(uuid):
            return None
        data = fsutil.read_small(self._dir(uuid) / "info", 8192)
        if data is None:
            return None
        try:
            doc = json.loads(data)
            return UploadInfo(uuid, str(doc["name"]), float(doc["started"]))
        except (ValueError, KeyError, TypeError):
            return None

    def size(self, uuid: str) -> int | None:
        try:
            return os.stat(self._dir(uuid) / "data").st_size
        except (FileNotFoundError, ValueError):
            return None

    def open(self, uuid: str) -> "Session":
        """Lock the upload for one request (``UploadBusy`` if another holds it)."""
        d = self._dir(uuid)
        try:
            fd = os.open(d / "data", os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise UploadGone(uuid) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UploadBusy(uuid) from None
        if not (d / "data").exists():   # cancelled between open and lock
            os.close(fd)
            raise UploadGone(uuid)
        return Session(self, uuid, fd)

    def cancel(self, uuid: str) -> bool:
        self._drop_state(uuid)
        try:
            d = self._dir(uuid)
        except ValueError:
            return False
        if not d.exists():
            return False
        shutil.rmtree(d, ignore_errors=True)
        return True

    def all(self) -> list[str]:
        try:
            return sorted(e for e in os.listdir(self.root) if UUID_RE.fullmatch(e))
        except FileNotFoundError:
            return []

    def purge(self, max_age: float, now: float | None = None) -> list[str]:
        """Remove uploads without activity for ``max_age`` seconds (not those in use)."""
        now = time.time() if now is None else now
        removed = []
        for uuid in self.all():
            d = self.root / uuid
            try:
                last = max(os.stat(p).st_mtime for p in (d / "data", d / "info", d) if p.exists())
            except (ValueError, FileNotFoundError):
                last = 0.0
            if now - last < max_age:
                continue
            try:
                fd = os.open(d / "data", os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            except FileNotFoundError:
                fd = None
            try:
                if fd is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue
                self.cancel(uuid)
                removed.append(uuid)
            finally:
                if fd is not None:
                    os.close(fd)
        return removed

    # -- hash states between requests -------------------------------------------------------

    def _take_state(self, uuid: str):
        with self._lock:
            return self._states.pop(uuid, None)

    def _put_state(self, uuid: str, algo: str, size: int, h) -> None:
        with self._lock:
            self._states[uuid] = (algo, size, h)
            self._states.move_to_end(uuid)
            while len(self._states) > MAX_STATES:
                self._states.popitem(last=False)

    def _drop_state(self, uuid: str) -> None:
        with self._lock:
            self._states.pop(uuid, None)


class Session:
    """One request's hold on an upload: append, roll back, verify and commit."""

    def __init__(self, uploads: Uploads, uuid: str, fd: int):
        self.uploads = uploads
        self.uuid = uuid
        self.fd = fd
        self.size = os.fstat(fd).st_size
        self._algo, self._hash = "sha256", None
        state = uploads._take_state(uuid)
        if state is not None and state[1] == self.size:
            self._algo, _, self._hash = state
        self.closed = False

    @property
    def path(self) -> Path:
        return self.uploads._dir(self.uuid) / "data"

    def hash_ready(self, algo: str = "sha256") -> bool:
        return self._hash is not None and self._algo == algo

    def rehash(self, algo: str = "sha256") -> None:
        """Recompute the running hash from the data on disk (slow: run it in a thread)."""
        h = hashlib.new(algo)
        pos = 0
        while pos < self.size:
            b = os.pread(self.fd, min(1 << 20, self.size - pos), pos)
            if not b:
                raise UploadGone(f"upload {self.uuid}: data file shrank")
            h.update(b)
            pos += len(b)
        self._algo, self._hash = algo, h

    def write(self, data) -> None:
        """Append a piece of the blob (the hash must be ready: see ``rehash``)."""
        if self._hash is None:
            raise RuntimeError(f"upload {self.uuid}: write before the hash was restored")
        try:
            fsutil.pwrite_all(self.fd, data, self.size)
        except OSError:
            os.ftruncate(self.fd, self.size)   # no half-written piece stays behind (e.g. ENOSPC)
            raise
        self._hash.update(data)
        before, self.size = self.size, self.size + len(data)
        if self.uploads.sync and before // WRITEBACK_EVERY != self.size // WRITEBACK_EVERY:
            start = (before // WRITEBACK_EVERY) * WRITEBACK_EVERY
            fsutil.start_writeback(self.fd, start, self.size - start)

    def truncate(self, size: int) -> None:
        """Roll back to ``size`` bytes (a chunk that did not match its Content-Range)."""
        os.ftruncate(self.fd, size)
        if size != self.size:
            self.size = size
            self._hash = None

    def digest(self, algo: str) -> str:
        if not self.hash_ready(algo):
            self.rehash(algo)
        return f"{algo}:{self._hash.hexdigest()}"

    def commit(self, expected: str) -> bool:
        """Verify against ``expected``, then publish the blob (slow: run it in a thread).

        Returns whether the blob is new to the store. Raises DigestMismatch."""
        algo = dg.parse(expected)[0]
        got = self.digest(algo)
        if got != expected:
            raise DigestMismatch(expected, got)
        if self.uploads.sync:
            os.fsync(self.fd)
        try:
            new = self.uploads.blobs.publish(self.path, expected)
        except FileNotFoundError:
            raise UploadGone(self.uuid) from None
        self.close(keep_state=False)
        self.uploads.cancel(self.uuid)
        return new

    def close(self, keep_state: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        if keep_state and self._hash is not None:
            self.uploads._put_state(self.uuid, self._algo, self.size, self._hash)
        os.close(self.fd)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

