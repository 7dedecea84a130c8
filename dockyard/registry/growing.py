"""Following blobs while they download, so a layer can be unpacked before it is all there.

The puller writes a layer into a file of the content store's ingest area and tells a ``Growing``
how far it got; ``Growing.reader()`` opens that file and reads it as it grows, waiting at its
end until the download has moved on or finished. When the download has to start over (the
registry ignored a range request) or fails, the growing blob is *broken*: its readers raise
``FollowBroken`` and whoever reads should fall back to the committed blob.

A ``PullObserver`` hears from the puller (from its worker threads) about the manifest, each layer
download that starts from byte 0, and each blob once it is in the store.
"""
from __future__ import annotations

import os
import threading
import time

from dockyard.spec import image as spec


class FollowBroken(Exception):
    """The download being followed started over or failed."""


class Growing:
    def __init__(self, digest: str, path: str | os.PathLike):
        self.digest, self.path = digest, str(path)
        self.size = 0  # bytes written so far
        self.state = "running"  # then "done" (committed) or "broken"
        self._cond = threading.Condition()

    def grew(self, size: int) -> None:
        with self._cond:
            self.size = size
            self._cond.notify_all()

    def done(self) -> None:
        with self._cond:
            if self.state == "running":
                self.state = "done"
            self._cond.notify_all()

    def broken(self) -> None:
        with self._cond:
            if self.state == "running":
                self.state = "broken"
            self._cond.notify_all()

    def reader(self) -> "Follower":
        """A reader from byte 0; FileNotFoundError once the file was committed (read the blob then)."""
        return Follower(self)


class Follower:
    """Reads a growing blob; ``read`` blocks until there is data, b"" only at its committed end."""

    def __init__(self, g: Growing):
        self._g = g
        self._f = open(g.path, "rb")  # stays readable after the commit renames the file
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        g = self._g
        if n is None or n < 0:
            n = 1 << 20
        while True:
            with g._cond:
                while g.state == "running" and g.size <= self._pos:
                    g._cond.wait(1.0)
                state, avail = g.state, g.size - self._pos
            if state == "broken":
                raise FollowBroken(f"download of {g.digest} started over or failed")
            b = self._f.read(n if state == "done" else min(n, avail))
            if b:
                self._pos += len(b)
                return b
            if state == "done":
                return b""
            time.sleep(0.002)  # announced but still in the writer's buffer

    def close(self) -> None:
        self._f.close()


class PullObserver:
    """What a puller tells as it goes; the methods are called from its worker threads."""

    def manifest(self, m: spec.Manifest) -> None:
        pass

    def layer(self, desc: spec.Descriptor, growing: Growing) -> None:
        pass

    def blob(self, digest: str) -> None:
        pass
