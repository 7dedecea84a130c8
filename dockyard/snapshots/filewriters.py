"""Writing a layer's regular files from worker threads while the tar is being read.

Each file costs a few system calls (open, write, fchown, fchmod, utimensat, close), and creating
an inode can keep the kernel busy for a while (ext4 scans for a free inode, more so after many
files were deleted). Worker threads make those calls while the applier goes on parsing the
stream; the GIL is let go in every one of them.

The applier keeps the order right: ``busy(comps)`` tells whether a path or one of its parents is
still being written, ``barrier()`` waits for everything in flight and raises the first failure.
It calls ``barrier`` before anything that could see or touch a file in flight (removals, hard
links, whiteouts, directory listing, the end of the layer). Files are opened with O_EXCL and
O_NOFOLLOW relative to a directory fd the applier resolved, as it does itself.
"""
from __future__ import annotations

import collections
import concurrent.futures
import os
from typing import Callable

O_CREATE_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

WORKERS = 2
MAX_PENDING = 256  # files in flight
MAX_BYTES = 16 << 20  # their data in memory
MAX_FILE = 1 << 20  # larger files are written by the caller, streaming


class FileWriteError(Exception):
    """A file could not be written; ``name`` is its path in the layer, ``error`` the OSError."""

    def __init__(self, name: str, error: OSError):
        super().__init__(f"{name}: {error}")
        self.name, self.error = name, error


def write_file(dirfd: int, base: str, data: bytes, finish: Callable[[int], None]) -> None:
    """Create ``base`` in ``dirfd`` with ``data``, then ``finish(fd)`` (owner, mode, times)."""
    fd = os.open(base, O_CREATE_FILE, 0o600, dir_fd=dirfd)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        finish(fd)
    finally:
        os.close(fd)


class FileWriters:
    def __init__(self, workers: int = WORKERS, max_pending: int = MAX_PENDING, max_bytes: int = MAX_BYTES):
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="layer-files")
        self._max_pending, self._max_bytes = max_pending, max_bytes
        self._queue: collections.deque = collections.deque()  # (future, comps, size, dirfd), oldest first
        self._paths: collections.Counter = collections.Counter()
        self._bytes = 0

    def submit(self, name: str, comps: tuple[str, ...], dirfd: int, data: bytes,
               finish: Callable[[int], None]) -> None:
        """Write the entry ``name`` at ``comps`` (its last component in ``dirfd``, an fd this call
        takes over)."""
        while self._queue and (len(self._queue) >= self._max_pending or self._bytes + len(data) > self._max_bytes):
            self._reap_oldest()
        fut = self._pool.submit(self._run, dirfd, name, comps[-1], data, finish)
        self._queue.append((fut, comps, len(data), dirfd))
        self._paths[comps] += 1
        self._bytes += len(data)

    @staticmethod
    def _run(dirfd: int, name: str, base: str, data: bytes, finish) -> None:
        try:
            write_file(dirfd, base, data, finish)
        except OSError as e:
            raise FileWriteError(name, e) from None
        finally:
            os.close(dirfd)

    def _reap_oldest(self) -> None:
        fut, comps, size, _ = self._queue.popleft()
        self._bytes -= size
        self._paths[comps] -= 1
        if not self._paths[comps]:
            del self._paths[comps]
        try:
            fut.result()
        except BaseException:
            self.cancel()
            raise

    def busy(self, comps: tuple[str, ...]) -> bool:
        """Whether ``comps`` or one of its parents may still be being written."""
        while self._queue and self._queue[0][0].done():
            self._reap_oldest()
        if not self._paths:
            return False
        return any(comps[:i] in self._paths for i in range(1, len(comps) + 1))

    def barrier(self) -> None:
        """Wait for every file in flight; raises the first FileWriteError."""
        while self._queue:
            self._reap_oldest()

    def cancel(self) -> None:
        """Drop what has not started and wait for the rest, ignoring their errors."""
        for fut, _, _, dirfd in self._queue:
            if fut.cancel():
                os.close(dirfd)  # never started: its fd is still ours
        for fut, _, _, _ in self._queue:
            if fut.cancelled():
                continue
            try:
                fut.result()
            except BaseException:
                pass
        self._queue.clear()
        self._paths.clear()
        self._bytes = 0

    def close(self) -> None:
        self.cancel()
        self._pool.shutdown(wait=True)
