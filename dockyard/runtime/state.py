"""Per-container state under the runtime root (``--root``, default /run/dockyard-runtime).

    <root>/<id>/state.json   what later invocations need (pid, bundle, cgroups, ...)
    <root>/<id>/exec.fifo    exists while the container is "created": init blocks on it

The status is derived, never stored: a live init with the fifo present is
"created", without it "running", with frozen cgroups "paused", else "stopped".
"""
from __future__ import annotations

from ..util import fastjson as json
import os
from ..util.record import asdict, record as dataclass, field

from .errors import ContainerNotFound, RuntimeFailure

DEFAULT_ROOT = "/run/dockyard-runtime"
_ID_EXTRA = set("_+-.")


def validate_id(cid: str) -> None:
    if not cid or cid in (".", "..") or not all(c.isalnum() or c in _ID_EXTRA for c in cid) or not cid.isascii():
        raise RuntimeFailure(f"invalid container id {cid!r}: use letters, digits, '_', '+', '-' and '.'")


@dataclass
class State:
    id: str
    bundle: str
    rootfs: str
    pid: int = 0
    pid_start: int = 0  # start time of the init in clock ticks: tells a reused pid apart
    created: str = ""
    owner: str = ""
    annotations: dict = field(default_factory=dict)
    cgroup: dict = field(default_factory=dict)  # the cgroup manager's to_state()
    namespaces: dict = field(default_factory=dict)  # type -> path joined by exec
    userns: bool = False
    config: str = ""  # path of the config.json the container was created from
    resources: dict = field(default_factory=dict)  # linux.resources, updated by `update`


def container_dir(root: str, cid: str) -> str:
    validate_id(cid)
    return os.path.join(root, cid)


def fifo_path(root: str, cid: str) -> str:
    return os.path.join(container_dir(root, cid), "exec.fifo")


def save(root: str, st: State) -> None:
    d = container_dir(root, st.id)
    tmp = os.path.join(d, ".state.json.tmp")
    with open(tmp, "w") as f:
        f.write(json.dumps(asdict(st)))
    os.replace(tmp, os.path.join(d, "state.json"))


def load(root: str, cid: str) -> State:
    d = container_dir(root, cid)
    try:
        with open(os.path.join(d, "state.json")) as f:
            data = json.loads(f.read())
    except FileNotFoundError:
        raise ContainerNotFound(cid) from None
    except (OSError, ValueError) as e:
        raise RuntimeFailure(f"container {cid}: state is unreadable: {e}") from None
    return State(**data)


def remove_dir(d: str) -> None:
    """Remove a container's state dir (flat: state.json, exec.fifo, temp files)."""
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return
    for name in names:
        try:
            os.unlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(d)
    except FileNotFoundError:
        pass


def list_ids(root: str) -> list[str]:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if os.path.exists(os.path.join(root, n, "state.json")))


def proc_start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat; 0 when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    rest = data[data.rindex(b")") + 2:].split()
    return int(rest[19])


def proc_alive(pid: int, start: int) -> bool:
    """The process exists, is not a zombie and is the one we started."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    rest = data[data.rindex(b")") + 2:].split()
    if rest[0] in (b"Z", b"X"):
        return False
    return start == 0 or int(rest[19]) == start


def status(root: str, st: State, cgroup=None) -> str:
    if not proc_alive(st.pid, st.pid_start):
        return "stopped"
    if os.path.exists(fifo_path(root, st.id)):
        return "created"
    if cgroup is not None:
        try:
            if cgroup.frozen():
                return "paused"
        except OSError:
            pass
    return "running"
