"""The shim's files under ``<exec-root>/shim/<id>/``, so that a restarted shim can rebuild its view.

    container.json   the create request and what happened since (pid, started_at, paused)
    exit.json        the exit record: exit_code, oom_killed, finished_at (written atomically)
    stdout, stderr   the output fifos (non-tty)
    runtime.log      the OCI runtime's json log for this container
"""
from __future__ import annotations

import json
import os
import shutil

CONTAINER_FILE = "container.json"
EXIT_FILE = "exit.json"


def shim_root(exec_root: str) -> str:
    return os.path.join(exec_root, "shim")


def container_dir(exec_root: str, cid: str) -> str:
    return os.path.join(shim_root(exec_root), cid)


def write_json(path: str, obj: dict) -> None:
    """Atomically: a reader sees the old file or the new one, never a part."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: str) -> dict | None:
    """The object in ``path``; None if it is missing or damaged."""
    try:
        with open(path) as f:
            obj = json.load(f)
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def remove_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def list_ids(exec_root: str) -> list[str]:
    try:
        names = os.listdir(shim_root(exec_root))
    except FileNotFoundError:
        return []
    return sorted(n for n in names if os.path.isfile(os.path.join(shim_root(exec_root), n, CONTAINER_FILE)))
