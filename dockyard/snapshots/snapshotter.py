"""The Snapshotter interface, modelled on containerd's core/snapshots.

A snapshot is a file-system state with an optional parent. ``prepare`` makes
an *active* snapshot (writable) on top of a committed parent, ``view`` a
read-only one; ``commit`` turns an active snapshot into a *committed* one
under a new name (image layers are committed under their chain ID); only
committed snapshots can be parents. Keys and names share one name space. A
snapshot with children cannot be removed.

On disk (``root``)::

    metadata.json          all snapshots (see metadata.py), replaced atomically
    snapshots/<id>/fs      the snapshot's files (overlay: its layer / upperdir)
    snapshots/<id>/work    overlay workdir of an active snapshot

A snapshot directory is built under a temporary name and renamed into place
before the metadata naming it is written; directories the metadata does not
name (left by a crash) are removed when the snapshotter is opened.
"""
from __future__ import annotations

import enum
import os
import shutil
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from . import fsops
from .metadata import MetaStore
from .mount import Mount, mountpoints


class Kind(str, enum.Enum):
    VIEW = "view"
    ACTIVE = "active"
    COMMITTED = "committed"


@dataclass(frozen=True)
class Info:
    name: str
    kind: Kind
    parent: str | None
    created: float
    updated: float
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    """Disk use of a snapshot itself, without its parents."""
    size: int
    inodes: int


@dataclass(frozen=True)
class Layers:
    """Where the changes of a snapshot live, for applying and diffing layers.

    ``whiteouts`` is "overlay" (``upper`` is an overlayfs layer, ``lowers``
    the parent layers top first) or "delete" (``upper`` holds the full
    content; ``lowers`` is the parent's full content, if any).
    """
    upper: str
    lowers: tuple[str, ...]
    whiteouts: str


class SnapshotError(Exception):
    """A snapshot operation was refused or failed; the message names the snapshot."""


class NotFound(SnapshotError):
    pass


class AlreadyExists(SnapshotError):
    pass


class InvalidState(SnapshotError):
    """Wrong kind of snapshot for the operation, or it still has children."""


def _check_key(key: str, what: str = "snapshot key") -> str:
    if not isinstance(key, str) or not key or len(key) > 1024 or "\0" in key:
        raise SnapshotError(f"invalid {what}: {key!r}")
    return key


