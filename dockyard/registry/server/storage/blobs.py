"""The registry's blobs, stored once for all repositories, by digest.

Layout: ``blobs/<algorithm>/<first two hex digits>/<hex>`` (read-only files). A blob appears by
an atomic rename of a verified, fsynced file, so it is either complete or absent. Which
repository may see a blob is recorded apart (``repos.Repos``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from dockyard.images import digest as dg

from . import fsutil


class BlobStore:
    def __init__(self, root: Path, tmpdir: Path, sync: bool = True):
        self.root = root
        self.tmpdir = tmpdir
        self.sync = sync
        root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        algo, hexpart = dg.parse(digest)
        return self.root / algo / hexpart[:2] / hexpart

    def size(self, digest: str) -> int | None:
        """The blob's size, or None when the registry does not have it."""
        try:
            return os.stat(self.path(digest)).st_size
        except FileNotFoundError:
            return None

    def has(self, digest: str) -> bool:
        return self.size(digest) is not None

    def open(self, digest: str) -> int | None:
        """A read-only fd of the blob, or None."""
        try:
            return os.open(self.path(digest), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None

    def read(self, digest: str, limit: int) -> bytes | None:
        fd = self.open(digest)
        if fd is None:
            return None
        try:
            parts, left = [], limit + 1
            while left > 0:
                b = os.read(fd, min(left, 1 << 20))
                if not b:
                    break
                parts.append(b)
                left -= len(b)
            data = b"".join(parts)
        finally:
            os.close(fd)
        if len(data) > limit:
            raise ValueError(f"blob {digest} is larger than {limit} bytes")
        return data

    def publish(self, src: Path, digest: str) -> bool:
        """Move the verified file ``src`` into place as ``digest`` (fsync'd by the caller).

        Returns False when the blob was there already (``src`` is then removed)."""
        dest = self.path(digest)
        if dest.exists():
            fsutil.unlink_quiet(src)
            return False
        os.chmod(src, 0o444)
        try:
            os.rename(src, dest)
        except FileNotFoundError:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.rename(src, dest)
        if self.sync:
            fsutil.fsync_dir(dest.parent)
        return True

    def put_bytes(self, data: bytes, digest: str) -> bool:
        """Store small content (manifests) whose digest the caller computed."""
        if self.has(digest):
            return False
        fd, tmp = fsutil.temp_file(self.tmpdir, "blob")
        try:
            try:
                fsutil.write_all(fd, data)
                if self.sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            return self.publish(tmp, digest)
        except BaseException:
            fsutil.unlink_quiet(tmp)
            raise

    def remove(self, digest: str) -> bool:
        return fsutil.unlink_quiet(self.path(digest))

    def walk(self) -> Iterator[tuple[str, int]]:
        """Every stored blob: (digest, size)."""
        for algo, length in dg.ALGORITHMS.items():
            top = self.root / algo
            if not top.is_dir():
                continue
            for shard in sorted(os.listdir(top)):
                d = top / shard
                if len(shard) != 2 or not d.is_dir():
                    continue
                for name in sorted(os.listdir(d)):
                    if len(name) == length and name.startswith(shard):
                        try:
                            yield f"{algo}:{name}", os.stat(d / name).st_size
                        except FileNotFoundError:
                            continue
