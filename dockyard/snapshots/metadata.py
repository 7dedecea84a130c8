"""Snapshot metadata in one JSON file, changed in transactions.

A transaction holds an exclusive ``flock`` on ``<root>/lock`` (so threads and
processes are serialised), reads ``metadata.json``, and on success writes the
new document to a temporary file, fsyncs it and renames it over the old one:
a crash leaves either the old or the new document, never a torn one.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Iterator

VERSION = 1


class MetadataError(Exception):
    """The metadata file is unreadable or of an unknown version."""


def _empty() -> dict:
    return {"version": VERSION, "next_id": 1, "snapshots": {}}


class MetaStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.path = self.root / "metadata.json"
        self._lock_path = self.root / "lock"

    @contextlib.contextmanager
    def _locked(self, exclusive: bool):
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return _empty()
        except (OSError, ValueError) as e:
            raise MetadataError(f"snapshot metadata {str(self.path)!r} is unreadable: {e}") from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise MetadataError(f"snapshot metadata {str(self.path)!r} has an unknown format")
        return data

    def _save(self, data: dict) -> None:
        tmp = self.path.with_name(f".metadata.json.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            json.dump(data, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        dfd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def read(self) -> dict:
        """A consistent snapshot of the document (read-only use)."""
        with self._locked(False):
            return self._load()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict]:
        """Yield the document to change; it is saved if the block succeeds."""
        with self._locked(True):
            data = self._load()
            yield data
            self._save(data)