class Snapshotter(ABC):
    driver = ""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(os.path.abspath(root))
        self._dirs = self.root / "snapshots"
        self._dirs.mkdir(parents=True, exist_ok=True)
        self._meta = MetaStore(self.root)
        self._cleanup()

    # -- backend hooks -------------------------------------------------------
    @abstractmethod
    def _populate(self, new: Path, kind: Kind, parents: list[str]) -> None:
        """Fill the new snapshot directory (``new/fs`` ...); parents: fs dirs, top first."""

    @abstractmethod
    def _mounts(self, kind: Kind, own: Path, parents: list[str]) -> list[Mount]:
        ...

    @abstractmethod
    def _layers(self, own: Path, parents: list[str]) -> Layers:
        ...

    # -- queries -------------------------------------------------------------
    def stat(self, key: str) -> Info:
        return self._info(key, self._get(self._meta.read(), key))

    def walk(self, kind: Kind | str | None = None, parent: str | None = None) -> Iterator[Info]:
        """All snapshots (sorted by name), optionally of one kind or one parent."""
        db = self._meta.read()["snapshots"]
        for name in sorted(db):
            rec = db[name]
            if kind is not None and rec["kind"] != Kind(kind).value:
                continue
            if parent is not None and rec["parent"] != parent:
                continue
            yield self._info(name, rec)

    def mounts(self, key: str) -> list[Mount]:
        db = self._meta.read()
        rec = self._get(db, key)
        if rec["kind"] == Kind.COMMITTED.value:
            raise InvalidState(f"snapshot {key!r} is committed: only active snapshots and views have mounts")
        return self._mounts(Kind(rec["kind"]), self._dir(rec), self._parent_dirs(db, rec["parent"]))

    def layers(self, key: str) -> Layers:
        """The directories of an active or committed snapshot's changes."""
        db = self._meta.read()
        rec = self._get(db, key)
        if rec["kind"] == Kind.VIEW.value:
            raise InvalidState(f"snapshot {key!r} is a view: it has no changes of its own")
        return self._layers(self._dir(rec), self._parent_dirs(db, rec["parent"]))

    def usage(self, key: str) -> Usage:
        rec = self._get(self._meta.read(), key)
        size, inodes = fsops.disk_usage(self._dir(rec) / "fs")
        return Usage(size, inodes)

    # -- changes -------------------------------------------------------------
    def prepare(self, key: str, parent: str | None = None, labels: dict[str, str] | None = None) -> list[Mount]:
        return self._create(Kind.ACTIVE, key, parent, labels)

    def view(self, key: str, parent: str | None = None, labels: dict[str, str] | None = None) -> list[Mount]:
        return self._create(Kind.VIEW, key, parent, labels)

    def commit(self, name: str, key: str, labels: dict[str, str] | None = None) -> None:
        _check_key(name, "snapshot name")
        with self._meta.transaction() as db:
            snaps = db["snapshots"]
            rec = self._get(db, key)
            if rec["kind"] != Kind.ACTIVE.value:
                raise InvalidState(f"snapshot {key!r} is {rec['kind']}: only an active snapshot can be committed")
            if name in snaps:
                raise AlreadyExists(f"snapshot {name!r} already exists")
            del snaps[key]
            rec = dict(rec, kind=Kind.COMMITTED.value, updated=time.time(),
                       labels={**rec.get("labels", {}), **(labels or {})})
            snaps[name] = rec

    def remove(self, key: str) -> None:
        """Remove a snapshot without children; refused while something is mounted inside it."""
        busy = mountpoints(self._dir(self._get(self._meta.read(), key)))
        if busy:
            raise InvalidState(f"snapshot {key!r} has a mount inside it ({busy[0]!r}); unmount it first")
        with self._meta.transaction() as db:
            snaps = db["snapshots"]
            rec = self._get(db, key)
            children = sorted(k for k, r in snaps.items() if r["parent"] == key)
            if children:
                raise InvalidState(f"snapshot {key!r} has {len(children)} child snapshot(s) "
                                   f"(first: {children[0]!r}); remove them first")
            del snaps[key]
        shutil.rmtree(self._dir(rec), ignore_errors=True)

    # -- internals -----------------------------------------------------------
    def _create(self, kind: Kind, key: str, parent: str | None, labels) -> list[Mount]:
        _check_key(key)
        db = self._meta.read()
        if key in db["snapshots"]:
            raise AlreadyExists(f"snapshot {key!r} already exists")
        parents = self._parent_dirs(db, parent)
        tmp = self._dirs / f"tmp-{os.getpid()}-{os.urandom(6).hex()}"
        final = None
        try:
            tmp.mkdir(mode=0o700)
            self._populate(tmp, kind, parents)
            with self._meta.transaction() as db:
                if key in db["snapshots"]:
                    raise AlreadyExists(f"snapshot {key!r} already exists")
                if self._parent_dirs(db, parent) != parents:
                    raise InvalidState(f"parent snapshot {parent!r} changed while {key!r} was prepared")
                sid = db["next_id"]
                db["next_id"] = sid + 1
                final = self._dirs / str(sid)
                os.rename(tmp, final)
                now = time.time()
                db["snapshots"][key] = {"id": sid, "kind": kind.value, "parent": parent,
                                        "created": now, "updated": now, "labels": dict(labels or {})}
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if final is not None and key not in self._meta.read()["snapshots"]:
                shutil.rmtree(final, ignore_errors=True)
            raise
        return self._mounts(kind, final, parents)

    @staticmethod
    def _get(db: dict, key: str) -> dict:
        rec = db["snapshots"].get(key)
        if rec is None:
            raise NotFound(f"snapshot {key!r} not found")
        return rec

    def _dir(self, rec: dict) -> Path:
        return self._dirs / str(rec["id"])

    def _parent_dirs(self, db: dict, parent: str | None) -> list[str]:
        """fs directories of parent and its ancestors, top first."""
        out: list[str] = []
        name = parent
        while name is not None:
            rec = db["snapshots"].get(name)
            if rec is None:
                raise NotFound(f"parent snapshot {name!r} not found")
            if rec["kind"] != Kind.COMMITTED.value:
                raise InvalidState(f"parent snapshot {name!r} is {rec['kind']}, not committed")
            out.append(str(self._dir(rec) / "fs"))
            name = rec["parent"]
        return out

    @staticmethod
    def _info(name: str, rec: dict) -> Info:
        return Info(name=name, kind=Kind(rec["kind"]), parent=rec["parent"], created=rec["created"],
                    updated=rec["updated"], labels=dict(rec.get("labels", {})))

    def _cleanup(self) -> None:
        """Remove snapshot directories that no metadata names (left by a crash)."""
        with self._meta.transaction() as db:
            ids = {str(r["id"]) for r in db["snapshots"].values()}
            for entry in os.listdir(self._dirs):
                if entry in ids:
                    continue
                if entry.startswith("tmp-"):
                    pid = entry.split("-")[1]
                    if pid.isdigit() and int(pid) != os.getpid() and os.path.exists(f"/proc/{pid}"):
                        continue  # another live process is building it
                shutil.rmtree(self._dirs / entry, ignore_errors=True)
