"""Content-addressable blob store.

Layout under ``root``::

    blobs/<algo>/<hex>        committed, verified blobs (read-only files)
    ingest/<key>/data         partial writes, resumable by key
    ingest/<key>/meta.json    expected digest and size of the ingest

A blob becomes visible only by an atomic rename after its digest and size were
verified, so a reader never sees partial content.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import BinaryIO, Iterator

from . import digest as dg


class ContentError(Exception):
    """Base error of the content store."""


class DigestMismatch(ContentError):
    pass


class SizeMismatch(ContentError):
    pass


class BlobNotFound(ContentError, KeyError):
    def __str__(self) -> str:  # KeyError quotes its argument; keep the message plain
        return f"blob not found: {self.args[0]}"


class Writer:
    """Streams one blob into the store; ``commit`` verifies and publishes it.

    Writers with a ``key`` are resumable: a new writer with the same key
    continues where the previous one stopped (``offset`` tells where).
    """

    def __init__(self, store: "ContentStore", key: str, expected: str | None, size: int | None):
        self.store = store
        self.expected = dg.validate(expected) if expected else None
        self.size = size
        algo = dg.parse(expected)[0] if expected else "sha256"
        self._dir = store.root / "ingest" / _safe_key(key)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._data = self._dir / "data"
        self._hash = hashlib.new(algo)
        self._algo = algo
        meta = {"expected": self.expected, "size": size}
        meta_path = self._dir / "meta.json"
        if meta_path.exists() and self._data.exists():
            try:
                old = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                old = None
            if old != meta:
                self._data.unlink()
        meta_path.write_text(json.dumps(meta))
        self._f = open(self._data, "ab+")
        self._f.seek(0)
        while True:  # re-hash what an earlier attempt already wrote
            b = self._f.read(1 << 20)
            if not b:
                break
            self._hash.update(b)
        self.offset = self._f.tell()
        self._done = False

    def write(self, data: bytes) -> None:
        self._f.write(data)
        self._hash.update(data)
        self.offset += len(data)
        if self.size is not None and self.offset > self.size:
            raise SizeMismatch(f"blob {self.expected}: more than the expected {self.size} bytes")

    def truncate(self) -> None:
        """Throw away what was written (a resume that cannot continue)."""
        self._f.seek(0)
        self._f.truncate()
        self._hash = hashlib.new(self._algo)
        self.offset = 0

    def commit(self) -> str:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        got = f"{self._algo}:{self._hash.hexdigest()}"
        try:
            if self.size is not None and self.offset != self.size:
                raise SizeMismatch(f"blob {self.expected or got}: got {self.offset} bytes, expected {self.size}")
            if self.expected and got != self.expected:
                raise DigestMismatch(f"digest mismatch: got {got}, expected {self.expected}")
            final = self.store._blob_path(got)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(self._data, 0o444)
            os.replace(self._data, final)
            return got
        finally:
            self._done = True
            shutil.rmtree(self._dir, ignore_errors=True)

    def abort(self) -> None:
        """Give up and discard the partial data."""
        if not self._f.closed:
            self._f.close()
        self._done = True
        shutil.rmtree(self._dir, ignore_errors=True)

    def close(self) -> None:
        """Stop writing but keep the partial data for a later resume."""
        if not self._f.closed:
            self._f.flush()
            self._f.close()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._done:
            self.close()


def _safe_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ContentStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        (self.root / "ingest").mkdir(parents=True, exist_ok=True)

    def _blob_path(self, digest: str) -> Path:
        algo, hexpart = dg.parse(digest)
        return self.root / "blobs" / algo / hexpart

    def has(self, digest: str) -> bool:
        return self._blob_path(digest).exists()

    def path(self, digest: str) -> Path:
        p = self._blob_path(digest)
        if not p.exists():
            raise BlobNotFound(digest)
        return p

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self._blob_path(digest), "rb")
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def read(self, digest: str) -> bytes:
        with self.open(digest) as f:
            return f.read()

    def writer(self, expected: str | None = None, size: int | None = None, key: str | None = None) -> Writer:
        return Writer(self, key or expected or os.urandom(16).hex(), expected, size)

    def put_bytes(self, data: bytes, expected: str | None = None) -> str:
        if expected and self.has(expected):
            if dg.of_bytes(data, dg.parse(expected)[0]) != expected:
                raise DigestMismatch(f"digest mismatch for {expected}")
            return expected
        w = self.writer(expected, len(data), key=os.urandom(16).hex())
        try:
            w.write(data)
        except BaseException:
            w.abort()
            raise
        return w.commit()

    def put_file(self, src: BinaryIO, expected: str | None = None, size: int | None = None) -> str:
        w = self.writer(expected, size, key=os.urandom(16).hex())
        try:
            while True:
                b = src.read(1 << 20)
                if not b:
                    break
                w.write(b)
        except BaseException:
            w.abort()
            raise
        return w.commit()

    def delete(self, digest: str) -> None:
        try:
            self._blob_path(digest).unlink()
        except FileNotFoundError:
            pass

    def walk(self) -> Iterator[str]:
        blobs = self.root / "blobs"
        for algo_dir in sorted(blobs.iterdir()):
            if algo_dir.name not in dg.ALGORITHMS:
                continue
            for f in sorted(algo_dir.iterdir()):
                yield f"{algo_dir.name}:{f.name}"
