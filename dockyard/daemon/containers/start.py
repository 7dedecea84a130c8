"""Starting a container: mount its rootfs, fill new volumes, write /etc files and config.json, then
create and start it through the shim. A failure unmounts and forgets everything it did."""
from __future__ import annotations

import asyncio
import json
import logging
import os

from ...snapshots import mount as snapmount
from ..http import ApiError
from . import record

log = logging.getLogger("dockyard.containers")


def _mount_rootfs(svc, cid: str) -> str:
    target = svc.rootfs_dir(cid)
    os.makedirs(target, mode=0o711, exist_ok=True)
    if not os.path.ismount(target):
        snapmount.mount_all(svc.d.snapshotter.mounts(cid), target)
    return target


def _copy_up_volumes(svc, doc: dict, rootfs: str) -> None:
    """A new empty named volume is filled from the image's content at its path (docker's copy-up)."""
    from ...runtime.paths import secure_join
    from ...snapshots.copytree import copy_tree
    changed = False
    for m in doc.get("Mounts") or []:
        if m.get("Type") != "volume" or m.get("_nocopy") or m.get("_populated"):
            continue
        src = secure_join(rootfs, m["Destination"])
        dest = m["Source"]
        if os.path.isdir(src) and not os.path.islink(src) and os.path.isdir(dest) and not os.listdir(dest):
            os.rmdir(dest)  # copy_tree makes the directory itself, with the source's owner and mode
            copy_tree(src, dest)
        m["_populated"] = True
        changed = True
    if changed:
        svc.save(doc)


def _prepare_files(svc, doc: dict, rootfs: str, spec_files: dict) -> None:
    from .specgen_etc import write_files
    write_files(svc.files_dir(doc["Id"]), spec_files)


def _exit_code_for(message: str) -> tuple[int, int]:
    """(container exit code, HTTP status) the way moby maps runtime start errors."""
    low = message.lower()
    if "executable file not found" in low or "no such file or directory" in low:
        return 127, 400
    if "permission denied" in low:
        return 126, 400
    return 128, 500


async def start_container(svc, doc: dict) -> None:
    from .specgen_glue import generate_for_start
    cid = doc["Id"]
    bundle = svc.bundle_dir(cid)
    os.makedirs(bundle, mode=0o711, exist_ok=True)
    created_in_shim = False
    try:
        rootfs = await asyncio.to_thread(_mount_rootfs, svc, cid)
        await asyncio.to_thread(_copy_up_volumes, svc, doc, rootfs)
        spec, files = await asyncio.to_thread(generate_for_start, svc, doc, rootfs)
        files = await svc.d.networks.etc_files(doc, files)
        await asyncio.to_thread(_prepare_files, svc, doc, rootfs, files)
        tmp = os.path.join(bundle, "config.json.tmp")
        with open(tmp, "w") as f:
            json.dump(spec, f)
        os.replace(tmp, os.path.join(bundle, "config.json"))
        hc = doc["HostConfig"]
        runtime = svc.cfg.runtime_path(hc.get("Runtime") or None)
        log_cfg = (hc.get("LogConfig") or {}).get("Config") or {}
        max_size = _size(log_cfg.get("max-size") or svc.cfg.log_opts.get("max-size") or "")
        max_files = int(log_cfg.get("max-file") or svc.cfg.log_opts.get("max-file") or 1)
        cfg = doc["Config"]
        size = hc.get("ConsoleSize") or [0, 0]
        pid = await svc.shim.create(
            cid, bundle=bundle, runtime=runtime, runtime_root=svc.runtime_root,
            log_path=doc["LogPath"] or os.devnull, log_max_size=max_size, log_max_files=max_files,
            tty=bool(cfg.get("Tty")), stdin=bool(cfg.get("OpenStdin")),
            console_size=(size[0], size[1]) if size and size[0] and size[1] else None)
        created_in_shim = True
        await svc.d.networks.attach(doc, pid, spec.get("hostname", ""))  # its netns: /proc/<pid>/ns/net
        await _connect_pending_attaches(svc, cid)
        started = await svc.shim.start(cid)
    except BaseException as e:
        for fut, _params in svc.pending_attaches.pop(cid, []):
            if not fut.done():
                fut.set_exception(ApiError(500, "the container did not start"))
        await svc.d.networks.release(doc)
        if created_in_shim:
            try:
                await svc.shim.delete(cid, force=True)
            except Exception:
                pass
        await asyncio.to_thread(svc.unmount_rootfs, cid)
        msg = getattr(e, "message", None) or str(e) or type(e).__name__
        code, status = _exit_code_for(msg)
        if isinstance(e, ApiError):
            status = e.status
        doc["State"].update(Error=msg, ExitCode=code, Status="created" if doc["State"]["StartedAt"] == record.ZERO_TIME
                            else "exited")
        svc.save(doc)
        if isinstance(e, (asyncio.CancelledError, KeyboardInterrupt)):
            raise
        raise ApiError(status, f"failed to create task for container: {msg}") from None
    doc["State"].update(Running=True, Paused=False, Restarting=False, OOMKilled=False, Dead=False, Pid=pid,
                        ExitCode=0, Error="", StartedAt=started or record.now_rfc3339(), Status="running")
    if cfg.get("Healthcheck") and (cfg["Healthcheck"].get("Test") or [""])[0] not in ("NONE",):
        doc["State"]["Health"] = {"Status": "starting", "FailingStreak": 0, "Log": []}
    svc.save(doc)
    if svc.health and doc["State"].get("Health"):
        svc.health.start(cid)
    svc.emit(doc, "start")


async def _connect_pending_attaches(svc, cid: str) -> None:
    """Clients that attached before start get the stream from the process's first byte."""
    for fut, params in svc.pending_attaches.pop(cid, []):
        if fut.done():
            continue
        try:
            fut.set_result(await svc.shim.attach(cid, **params))
        except Exception as e:
            fut.set_exception(e)


def _size(text: str) -> int:
    if not text:
        return 0
    t = text.strip().lower()
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    if t[-1:] == "b":
        t = t[:-1]
    if t[-1:] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)
