"""Crash-safe file operations: write a temporary file, fsync it, rename it into place.

A reader sees either the old file or the complete new one, never a part of it; a crash leaves at
most a temporary file in the store's ``tmp/`` directory, which ``Storage.clean_tmp`` removes.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path


def fsync_dir(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


_SYNC_FILE_RANGE_WRITE = 2
_libc = None


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing a range to disk now, without waiting (sync_file_range),
    so that the fsync before a rename has little left to do. Best effort."""
    global _libc
    if _libc is None:
        import ctypes
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
            _libc.sync_file_range.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        _libc.sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


def pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def temp_file(tmpdir: Path, prefix: str = "w") -> tuple[int, Path]:
    """A new, empty, exclusively created file in ``tmpdir``: (fd, path)."""
    while True:
        path = tmpdir / f"{prefix}-{os.urandom(12).hex()}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        return fd, path


def atomic_write(path: Path, data: bytes, tmpdir: Path, *, mode: int = 0o644, sync: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (its directory is created if needed)."""
    fd, tmp = temp_file(tmpdir)
    try:
        try:
            write_all(fd, data)
            os.fchmod(fd, mode)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.replace(tmp, path)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
    except BaseException:
        unlink_quiet(tmp)
        raise
    if sync:
        fsync_dir(path.parent)


def touch(path: Path) -> bool:
    """Create an empty file (and its directory); False if it already existed."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return touch(path)
    os.close(fd)
    return True


def unlink_quiet(path: str | os.PathLike) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def read_small(path: Path, limit: int = 1 << 20) -> bytes | None:
    """The content of a small metadata file, or None if it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno in (errno.ENOTDIR, errno.ELOOP):
            return None
        raise
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


def prune_empty_dirs(path: Path, stop: Path) -> None:
    """Remove ``path`` and its parents while they are empty, up to (not including) ``stop``."""
    while path != stop and stop in path.parents:
        try:
            os.rmdir(path)
        except OSError:
            return
        path = path.parent
