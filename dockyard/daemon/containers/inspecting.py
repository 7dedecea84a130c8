"""``docker top``, ``docker stats`` and ``docker diff``: looking at a container from the host.

Processes and statistics come from the container's cgroup (``cgroupview``, through the runtime's
state), formatted as dockerd does (``topfmt``, ``statsfmt``); the changes from the snapshotter's
diff of the container's layer (``snapshots.diff.changes``).
"""
from __future__ import annotations

import asyncio
import os

from ...cgroups import CgroupError
from ...snapshots.snapshotter import SnapshotError
from ..http import ApiError, json_response
from ..http.response import JSON, encode_json
from . import cgroupview, statsfmt, topfmt
from .record import now_rfc3339

STATS_INTERVAL = 1.0
# what dockerd's init layer holds: mount points the runtime may have to create, never a change
INIT_PATHS = frozenset(("/dev", "/dev/pts", "/dev/shm", "/dev/console", "/proc", "/sys", "/.dockerenv",
                        "/etc/resolv.conf", "/etc/hosts", "/etc/hostname", "/etc/mtab"))
_KINDS = {"C": 0, "A": 1, "D": 2}


def _running(doc: dict) -> bool:
    return bool(doc["State"].get("Running"))


# ---- top ------------------------------------------------------------------------------------------
def container_pids(svc, doc: dict) -> list[int]:
    """Every process in the container's cgroup (its init when the runtime has no cgroup for it)."""
    try:
        view = cgroupview.load(svc.runtime_root, doc["Id"])
        pids = view.pids() if view is not None else []
    except CgroupError:   # gone meanwhile (it exited)
        pids = []
    if not pids and doc["State"].get("Pid"):
        pids = [int(doc["State"]["Pid"])]
    return pids


async def _ps(argv: list[str]) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out, err


async def top(svc, ref: str, ps_args: str) -> dict:
    ps_args = ps_args or "-ef"
    try:
        topfmt.validate_ps_args(ps_args)
    except topfmt.TopError as e:
        raise ApiError(400, str(e)) from None
    doc = svc.get(ref)
    if not _running(doc):
        raise ApiError(409, f"Container {doc['Id']} is not running")
    if doc["State"].get("Restarting"):
        raise ApiError(409, f"Container {doc['Id']} is restarting, wait until the container is running")
    try:
        pids = await asyncio.to_thread(container_pids, svc, doc)
    except (OSError, ValueError) as e:
        raise ApiError(500, f"listing the processes of container {doc['Id']}: {e}") from None
    code, out, err = await _ps(topfmt.ps_argv(ps_args, pids))
    if code != 0:   # some options (f...) do not combine with -q: filter the whole list instead
        code, out, err = await _ps(topfmt.ps_argv(ps_args, pids, with_pids=False))
        if code != 0:
            line = err.decode(errors="replace").split("\n", 1)[0].strip()
            raise ApiError(500, f"ps: {line or f'exit status {code}'}")
    try:
        result = topfmt.parse_ps(out.decode(errors="replace"), pids)
    except topfmt.TopError as e:
        raise ApiError(500, str(e)) from None
    svc.emit(doc, "top")
    return result


# ---- stats ----------------------------------------------------------------------------------------
class _Host:
    """The host's side of a sample: /proc/stat and the machine's memory."""

    def __init__(self, proc: str = "/proc"):
        self.proc = proc
        with open(os.path.join(proc, "meminfo")) as f:
            self.machine_memory = statsfmt.read_machine_memory(f.read())

    def cpu(self) -> tuple[int, int]:
        with open(os.path.join(self.proc, "stat")) as f:
            return statsfmt.read_proc_stat(f.read())


def _sample(svc, doc: dict, host: _Host, precpu: dict | None, preread: str) -> dict:
    """One stats document (zeros when the container has no cgroup: not running)."""
    name, cid = doc["Name"], doc["Id"]
    view = cgroupview.load(svc.runtime_root, cid) if _running(doc) else None
    if view is None:
        return statsfmt.stats_json(name, cid, precpu=precpu, preread=preread)
    raw = view.stats()
    read = now_rfc3339()
    system, online = host.cpu()   # right after the container's: less noise in the CPU percentage
    return statsfmt.stats_json(name, cid, read=read, preread=preread, raw=raw, version=view.version,
                               system=system, online=online, machine_memory=host.machine_memory, precpu=precpu)


async def stats_stream(svc, req, ref: str, stream: bool = True, one_shot: bool = False):
    doc = svc.get(ref)
    host = await asyncio.to_thread(_Host)
    if not stream:
        if not _running(doc) or doc["State"].get("Restarting"):
            return json_response(statsfmt.stats_json(doc["Name"], doc["Id"]))
        first = None
        if not one_shot:   # prime the CPU counters so the percentage is not 0 (docker stats --no-stream)
            first = await asyncio.to_thread(_sample, svc, doc, host, None, statsfmt.ZERO_TIME)
            await asyncio.sleep(STATS_INTERVAL)
            doc = svc.get(doc["Id"])
        sample = await asyncio.to_thread(_sample, svc, doc, host, first and first["cpu_stats"],
                                         first["read"] if first else statsfmt.ZERO_TIME)
        return json_response(sample)
    out = await req.stream(200, JSON)
    precpu, preread = None, statsfmt.ZERO_TIME
    while True:
        try:
            doc = svc.get(doc["Id"])
        except ApiError:
            break   # removed: the stream ends, as dockerd's does
        sample = await asyncio.to_thread(_sample, svc, doc, host, precpu, preread)
        await out.write(encode_json(sample))
        precpu, preread = sample["cpu_stats"], sample["read"]
        try:
            await asyncio.wait_for(out.wait_client_gone(), STATS_INTERVAL)
            break
        except asyncio.TimeoutError:
            pass
    return None


# ---- diff -----------------------------------------------------------------------------------------
def _sort_key(path: str) -> tuple[bytes, ...]:
    return tuple(os.fsencode(c) for c in path.split("/"))


def docker_changes(items: list[tuple[str, str]]) -> list[dict]:
    """[(kind, path)] -> [{"Path", "Kind"}]: mount points of dockerd's init layer left out, then
    depth first with names sorted bytewise (the order of a walk of the layer)."""
    kept = [(k, p) for k, p in items if p not in INIT_PATHS]
    for parent in ("/etc", "/dev"):
        if ("C", parent) in kept and not any(p.startswith(parent + "/") for _, p in kept):
            if any(p.startswith(parent + "/") for _, p in items):   # changed only for the init paths
                kept.remove(("C", parent))
    kept.sort(key=lambda kp: _sort_key(kp[1]))
    return [{"Path": p, "Kind": _KINDS[k]} for k, p in kept]


def _changes(svc, cid: str) -> list[dict]:
    from ...snapshots.diff import changes as layer_changes
    return docker_changes(layer_changes(svc.d.snapshotter.layers(cid)))


async def changes(svc, ref: str) -> list[dict]:
    doc = svc.get(ref)
    try:
        return await asyncio.to_thread(_changes, svc, doc["Id"])
    except (OSError, ValueError, SnapshotError) as e:
        raise ApiError(500, f"changes of container {doc['Id']}: {e}") from None
