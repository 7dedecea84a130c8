"""The container's filesystem view, built inside its new mount namespace.

Order (runc's): propagation of / -> the rootfs's parent mount private if shared -> bind the
rootfs onto itself -> spec mounts -> /dev -> [hooks] -> pivot_root -> [sysctls, in init.py] ->
masked paths -> read-only paths -> read-only root -> rootfs propagation.
"""
from __future__ import annotations

import errno
import os

from ..kernel import consts as C
from ..spec.runtime import Spec
from .devices import setup_dev
from .mounts import is_bind, mount_entry, remount_bind


def _propagation_flags(prop: str) -> int:
    from .mounts import _PROPAGATION
    return _PROPAGATION[prop]


def parent_mount(path: str, mountinfo: str = "/proc/self/mountinfo") -> tuple[str, bool]:
    """The mount point ``path`` lives on (the topmost mount of the longest prefix) and whether that
    mount is shared."""
    path = os.path.realpath(path)
    best, shared = "/", False
    with open(mountinfo) as f:
        for line in f:
            fields = line.split()
            mp = fields[4]
            for esc, ch in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
                mp = mp.replace(esc, ch)
            if (path == mp or path.startswith(mp.rstrip("/") + "/")) and len(mp) >= len(best):
                best = mp
                shared = any(o.startswith("shared:") for o in fields[6:fields.index("-", 6)])
    return best, shared


def prepare(sys, spec: Spec, rootfs: str, bundle: str, *, userns: bool, cgroup_mounts=None) -> None:
    """Everything before pivot_root. Runs in the container's mount namespace."""
    prop = spec.linux.rootfs_propagation
    sys.mount(None, "/", None, _propagation_flags(prop) if prop else (C.MS_SLAVE | C.MS_REC))
    if prop:  # after the default rslave nothing can be shared any more
        # like runc: pivot_root refuses a rootfs whose parent mount is shared (EINVAL), and the
        # rootfs bind below would propagate back to the host
        parent, shared = parent_mount(rootfs)
        if shared:
            sys.mount(None, parent, None, C.MS_PRIVATE)
    sys.mount(rootfs, rootfs, None, C.MS_BIND | C.MS_REC)
    dev_bound = False
    for m in spec.mounts:
        mount_entry(sys, rootfs, bundle, m, userns=userns, cgroup_mounts=cgroup_mounts)
        if m.destination.rstrip("/") == "/dev" and is_bind(m):
            dev_bound = True
    if not dev_bound:
        setup_dev(sys, rootfs, spec.linux.devices, userns=userns)


def pivot(sys, rootfs: str) -> None:
    """pivot_root(".", ".") then detach the old root, as runc does (no temp dir needed)."""
    old = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    new = os.open(rootfs, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fchdir(new)
        sys.pivot_root(".", ".")
        os.fchdir(old)
        sys.mount(None, ".", None, C.MS_SLAVE | C.MS_REC)
        sys.umount2(".", C.MNT_DETACH)
    finally:
        os.close(old)
        os.close(new)
    os.chdir("/")


def chroot_into(rootfs: str) -> None:
    """Fallback when pivot_root is impossible (e.g. rootfs on ramfs/initramfs)."""
    os.chdir(rootfs)
    os.chroot(".")
    os.chdir("/")


def mask_paths(sys, paths: list[str]) -> None:
    for p in paths:
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                sys.mount("tmpfs", p, "tmpfs", C.MS_RDONLY, None)
            else:
                sys.mount("/dev/null", p, None, C.MS_BIND)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise


def readonly_paths(sys, paths: list[str]) -> None:
    for p in paths:
        try:
            sys.mount(p, p, None, C.MS_BIND | C.MS_REC)
        except OSError as e:
            if e.errno == errno.ENOENT:
                continue
            raise
        remount_bind(sys, p, C.MS_RDONLY | C.MS_REC)


def finish(sys, spec: Spec) -> None:
    """Everything after pivot_root."""
    mask_paths(sys, spec.linux.masked_paths)
    readonly_paths(sys, spec.linux.readonly_paths)
    if spec.root_readonly:
        remount_bind(sys, "/", C.MS_RDONLY)
    prop = spec.linux.rootfs_propagation
    if prop in ("shared", "rshared", "unbindable", "runbindable", "private", "rprivate"):
        sys.mount(None, "/", None, _propagation_flags(prop))
