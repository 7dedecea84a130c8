"""Unpacking images into the snapshotter, once per chain ID, with Docker's "Extracting" progress.

Layers are applied one at a time (bottom first) under a per-chain lock, so two pulls or
container creates that need the same layer apply it once. The reader handed to the layer
applier reports how much of the (compressed) blob it has consumed.
"""
from __future__ import annotations

import os
import threading
from typing import Callable, Sequence

from dockyard.snapshots import unpack as snap_unpack
from dockyard.snapshots.apply import ApplyResult
from dockyard.snapshots.snapshotter import Kind, NotFound, SnapshotError, Snapshotter

# on_read(index of the layer, bytes consumed so far, blob size)
OnRead = Callable[[int, int, int], None]


class _CountingReader:
    """Opens a blob on first read and reports the bytes consumed."""

    def __init__(self, path: str | os.PathLike, report: Callable[[int], None]):
        self._path, self._report = path, report
        self._f = None
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        if self._f is None:
            self._f = open(self._path, "rb")
        b = self._f.read(n)
        if b:
            self.consumed += len(b)
            self._report(self.consumed)
        return b

    def readinto(self, buf) -> int:
        b = self.read(len(buf))
        buf[: len(b)] = b
        return len(b)

    def close(self) -> None:
        if self._f is not None:
            self._f.close()


class Unpacker:
    def __init__(self, snapshotter: Snapshotter):
        self.snapshotter = snapshotter
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self.applied = 0  # layers applied by this process (tests check "once per chain")

    def _lock(self, chain: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(chain, threading.Lock())

    def committed(self, chain: str) -> bool:
        try:
            return self.snapshotter.stat(chain).kind == Kind.COMMITTED
        except NotFound:
            return False

    def unpack(self, layers: Sequence[tuple[str | os.PathLike, str]], on_read: OnRead | None = None,
               new: list[str] | None = None,
               on_applied: Callable[[int, ApplyResult], None] | None = None) -> str | None:
        """Apply [(blob path, diff_id)] bottom first; returns the top chain ID (None without layers).

        Chains committed by this call are appended to ``new`` (for cleanup by a caller that fails
        later). A layer that is already committed is not read again. ``on_applied(index, result)``
        is told of each layer applied (its diff ID and Docker size, for the image store).
        """
        if not layers:
            return None
        chains = snap_unpack.chain_ids([d for _, d in layers])
        for i, ((path, diff_id), chain) in enumerate(zip(layers, chains)):
            if self.committed(chain):
                continue
            with self._lock(chain):
                if self.committed(chain):
                    continue
                size = os.path.getsize(path)
                reader = _CountingReader(path, (lambda n, i=i, size=size: on_read(i, n, size)) if on_read
                                         else (lambda n: None))
                try:
                    snap_unpack.unpack(self.snapshotter, [*layers[:i], (reader, diff_id)],
                                       on_applied=on_applied)
                finally:
                    reader.close()
                self.applied += 1
                if new is not None:
                    new.append(chain)
        return chains[-1]

    def unpack_top(self, layers: Sequence[tuple[str | os.PathLike, str]], source,
                   new: list[str] | None = None,
                   on_applied: Callable[[int, ApplyResult], None] | None = None) -> str:
        """Apply the top layer of ``layers`` reading it from ``source`` (a file-like object, e.g. a
        blob still downloading); the layers below must be unpacked already. Returns its chain ID."""
        chain = snap_unpack.chain_ids([d for _, d in layers])[-1]
        if self.committed(chain):
            return chain
        with self._lock(chain):
            if self.committed(chain):
                return chain
            snap_unpack.unpack(self.snapshotter, [*layers[:-1], (source, layers[-1][1])], on_applied=on_applied)
            self.applied += 1
            if new is not None:
                new.append(chain)
        return chain

    def drop(self, chains: Sequence[str]) -> list[str]:
        """Remove chain snapshots that nothing is built on (children first); returns those removed.

        A chain a container's snapshot (or a kept chain) builds on stays.
        """
        removed: list[str] = []
        left = list(dict.fromkeys(reversed(list(chains))))
        progress = True
        while left and progress:
            progress = False
            for chain in list(left):
                with self._lock(chain):
                    try:
                        self.snapshotter.remove(chain)
                    except NotFound:
                        left.remove(chain)
                        continue
                    except SnapshotError:  # has children: maybe removable after them
                        continue
                removed.append(chain)
                left.remove(chain)
                progress = True
        return removed
