"""The cgroup v1 manager: one directory per hierarchy, each below the
runtime's own cgroup in that hierarchy."""
from __future__ import annotations

import errno
import os
import time

from dockyard.spec.runtime import Resources

from . import stats as _stats
from . import tree, v1_resources
from .files import CgroupFiles, parse_kv
from .errors import CgroupError
from .paths import Hierarchy, Layout
from .writes import execute

# runc's order of subsystems; the rest (e.g. net_cls, name=systemd) follow
_ORDER = ("cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "freezer")
FREEZE_TIMEOUT = 10.0


class V1Manager:
    version = 1

    def __init__(self, hierarchies: tuple[Hierarchy, ...] | list[Hierarchy], rel: str,
                 created: list[str] | None = None, fs: CgroupFiles | None = None):
        if not hierarchies:
            raise CgroupError("cgroup: no cgroup v1 hierarchy is mounted")
        self.hierarchies = sorted(hierarchies, key=_rank)
        self.rel = rel
        self.created: list[str] = list(created or [])
        self.fs = fs or CgroupFiles()

    @classmethod
    def from_layout(cls, layout: Layout, rel: str, fs: CgroupFiles | None = None) -> "V1Manager":
        return cls(layout.hierarchies, rel, fs=fs)

    # paths
    def dir_of(self, h: Hierarchy) -> str:
        return os.path.join(h.own_dir, self.rel)

    def controller_dirs(self) -> dict[str, str]:
        out = {}
        for h in self.hierarchies:
            for c in h.controllers:
                out[c] = self.dir_of(h)
        return out

    def path(self, controller: str) -> str | None:
        return self.controller_dirs().get(controller)

    # lifecycle
    def create(self) -> None:
        made: list[str] = []
        try:
            for h in self.hierarchies:
                init = (lambda d: self._init_cpuset(d)) if "cpuset" in h.controllers else None
                made += tree.make_path(h.own_dir, self.rel, self.fs, h.name, init)
        except CgroupError:
            tree.remove_created(made, "", self.fs, "v1")
            raise
        self.created += made

    def _init_cpuset(self, d: str) -> None:
        # a new cpuset cgroup starts with empty cpus/mems and takes no tasks
        # until they are set: copy the parent's, as runc does
        parent = os.path.dirname(d)
        for f in ("cpuset.cpus", "cpuset.mems"):
            if self.fs.read(d, f, "cpuset").strip():
                continue
            v = self.fs.read(parent, f, "cpuset").strip()
            if not v:
                raise CgroupError(f"cgroup cpuset: the parent cgroup {parent} has an empty {f}")
            self.fs.write(d, f, v, "cpuset")

    def apply(self, res: Resources) -> None:
        execute(v1_resources.plan(res, self.controller_dirs(), self.fs), self.fs)

    def add_pid(self, pid: int) -> None:
        for h in self.hierarchies:
            d = self.dir_of(h)
            for attempt in range(5):
                try:
                    self.fs.write(d, "cgroup.procs", str(pid), h.name)
                    break
                except CgroupError as e:
                    # EINVAL while the process is in the middle of a fork
                    if e.errno != errno.EINVAL or attempt == 4:
                        if e.errno == errno.ESRCH:
                            raise CgroupError(f"cgroup {h.name}: process {pid} does not exist", e.errno) from None
                        raise
                    time.sleep(0.03)

    def join_self(self) -> None:
        """Move the calling (single-threaded) process in by writing 0 to each ``tasks`` file.

        Migrating one's own thread skips the global threadgroup rwsem that a write of a pid to
        cgroup.procs takes, and with it an RCU grace period: ~0.3 ms instead of 5-30 ms here.
        """
        for h in self.hierarchies:
            self.fs.write(self.dir_of(h), "tasks", "0", h.name)

    def pids(self) -> list[int]:
        h = self._pick("pids", "freezer", "memory", "devices", "cpu")
        return sorted(tree.procs_recursive(self.dir_of(h), self.fs, h.name))

    def _pick(self, *prefer: str) -> Hierarchy:
        for c in prefer:
            for h in self.hierarchies:
                if c in h.controllers:
                    return h
        return self.hierarchies[0]

    def _freezer_dir(self) -> str:
        d = self.path("freezer")
        if d is None:
            raise CgroupError("cgroup freezer: controller not available on this host")
        return d

    def freeze(self) -> None:
        d = self._freezer_dir()
        deadline = time.monotonic() + FREEZE_TIMEOUT
        i = 0
        while time.monotonic() < deadline:
            if i % 50 == 49:
                # an occasional thaw lets processes that keep forking settle
                self.fs.write(d, "freezer.state", "THAWED", "freezer")
                time.sleep(0.01)
            self.fs.write(d, "freezer.state", "FROZEN", "freezer")
            state = self.fs.read(d, "freezer.state", "freezer").strip()
            if state == "FROZEN":
                return
            if state != "FREEZING":
                raise CgroupError(f"cgroup freezer: unexpected state {state!r} while freezing")
            i += 1
            time.sleep(0.001 if i < 25 else 0.01)
        self.fs.write(d, "freezer.state", "THAWED", "freezer")
        raise CgroupError(f"cgroup freezer: could not freeze {d} within {FREEZE_TIMEOUT:g}s")

    def thaw(self) -> None:
        self.fs.write(self._freezer_dir(), "freezer.state", "THAWED", "freezer")

    def frozen(self) -> bool:
        d = self.path("freezer")
        if d is None:
            return False
        return self.fs.read(d, "freezer.state", "freezer").strip() == "FROZEN"

    def oom_kill_count(self) -> int:
        d = self.path("memory")
        if d is None:
            return 0
        return parse_kv(self.fs.read(d, "memory.oom_control", "memory")).get("oom_kill", 0)

    def stats(self) -> dict[str, object]:
        return _stats.v1_stats(self.controller_dirs(), self.fs)

    def destroy(self) -> None:
        remaining: list[str] = []
        first = None
        for h in self.hierarchies:
            mine = [d for d in self.created if d == h.own_dir or d.startswith(h.own_dir.rstrip("/") + "/")]
            left, err = tree.remove_created(mine, self.dir_of(h), self.fs, h.name)
            remaining += left
            first = first or err
        self.created = [d for d in self.created if d in remaining]
        if first is not None:
            raise first

    # state
    def to_state(self) -> dict[str, object]:
        return {
            "version": 1,
            "rel": self.rel,
            "hierarchies": [{"name": h.name, "controllers": list(h.controllers), "mount": h.mount, "own": h.own}
                            for h in self.hierarchies],
            "created": list(self.created),
        }

    @classmethod
    def from_state(cls, state: dict[str, object], fs: CgroupFiles | None = None) -> "V1Manager":
        try:
            rel = state["rel"]
            hs = [Hierarchy(x["name"], tuple(x["controllers"]), x["mount"], x["own"]) for x in state["hierarchies"]]
            created = list(state.get("created", []))
            if not isinstance(rel, str) or not all(isinstance(d, str) for d in created) or not all(
                    isinstance(v, str) for h in hs for v in (h.name, h.mount, h.own, *h.controllers)):
                raise TypeError
        except (KeyError, TypeError, AttributeError):
            raise CgroupError("cgroup: invalid v1 state") from None
        _check_rel(rel)
        m = cls(hs, rel, created, fs)
        for d in created:
            for h in hs:
                if d.startswith(h.own_dir.rstrip("/") + "/"):
                    tree.check_inside(d, h.own_dir, m.dir_of(h), "created")
                    break
            else:
                raise CgroupError(f"cgroup: invalid state: created directory {d!r} is outside every hierarchy")
        return m

    def mounts_for_container(self) -> list[tuple[str, str]]:
        return [(os.path.basename(h.mount.rstrip("/")), self.dir_of(h)) for h in self.hierarchies]


def _rank(h: Hierarchy) -> tuple[int, str]:
    for i, c in enumerate(_ORDER):
        if c in h.controllers:
            return (i, h.name)
    return (len(_ORDER), h.name)


def _check_rel(rel: str) -> None:
    parts = rel.split("/")
    if not rel or any(p in ("", ".", "..") for p in parts):
        raise CgroupError(f"cgroup: invalid state: bad cgroup path {rel!r}")
