"""The daemon's embedded transactional store: sqlite (WAL, synchronous=FULL) under the data root.

Records are JSON documents keyed by id, one table per kind. Every change happens inside
``with db.write() as tx:`` (BEGIN IMMEDIATE … COMMIT), so a crash or kill -9 leaves either the
old or the new state, never half of a change.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading

SCHEMA = """
CREATE TABLE IF NOT EXISTS containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS execs (
    id TEXT PRIMARY KEY,
    container_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS execs_by_container ON execs(container_id);
CREATE TABLE IF NOT EXISTS volumes (
    name TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Tx:
    """Operations inside one transaction."""

    def __init__(self, conn: sqlite3.Connection):
        self.c = conn

    def put(self, table: str, key: str, doc: dict, **cols) -> None:
        pk = "id" if table != "volumes" else "name"
        names = [pk, *cols, "doc"]
        values = [key, *cols.values(), json.dumps(doc)]
        updates = ", ".join(f"{n} = excluded.{n}" for n in names[1:])
        # an upsert on the key only: a clash on another unique column (a container name) is an error
        self.c.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                       f"ON CONFLICT({pk}) DO UPDATE SET {updates}", values)

    def delete(self, table: str, key: str) -> None:
        col = "name" if table == "volumes" else "id"
        self.c.execute(f"DELETE FROM {table} WHERE {col} = ?", (key,))

    def execute(self, sql: str, args=()):
        return self.c.execute(sql, args)


class DB:
    def __init__(self, path: str):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA)

    @contextlib.contextmanager
    def write(self):
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self.conn)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def get(self, table: str, key: str) -> dict | None:
        col = "name" if table == "volumes" else "id"
        with self._lock:
            row = self.conn.execute(f"SELECT doc FROM {table} WHERE {col} = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, table: str) -> list[dict]:
        with self._lock:
            rows = self.conn.execute(f"SELECT doc FROM {table}").fetchall()
        return [json.loads(r[0]) for r in rows]

    def query(self, sql: str, args=()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            self.conn.close()
