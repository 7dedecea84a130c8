"""Was a container OOM-killed? Its memory cgroup's oom_kill counter, found through the runtime's
state file (read before ``runtime delete`` removes it).

dockyard-runtime keeps ``"cgroup"`` (the cgroup manager's state) in ``<root>/<id>/state.json``;
runc keeps ``"cgroup_paths"`` (controller -> directory).
"""
from __future__ import annotations

import json
import os


def _kv(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def oom_kill_count(runtime_root: str, cid: str) -> int:
    """The memory cgroup's oom_kill count; 0 when it cannot be told."""
    try:
        with open(os.path.join(runtime_root, cid, "state.json")) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return 0
    if not isinstance(state, dict):
        return 0
    try:
        if isinstance(state.get("cgroup"), dict) and state["cgroup"]:
            from .. import cgroups
            return cgroups.load(state["cgroup"]).oom_kill_count()
        paths = state.get("cgroup_paths")
        if isinstance(paths, dict):
            mem = paths.get("memory")
            if mem and os.path.exists(os.path.join(mem, "memory.oom_control")):
                return _kv(_read(os.path.join(mem, "memory.oom_control"))).get("oom_kill", 0)
            unified = paths.get("")
            if unified and os.path.exists(os.path.join(unified, "memory.events")):
                return _kv(_read(os.path.join(unified, "memory.events"))).get("oom_kill", 0)
    except Exception:  # noqa: BLE001 -- a cgroup removed meanwhile, a damaged state: unknown means no
        return 0
    return 0
