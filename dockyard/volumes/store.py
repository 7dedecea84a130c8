"""The local volume driver: a directory per volume, records in the daemon's database.

    <root>/<name>/_data    the volume's content (what containers mount)

Docker's rules: names match [a-zA-Z0-9][a-zA-Z0-9_.-]+; an anonymous volume gets a random
64-hex name and the label com.docker.volume.anonymous; a volume in use cannot be removed.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from typing import Callable, Iterable

from ..daemon.db import DB

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
ANON_LABEL = "com.docker.volume.anonymous"


class VolumeError(Exception):
    status = 500


class VolumeNotFound(VolumeError):
    status = 404

    def __init__(self, name: str):
        super().__init__(f"get {name}: no such volume")


class VolumeInUse(VolumeError):
    status = 409


class InvalidVolume(VolumeError):
    status = 400


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"


def dir_size(path: str) -> tuple[int, int]:
    size = count = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for n in filenames + dirnames:
            try:
                st = os.lstat(os.path.join(dirpath, n))
            except OSError:
                continue
            size += st.st_size if not os.path.isdir(os.path.join(dirpath, n)) else 0
            count += 1
    return size, count


class VolumeStore:
    """``users(name) -> [container ids]`` tells which containers use a volume."""

    def __init__(self, root: str, db: DB, users: Callable[[str], Iterable[str]] = lambda name: ()):
        self.root = root
        self.db = db
        self.users = users
        os.makedirs(root, mode=0o701, exist_ok=True)

    def path(self, name: str) -> str:
        return os.path.join(self.root, name, "_data")

    def create(self, name: str = "", driver: str = "local", labels: dict | None = None,
               options: dict | None = None, anonymous: bool = False) -> dict:
        if driver not in ("", "local"):
            raise InvalidVolume(f"create {name}: volume driver {driver!r} is not supported (only \"local\")")
        if options:
            raise InvalidVolume(f"create {name}: driver options are not supported by the local driver here: "
                                f"{', '.join(sorted(options))}")
        if not name:
            name = os.urandom(32).hex()
            anonymous = True
        if not _NAME.match(name):
            raise InvalidVolume(f"create {name}: \"{name}\" includes invalid characters for a local volume name, "
                                "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                                "directory, use absolute path")
        existing = self.db.get("volumes", name)
        if existing is not None:
            return existing  # docker: creating an existing volume returns it
        labels = dict(labels or {})
        if anonymous:
            labels.setdefault(ANON_LABEL, "")
        doc = {"Name": name, "Driver": "local", "Mountpoint": self.path(name), "CreatedAt": _now(),
               "Labels": labels, "Scope": "local", "Options": dict(options or {}), "Status": None}
        os.makedirs(self.path(name), mode=0o755, exist_ok=True)
        try:
            with self.db.write() as tx:
                tx.put("volumes", name, doc)
        except BaseException:
            shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)
            raise
        return doc

    def get(self, name: str) -> dict:
        doc = self.db.get("volumes", name)
        if doc is None:
            raise VolumeNotFound(name)
        return doc

    def inspect(self, name: str) -> dict:
        doc = dict(self.get(name))
        doc.pop("Status", None)
        return doc

    def list(self, filters: dict[str, list[str]] | None = None) -> list[dict]:
        out = []
        for doc in sorted(self.db.all("volumes"), key=lambda d: d["Name"]):
            if self._match(doc, filters or {}):
                d = dict(doc)
                d.pop("Status", None)
                out.append(d)
        return out

    def _match(self, doc: dict, f: dict[str, list[str]]) -> bool:
        for key, values in f.items():
            if key == "name" and not any(v in doc["Name"] for v in values):
                return False
            if key == "driver" and doc["Driver"] not in values:
                return False
            if key == "dangling":
                want = values[-1].lower() in ("true", "1")
                if want == bool(list(self.users(doc["Name"]))):
                    return False
            if key == "label":
                for lab in values:
                    k, eq, v = lab.partition("=")
                    if k not in doc["Labels"] or (eq and doc["Labels"][k] != v):
                        return False
            if key not in ("name", "driver", "dangling", "label"):
                raise InvalidVolume(f"invalid filter '{key}'")
        return True

    def remove(self, name: str, force: bool = False) -> None:
        doc = self.db.get("volumes", name)
        if doc is None:
            if force:
                return
            raise VolumeNotFound(name)
        users = list(self.users(name))
        if users:
            raise VolumeInUse(f"remove {name}: volume is in use - [{', '.join(users)}]")
        with self.db.write() as tx:
            tx.delete("volumes", name)
        shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)

    def prune(self, filters: dict[str, list[str]] | None = None) -> dict:
        filters = dict(filters or {})
        all_ = filters.pop("all", ["false"])[-1].lower() in ("true", "1")
        deleted, reclaimed = [], 0
        for doc in self.db.all("volumes"):
            if list(self.users(doc["Name"])):
                continue
            if not all_ and ANON_LABEL not in doc["Labels"]:
                continue
            if filters and not self._match(doc, filters):
                continue
            reclaimed += dir_size(self.path(doc["Name"]))[0]
            self.remove(doc["Name"])
            deleted.append(doc["Name"])
        return {"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed}

    def usage(self, name: str) -> dict:
        size, _ = dir_size(self.path(name))
        return {"Size": size, "RefCount": len(list(self.users(name)))}
