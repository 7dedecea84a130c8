"""A container as the shim knows it: its create request, its init, its execs, its status.

Status is one of created, running, paused, stopped (containerd's shim has the same four).
"""
from __future__ import annotations

import asyncio
import os

from . import records
from .process import Process
from .runner import RuntimeCommand

SPEC_FIELDS = ("bundle", "runtime", "runtime_root", "runtime_args", "log_path", "log_max_size", "log_max_files",
               "tty", "stdin", "console_size")


class Container:
    __slots__ = ("id", "spec", "dir", "init", "execs", "status", "started_at", "lock", "pidfd", "deleted")

    def __init__(self, cid: str, spec: dict, directory: str):
        self.id, self.spec, self.dir = cid, spec, directory
        self.init: Process | None = None
        self.execs: dict[str, Process] = {}
        self.status = "created"
        self.started_at = ""
        self.lock = asyncio.Lock()
        self.pidfd = -1  # after a shim restart: the init is no longer our child
        self.deleted = False

    @property
    def tty(self) -> bool:
        return bool(self.spec["tty"])

    @property
    def runtime_log(self) -> str:
        return os.path.join(self.dir, "runtime.log")

    def runtime(self) -> RuntimeCommand:
        s = self.spec
        return RuntimeCommand(s["runtime"], s["runtime_root"], s["runtime_args"], self.runtime_log)

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    # ---- what is reported and persisted -------------------------------------------
    def state(self) -> dict:
        p = self.init
        stopped = self.status == "stopped"
        return {
            "id": self.id,
            "status": self.status,
            "pid": 0 if (p is None or stopped) else p.pid,
            "exit_code": p.exit_code if (p is not None and stopped) else None,
            "oom_killed": bool(p and stopped and p.oom_killed),
            "started_at": self.started_at,
            "finished_at": p.finished_at if (p is not None and stopped) else "",
            "tty": self.tty,
            "stdin": bool(self.spec["stdin"]),
            "bundle": self.spec["bundle"],
            "recovered": bool(p and p.recovered),
            "execs": [{"exec_id": e.exec_id, "pid": e.pid, "running": not e.done.is_set(), "exit_code": e.exit_code}
                      for e in self.execs.values()],
        }

    def record(self) -> dict:
        return {"id": self.id, "spec": {k: self.spec[k] for k in SPEC_FIELDS},
                "pid": self.init.pid if self.init else 0, "started_at": self.started_at,
                "paused": self.status == "paused"}

    def save(self) -> None:
        if not self.deleted:
            records.write_json(self.path(records.CONTAINER_FILE), self.record())

    def save_exit(self) -> None:
        p = self.init
        if not self.deleted and p is not None:
            records.write_json(self.path(records.EXIT_FILE), {
                "id": self.id, "pid": p.pid, "exit_code": p.exit_code, "oom_killed": p.oom_killed,
                "finished_at": p.finished_at, "started_at": self.started_at, "recovered": p.recovered})
