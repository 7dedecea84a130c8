"""The ``mounts`` list of a container's config, and ``root.readonly`` / ``linux.rootfsPropagation``.

``user_mounts(req, image_volumes)`` is the first step and the daemon calls it on its own too: it
parses ``Binds``, ``Mounts``, ``Tmpfs`` and the anonymous volumes (``Config.Volumes`` and the image's
``VOLUME``s not covered by a user mount) into ``mounts.Mount``s, refusing duplicate targets. The daemon
creates or looks up each volume and hands back their host paths by target (``volume_paths``).

``oci_mounts`` then builds the list as dockerd does: its default filesystems (minus those a user
mount replaces), /dev/shm according to the IPC mode, the ``--init`` binary, and the container's own
mounts sorted by depth (the user's, the /etc files, the IPC bind), with Docker's options.
"""
from __future__ import annotations

import os
import posixpath

from . import defaults as D
from . import mounts as M
from .specgen_errors import SpecGenError
from .specgen_host import HostInfo
from .specgen_request import CreateRequest

ETC_FILES = (("resolv.conf", "/etc/resolv.conf"), ("hostname", "/etc/hostname"), ("hosts", "/etc/hosts"))
_NO_RO = ("/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev")


def user_mounts(req: CreateRequest, image_volumes=()) -> list[M.Mount]:
    """Every mount the request asks for, validated, in order: Binds, Mounts, anonymous volumes, Tmpfs."""
    out: list[M.Mount] = []
    seen: set[str] = set()

    def add(m: M.Mount):
        if m.target in seen:
            raise SpecGenError(f"Duplicate mount point: {m.target}")
        seen.add(m.target)
        out.append(m)

    try:
        for raw in req.host.binds:
            add(M.parse_volume_spec(raw))
        for i, obj in enumerate(req.host.mounts_raw):
            add(M.from_api(obj, f"HostConfig.Mounts[{i}]"))
        for target in sorted(req.host.tmpfs):
            add(M.parse_tmpfs_entry(target, req.host.tmpfs[target]))
        anon = []
        for target in list(req.volumes) + list(image_volumes):
            t = "/" + posixpath.normpath(target).lstrip("/") if target.startswith("/") else target
            if t in seen or any(a.target == t for a in anon):
                continue
            m = M.Mount(M.VOLUME, t, raw=target)
            M.validate(m)
            anon.append(m)
        for m in anon:
            seen.add(m.target)
            out.append(m)
    except M.MountError as e:
        raise SpecGenError(str(e)) from None
    return out


class MountPlan:
    """What ``oci_mounts`` produced besides the list."""

    def __init__(self):
        self.mounts: list[dict] = []
        self.host_dirs: list[str] = []          # -v sources to create before start
        self.rootfs_propagation = ""
        self.shm: tuple[str, int] | None = None  # (host path, size) of a shareable /dev/shm to mount


def _depth(dest: str) -> int:
    return posixpath.normpath(dest).count("/")


def _volume_source(m: M.Mount, volume_paths) -> str:
    path = volume_paths.get(m.target)
    if not path:
        raise SpecGenError(f"no volume was prepared for {m.target}")
    if m.volume_subpath:
        base = os.path.realpath(path)
        sub = os.path.realpath(os.path.join(base, m.volume_subpath))
        if sub != base and not sub.startswith(base + "/"):
            raise SpecGenError(f"volume subpath {m.volume_subpath!r} leaves the volume")
        if not os.path.exists(sub):
            raise SpecGenError(f"cannot access path {sub}: no such file or directory")
        return sub
    return path


def _check_propagation(src: str, prop: str, host: HostInfo, plan: MountPlan) -> None:
    """Shared/slave binds need a shared (or slave) host mount under the source, as dockerd checks."""
    if prop not in ("shared", "rshared", "slave", "rslave"):
        return
    mountpoint, kind = host.propagation_of(src)
    if prop in ("shared", "rshared"):
        if kind != "shared":
            raise SpecGenError(f"path {src} is mounted on {mountpoint} but it is not a shared mount")
        if plan.rootfs_propagation not in ("shared", "rshared"):
            plan.rootfs_propagation = "shared"
    else:
        if kind not in ("shared", "slave"):
            raise SpecGenError(f"path {src} is mounted on {mountpoint} but it is not a shared or slave mount")
        if plan.rootfs_propagation not in ("shared", "rshared", "slave", "rslave"):
            plan.rootfs_propagation = "rslave"


