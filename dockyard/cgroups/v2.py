"""The cgroup v2 manager: one directory in the unified tree, below the
runtime's own cgroup."""
from __future__ import annotations

from _collections_abc import Callable  # already loaded at start-up (collections.abc would import collections)

import errno
from ..util import lazylog as logging
import os
import time

from dockyard.spec.runtime import Resources

from . import devices
from . import stats as _stats
from . import tree, v2_resources
from .files import CgroupFiles, parse_kv
from .errors import CgroupError
from .paths import Layout, Unified
from .writes import execute

log = logging.getLogger("dockyard.cgroups")

# controllers a container cgroup gets, when the parent offers them
WANTED_CONTROLLERS = ("cpu", "cpuset", "io", "memory", "pids")
FREEZE_TIMEOUT = 10.0


def _install_filter(cgroup_dir: str, code: bytes) -> None:
    from .bpf import install_device_filter  # ctypes only when needed
    install_device_filter(cgroup_dir, code)


class V2Manager:
    version = 2

    def __init__(self, unified: Unified, rel: str, created: list[str] | None = None,
                 fs: CgroupFiles | None = None,
                 device_filter: Callable[[str, bytes], None] | None = None):
        self.unified = unified
        self.rel = rel
        self.created: list[str] = list(created or [])
        self.fs = fs or CgroupFiles()
        self.device_filter = device_filter or _install_filter

    @classmethod
    def from_layout(cls, layout: Layout, rel: str, fs: CgroupFiles | None = None) -> "V2Manager":
        if layout.unified is None:
            raise CgroupError("cgroup: no cgroup v2 hierarchy is mounted")
        return cls(layout.unified, rel, fs=fs)

    @property
    def dir(self) -> str:
        return os.path.join(self.unified.own_dir, self.rel)

    def create(self) -> None:
        made = tree.make_path(self.unified.own_dir, self.rel, self.fs, "cgroup2")
        try:
            self._enable_controllers()
        except CgroupError:
            tree.remove_created(made, self.dir, self.fs, "cgroup2")
            raise
        self.created += made

    def _enable_controllers(self) -> None:
        """Enable the wanted controllers in cgroup.subtree_control of the own
        cgroup and of each directory between it and the container's (not in
        the container's own: that is the container's business). Only
        controllers offered in cgroup.controllers are asked for, and only
        missing ones are written. Refusals (e.g. the own cgroup has processes
        of its own) are logged; apply() then names the missing controller."""
        cur = self.unified.own_dir
        parts = self.rel.split("/")
        for i in range(len(parts)):
            avail = set(self.fs.read(cur, "cgroup.controllers", "cgroup2").split())
            enabled = set(self.fs.read(cur, "cgroup.subtree_control", "cgroup2").split())
            for c in WANTED_CONTROLLERS:
                if c in avail and c not in enabled:
                    try:
                        self.fs.write(cur, "cgroup.subtree_control", f"+{c}", "cgroup2")
                    except CgroupError as e:
                        log.warning("%s", e)
            cur = os.path.join(cur, parts[i])

    def apply(self, res: Resources) -> None:
        writes = v2_resources.plan(res, self.dir, self.fs)
        code = None
        if res.devices:
            from .devicefilter import build, encode
            code = encode(build(devices.emulate(devices.validate(res.devices))))
        execute(writes, self.fs)
        if code is not None:
            self.device_filter(self.dir, code)

    def add_pid(self, pid: int) -> None:
        for attempt in range(5):
            try:
                self.fs.write(self.dir, "cgroup.procs", str(pid), "cgroup2")
                return
            except CgroupError as e:
                if e.errno == errno.ESRCH:
                    raise CgroupError(f"cgroup2: process {pid} does not exist", e.errno) from None
                if e.errno != errno.EINVAL or attempt == 4:
                    raise
                time.sleep(0.03)

    def join_self(self) -> None:
        """Move the calling process in (cgroup v2 has no per-thread shortcut for this)."""
        self.fs.write(self.dir, "cgroup.procs", "0", "cgroup2")

    def pids(self) -> list[int]:
        return sorted(tree.procs_recursive(self.dir, self.fs, "cgroup2"))

    def freeze(self) -> None:
        self.fs.write(self.dir, "cgroup.freeze", "1", "freezer")
        deadline = time.monotonic() + FREEZE_TIMEOUT
        wait = 0.001
        while True:
            if self._events().get("frozen") == 1:
                return
            if time.monotonic() > deadline:
                self.fs.write(self.dir, "cgroup.freeze", "0", "freezer")
                raise CgroupError(f"cgroup freezer: could not freeze {self.dir} within {FREEZE_TIMEOUT:g}s")
            time.sleep(wait)
            wait = min(wait * 2, 0.02)

    def thaw(self) -> None:
        self.fs.write(self.dir, "cgroup.freeze", "0", "freezer")

    def frozen(self) -> bool:
        return self._events().get("frozen") == 1

    def _events(self) -> dict[str, int]:
        return parse_kv(self.fs.read(self.dir, "cgroup.events", "cgroup2"))

    def oom_kill_count(self) -> int:
        if not self.fs.exists(self.dir, "memory.events"):
            return 0
        return parse_kv(self.fs.read(self.dir, "memory.events", "memory")).get("oom_kill", 0)

    def stats(self) -> dict[str, object]:
        return _stats.v2_stats(self.dir, self.fs)

    def destroy(self) -> None:
        left, err = tree.remove_created(self.created, self.dir, self.fs, "cgroup2")
        self.created = left
        if err is not None:
            raise err

    def to_state(self) -> dict[str, object]:
        return {"version": 2, "rel": self.rel, "mount": self.unified.mount, "own": self.unified.own,
                "created": list(self.created)}

    @classmethod
    def from_state(cls, state: dict[str, object], fs: CgroupFiles | None = None) -> "V2Manager":
        try:
            rel, mount, own = state["rel"], state["mount"], state["own"]
            created = list(state.get("created", []))
            if not all(isinstance(v, str) for v in (rel, mount, own, *created)):
                raise TypeError
        except (KeyError, TypeError):
            raise CgroupError("cgroup: invalid v2 state") from None
        if not rel or any(p in ("", ".", "..") for p in rel.split("/")):
            raise CgroupError(f"cgroup: invalid state: bad cgroup path {rel!r}")
        m = cls(Unified(mount, own), rel, created, fs)
        for d in created:
            tree.check_inside(d, m.unified.own_dir, m.dir, "created")
        return m

    def mounts_for_container(self) -> list[tuple[str, str]]:
        return [("", self.dir)]
