"""A running container's cgroup, found through its OCI runtime's state file.

``<runtime root>/<id>/state.json`` is written by the runtime: dockyard-runtime keeps its cgroup
manager's state under ``cgroup`` (reopened with ``dockyard.cgroups.load``), runc keeps
``cgroup_paths`` (controller -> directory; the key "" for cgroup v2). Either way the view lists the
processes (the cgroup and its descendants) and reads the statistics (``Manager.stats`` shape).
"""
from __future__ import annotations

import json
import os

from ...cgroups import CgroupError, load as load_manager
from ...cgroups import stats as cgstats
from ...cgroups import tree
from ...cgroups.files import CgroupFiles

_PID_CONTROLLERS = ("pids", "freezer", "memory", "devices", "cpu", "cpuacct", "blkio", "cpuset")


class ManagerView:
    def __init__(self, mgr):
        self.mgr = mgr
        self.version = mgr.version

    def pids(self) -> list[int]:
        return self.mgr.pids()

    def stats(self) -> dict:
        return self.mgr.stats()


class PathsView:
    """runc's ``cgroup_paths``."""

    def __init__(self, paths: dict[str, str], fs: CgroupFiles | None = None):
        self.paths = {k: v for k, v in paths.items() if isinstance(k, str) and isinstance(v, str) and v}
        self.fs = fs or CgroupFiles()
        self.version = 2 if "" in self.paths else 1

    def pids(self) -> list[int]:
        if self.version == 2:
            return sorted(tree.procs_recursive(self.paths[""], self.fs, "cgroup2"))
        for c in _PID_CONTROLLERS:
            if c in self.paths:
                return sorted(tree.procs_recursive(self.paths[c], self.fs, c))
        return []

    def stats(self) -> dict:
        if self.version == 2:
            return cgstats.v2_stats(self.paths[""], self.fs)
        return cgstats.v1_stats(self.paths, self.fs)


def load(runtime_root: str, cid: str, fs: CgroupFiles | None = None):
    """The container's cgroup view, or None when the runtime has no state for it (stopped)."""
    if not cid or "/" in cid or cid in (".", ".."):
        raise ValueError(f"invalid container id {cid!r}")
    try:
        with open(os.path.join(runtime_root, cid, "state.json"), "rb") as f:
            data = json.loads(f.read())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as e:
        raise CgroupError(f"container {cid}: runtime state is unreadable: {e}") from None
    if not isinstance(data, dict):
        raise CgroupError(f"container {cid}: runtime state is not an object")
    if isinstance(data.get("cgroup"), dict) and data["cgroup"]:
        return ManagerView(load_manager(data["cgroup"], fs))
    if isinstance(data.get("cgroup_paths"), dict) and data["cgroup_paths"]:
        return PathsView(data["cgroup_paths"], fs)
    return None