def _user_entry(m: M.Mount, volume_paths, host: HostInfo, plan: MountPlan) -> dict:
    if m.type == M.TMPFS:
        return {"destination": m.target, "type": "tmpfs", "source": "tmpfs", "options": M.tmpfs_options(m)}
    if m.type == M.VOLUME:
        opts = ["rbind"] + (["ro"] if m.readonly else [])
        return {"destination": m.target, "type": "bind", "source": _volume_source(m, volume_paths), "options": opts}
    if not os.path.exists(m.source):
        if not m.create_host_path:
            raise SpecGenError(f"invalid mount config for type \"bind\": bind source path does not exist: {m.source}")
        plan.host_dirs.append(m.source)
    prop = m.propagation or M.DEFAULT_PROPAGATION
    _check_propagation(m.source, prop, host, plan)
    opts = ["bind" if m.nonrecursive else "rbind"] + (["ro"] if m.readonly else []) + [prop]
    return {"destination": m.target, "type": "bind", "source": m.source, "options": opts}


def oci_mounts(user: list[M.Mount], *, volume_paths, host: HostInfo, files_dir: str, etc_dir: str | None,
               ipc: str, ipc_shm_path: str, shm_size: int, init_path: str | None, readonly: bool,
               privileged: bool) -> MountPlan:
    """The config's mounts. ``etc_dir`` holds resolv.conf/hostname/hosts (a peer's for a shared network);
    ``ipc`` is private|shareable|host|none|container (``ipc_shm_path``: the peer's /dev/shm)."""
    plan = MountPlan()
    user_targets = {m.target for m in user}
    own = [_user_entry(m, volume_paths, host, plan) for m in user]
    if etc_dir is not None:
        for name, dest in ETC_FILES:
            if dest not in user_targets:
                own.append({"destination": dest, "type": "bind", "source": os.path.join(etc_dir, name),
                            "options": ["rbind"] + (["ro"] if readonly else []) + [M.DEFAULT_PROPAGATION]})
    if "/dev/shm" not in user_targets:
        shm_src = {"shareable": os.path.join(files_dir, "mounts", "shm"), "host": "/dev/shm",
                   "container": ipc_shm_path}.get(ipc)
        if ipc == "host" and not host.dev_shm:
            raise SpecGenError("/dev/shm is not mounted, but must be for --ipc=host")
        if shm_src:
            own.append({"destination": "/dev/shm", "type": "bind", "source": shm_src,
                        "options": ["rbind", M.DEFAULT_PROPAGATION]})
        if ipc == "shareable":
            plan.shm = (shm_src, shm_size)
    own.sort(key=lambda e: _depth(e["destination"]))  # stable: equal depths keep their order

    defaults = []
    dev_replaced = "/dev" in user_targets
    for e in D.default_mounts():
        if e["destination"] in user_targets or (dev_replaced and e["destination"].startswith("/dev/")):
            continue
        defaults.append(e)
    if ipc == "private" and "/dev/shm" not in user_targets and not dev_replaced:
        defaults.append(D.shm_mount(shm_size))
    if init_path:
        defaults.append({"destination": D.INIT_PATH_IN_CONTAINER, "type": "bind", "source": init_path,
                         "options": ["bind", "ro"]})
    if readonly:
        for e in defaults:
            if e["destination"] not in _NO_RO and "ro" not in e["options"]:
                e["options"].append("ro")
    if privileged:
        for e in defaults:
            if e["destination"] == "/sys" or e["type"] == "cgroup":
                e["options"] = [o for o in e["options"] if o != "ro"]
    plan.mounts = defaults + own
    return plan
