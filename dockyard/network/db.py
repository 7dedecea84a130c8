"""The network state: one sqlite file (WAL, synchronous=FULL) under the state dir.

Every change runs inside ``with db.write() as tx:`` (BEGIN IMMEDIATE … COMMIT): a crash leaves the
old or the new state, never half of a change. Kernel changes made inside the block are undone by
their callers when the block raises, so state and kernel stay in step.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading

SCHEMA = """
CREATE TABLE IF NOT EXISTS networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pools (
    network_id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    subnet TEXT NOT NULL,
    gateway TEXT NOT NULL,
    ip_range TEXT NOT NULL,
    cursor INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS allocations (
    network_id TEXT NOT NULL,
    address TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (network_id, address)
);
CREATE TABLE IF NOT EXISTS endpoints (
    id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    container_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (network_id, container_id)
);
CREATE TABLE IF NOT EXISTS ports (
    key TEXT PRIMARY KEY,
    container_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Tx:
    def __init__(self, conn: sqlite3.Connection):
        self.c = conn

    def execute(self, sql: str, args=()):
        return self.c.execute(sql, args)

    def rows(self, sql: str, args=()) -> list:
        return self.c.execute(sql, args).fetchall()

    def one(self, sql: str, args=()):
        return self.c.execute(sql, args).fetchone()


class StateDB:
    def __init__(self, path: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
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

    @contextlib.contextmanager
    def read(self):
        with self._lock:
            yield Tx(self.conn)

    def close(self) -> None:
        with self._lock:
            self.conn.close()


def dumps(doc) -> str:
    return json.dumps(doc, sort_keys=True)


def loads(text: str):
    return json.loads(text)
