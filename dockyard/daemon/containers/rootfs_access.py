"""A container's file system for the daemon's own use (archive, export), running or not.

A running container's rootfs is mounted at ``svc.rootfs_dir(id)``. A stopped one is mounted there
for the time of the operation: the same place ``start`` uses (it mounts only when nothing is
mounted yet), so a container started meanwhile shares that mount rather than stacking a second
overlay on the same upper directory. Users are counted per container; the last one unmounts,
unless the container is running by then (its exit unmounts it). Everything that decides about
the mount happens under the container's lock, and the root descriptor is opened under it too, so
an exit's unmount cannot leave us looking at the empty mount point.

Volumes and bind mounts come from the record's ``Mounts`` (tmpfs mounts live only in the
container's mount namespace and are not seen, as with dockerd), plus the container's own
/etc/hosts, /etc/hostname and /etc/resolv.conf, which dockerd also shows.
"""
from __future__ import annotations

import contextlib
import logging
import os

from ...snapshots import mount as snapmount
from .securefs import ContainerFS, clean

log = logging.getLogger("dockyard.containers")

_users: dict[tuple[int, str], int] = {}
_NETWORK_FILES = (("ResolvConfPath", "/etc/resolv.conf"), ("HostnamePath", "/etc/hostname"),
                  ("HostsPath", "/etc/hosts"))


def mount_list(doc: dict) -> list[tuple]:
    """(destination, host source, read-write, volume subpath) of the record's volumes and binds,
    and of the network files."""
    out, dests = [], set()
    for m in doc.get("Mounts") or []:
        kind, src, dest = m.get("Type"), m.get("Source") or "", m.get("Destination") or ""
        if kind not in ("volume", "bind") or not src or not dest:
            continue
        sub = (m.get("_subpath") or "") if kind == "volume" else ""
        out.append((dest, src, bool(m.get("RW", True)), sub))
        dests.add(clean(dest))
    writable = not (doc.get("HostConfig") or {}).get("ReadonlyRootfs")
    for key, dest in _NETWORK_FILES:
        path = doc.get(key) or ""
        if path and dest not in dests and os.path.isfile(path):
            out.append((dest, path, writable, ""))
    return out


def _is_running(doc: dict | None) -> bool:
    st = (doc or {}).get("State") or {}
    return bool(st.get("Running") or st.get("Paused") or st.get("Restarting"))


def _mount_and_open(svc, doc: dict, with_mounts: bool) -> ContainerFS:
    cid = doc["Id"]
    target = svc.rootfs_dir(cid)
    if not os.path.ismount(target):
        os.makedirs(target, mode=0o711, exist_ok=True)
        snapmount.mount_all(svc.d.snapshotter.mounts(cid), target)
    writable = not (doc.get("HostConfig") or {}).get("ReadonlyRootfs")
    return ContainerFS(target, mount_list(doc) if with_mounts else (), rootfs_writable=writable)


@contextlib.asynccontextmanager
async def container_fs(svc, doc: dict, *, with_mounts: bool = True):
    """``async with container_fs(svc, doc) as fs``: the container's ContainerFS (closed after)."""
    import asyncio
    cid = doc["Id"]
    key = (id(svc), cid)
    async with svc.lock(cid):
        try:
            fs = await asyncio.to_thread(_mount_and_open, svc, doc, with_mounts)
        except BaseException:
            if not _users.get(key) and not _is_running(svc.db.get("containers", cid)):
                await asyncio.to_thread(svc.unmount_rootfs, cid)
            raise
        _users[key] = _users.get(key, 0) + 1
    try:
        yield fs
    finally:
        fs.close()
        async with svc.lock(cid):
            left = _users.pop(key, 1) - 1
            if left > 0:
                _users[key] = left
            elif not _is_running(svc.db.get("containers", cid)):
                try:
                    await asyncio.to_thread(svc.unmount_rootfs, cid)
                except Exception as e:   # never hide the operation's own outcome
                    log.warning("unmounting the rootfs of %s: %s", cid[:12], e)
