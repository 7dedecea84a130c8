"""The shape every cgroup manager has (v1 and v2), and the error they raise.

A manager owns one container's cgroup: a directory per v1 hierarchy, or one
directory in the v2 tree. It creates it (remembering exactly which directories
it made), applies ``Resources``, moves processes in, freezes and thaws them,
reads statistics, and removes only what it created. ``to_state()`` gives a
JSON-able dict from which ``dockyard.cgroups.load`` reopens the same manager in
a later runtime invocation (``delete``, ``pause``, ``update``...).
"""
from __future__ import annotations

from typing import Any, Protocol

from dockyard.spec.runtime import Resources


from .errors import CgroupError  # noqa: F401,E402  (re-exported)


class Manager(Protocol):
    version: int  # 1 or 2

    def create(self) -> None:
        """mkdir -p the container's cgroup(s); remember what was created."""

    def apply(self, res: Resources) -> None:
        """Write the resource limits. Unset fields are left alone."""

    def add_pid(self, pid: int) -> None:
        """Move process ``pid`` into the container's cgroup(s)."""

    def join_self(self) -> None:
        """Move the calling single-threaded process into the cgroup (the fast way to join)."""
        ...

    def pids(self) -> list[int]:
        """All processes in the cgroup and its descendants, sorted."""

    def freeze(self) -> None: ...

    def thaw(self) -> None: ...

    def frozen(self) -> bool: ...

    def oom_kill_count(self) -> int:
        """Processes the OOM killer killed in this cgroup (hierarchical)."""

    def stats(self) -> dict[str, Any]:
        """{"memory": {...}, "cpu": {...}, "pids": {...}, "blkio": {...}}.

        memory: usage, max_usage, limit (None = unlimited), failcnt, stats
                (the memory.stat key/values);
        cpu:    usage_total, usage_user, usage_system (ns), percpu (ns list,
                may be empty), throttling {periods, throttled_periods,
                throttled_time (ns)};
        pids:   current, limit (None = unlimited);
        blkio:  io_service_bytes_recursive / io_serviced_recursive: lists of
                {major, minor, op, value} as in the Docker stats API.
        A section whose controller is unavailable is omitted.
        """

    def destroy(self) -> None:
        """Remove the directories this manager created, deepest first."""

    def to_state(self) -> dict[str, Any]: ...

    def mounts_for_container(self) -> list[tuple[str, str]]:
        """(name, host directory) pairs to bind under the container's
        /sys/fs/cgroup: v1 one per hierarchy (name is the directory name,
        e.g. "memory", "cpu,cpuacct", "systemd"); v2 a single ("", dir)."""
