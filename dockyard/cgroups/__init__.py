"""Container cgroups (v1 and v2) for the OCI runtime.

    mgr = open_manager(spec.linux.cgroups_path, container_id)
    mgr.create(); mgr.apply(spec.linux.resources); mgr.add_pid(pid)
    state["cgroups"] = mgr.to_state()
    ...later, another invocation:
    mgr = load(state["cgroups"]); mgr.freeze(); mgr.destroy()

Container cgroups always live below the runtime's own cgroup (see paths.py).
Only the standard library is imported here.
"""
from __future__ import annotations

import os

from .files import CgroupFiles
from .errors import CgroupError
from .paths import CGROUP_ROOT, detect_layout, resolve_cgroups_path
from .v1 import V1Manager
from .v2 import V2Manager

__all__ = ["CgroupError", "Manager", "V1Manager", "V2Manager", "open_manager", "load"]


def open_manager(cgroups_path: str, container_id: str, *, root: str = CGROUP_ROOT, proc: str = "/proc",
                 fs: CgroupFiles | None = None) -> V1Manager | V2Manager:
    """The manager for a container's cgroup, v1 (incl. hybrid) or v2 by the host's layout."""
    layout = detect_layout(os.path.join(proc, "self", "cgroup"), os.path.join(proc, "self", "mountinfo"), root)
    rel = resolve_cgroups_path(cgroups_path, container_id)
    if layout.mode == "v2":
        return V2Manager.from_layout(layout, rel, fs)
    return V1Manager.from_layout(layout, rel, fs)


def load(state: dict[str, object], fs: CgroupFiles | None = None) -> V1Manager | V2Manager:
    """Reopen a manager from ``to_state()`` output."""
    if not isinstance(state, dict):
        raise CgroupError("cgroup: invalid state: not an object")
    version = state.get("version")
    if version == 1:
        return V1Manager.from_state(state, fs)
    if version == 2:
        return V2Manager.from_state(state, fs)
    raise CgroupError(f"cgroup: invalid state: unknown version {version!r}")


def __getattr__(name):
    # the Protocol lives in manager.py, which imports typing: only load it when asked for
    if name == "Manager":
        from .manager import Manager
        return Manager
    raise AttributeError(name)
