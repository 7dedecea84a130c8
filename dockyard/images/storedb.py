"""The image store's metadata database (sqlite3, WAL, synchronous=FULL).

Every change runs in one ``BEGIN IMMEDIATE`` transaction, so a process killed
at any point leaves either the old state or the new one, never a mix.

Tables::

    images     id (config digest), created, platform, size, parent, last_tag_time
    manifests  digest -> image_id, media_type, layers (JSON [[digest, media_type, size], ...])
    indexes    index digest -> manifest digest it led to (kept for repo digests)
    refs       full reference string -> image_id, kind ('tag' | 'digest'), repo
    layers     cache per layer blob: diff_id, unpacked size
    leases     blobs protected from GC while a pull or load is in flight
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    created_unix INTEGER NOT NULL,
    created_nanos INTEGER NOT NULL,
    os TEXT NOT NULL,
    architecture TEXT NOT NULL,
    variant TEXT NOT NULL,
    size INTEGER NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    last_tag_time TEXT NOT NULL DEFAULT '',
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS manifests (
    digest TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    media_type TEXT NOT NULL,
    layers TEXT NOT NULL,
    added REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS manifests_image ON manifests(image_id);
CREATE TABLE IF NOT EXISTS indexes (
    digest TEXT NOT NULL,
    manifest TEXT NOT NULL REFERENCES manifests(digest) ON DELETE CASCADE,
    media_type TEXT NOT NULL,
    PRIMARY KEY (digest, manifest)
);
CREATE TABLE IF NOT EXISTS refs (
    ref TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest')),
    repo TEXT NOT NULL,
    added REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS refs_image ON refs(image_id);
CREATE TABLE IF NOT EXISTS layers (
    digest TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    diff_id TEXT NOT NULL,
    unpacked_size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lease_blobs (
    lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (lease_id, digest)
);
"""


class StoreDB:
    """One sqlite connection shared by the threads of a process, behind a lock."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._depth = 0
        c = self._conn
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=FULL")
        c.execute("PRAGMA foreign_keys=ON")
        c.execute("PRAGMA busy_timeout=30000")
        with self.write():
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    c.execute(stmt)
            row = c.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                c.execute("INSERT INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise RuntimeError(f"image store {self.path}: schema {row[0]} is newer than this dockyard ({SCHEMA_VERSION})")

    @contextlib.contextmanager
    def write(self):
        """A write transaction (nested calls join the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def read(self):
        """A consistent snapshot for several queries."""
        with self._lock:
            if self._depth:
                yield self._conn
                return
            self._conn.execute("BEGIN")
            self._depth = 1
            try:
                yield self._conn
            finally:
                self._depth = 0
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def integrity_check(self) -> str:
        with self._lock:
            return self._conn.execute("PRAGMA integrity_check").fetchone()[0]
