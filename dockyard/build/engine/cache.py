"""The layer cache: which image a build step made, by the step's cache key.

Images are the cache: a step's result is an ordinary (usually untagged) image, and this table in
the daemon's database maps the step's key to it, so the cache survives daemon restarts and goes
away with the images (an entry whose image was removed is a miss, and is dropped).

A key is the sha256 of the parent image ID, the instruction after variable expansion and
everything else that decides the step's result (a RUN's environment, user and working directory;
a COPY's source names, types, modes, owners and contents). The first miss makes every later
step of the stage a miss too, since their parent is new.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Callable

SCHEMA = """
CREATE TABLE IF NOT EXISTS build_cache (
    key TEXT PRIMARY KEY,
    image_id TEXT NOT NULL,
    created REAL NOT NULL
);
"""
VERSION = 1


def cache_key(parent: str, kind: str, payload) -> str:
    """The key of a step: its parent image ("" for scratch), instruction kind and what it depends on."""
    doc = json.dumps({"v": VERSION, "parent": parent, "kind": kind, "payload": payload}, sort_keys=True,
                     separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(doc.encode("utf-8", "surrogatepass")).hexdigest()


class BuildCache:
    """Over a ``daemon.db.DB``-like store (``write()`` transactions, ``query``)."""

    def __init__(self, db, image_exists: Callable[[str], bool]):
        self.db = db
        self.image_exists = image_exists
        with db.write() as tx:
            for stmt in SCHEMA.strip().split(";"):
                if stmt.strip():
                    tx.execute(stmt)

    def get(self, key: str) -> str | None:
        rows = self.db.query("SELECT image_id FROM build_cache WHERE key = ?", (key,))
        if not rows:
            return None
        image_id = rows[0][0]
        if self.image_exists(image_id):
            return image_id
        with self.db.write() as tx:
            tx.execute("DELETE FROM build_cache WHERE key = ? AND image_id = ?", (key, image_id))
        return None

    def put(self, key: str, image_id: str) -> None:
        with self.db.write() as tx:
            tx.execute("INSERT INTO build_cache (key, image_id, created) VALUES (?, ?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id, created = excluded.created",
                       (key, image_id, time.time()))

    def count(self) -> int:
        return self.db.query("SELECT COUNT(*) FROM build_cache")[0][0]
