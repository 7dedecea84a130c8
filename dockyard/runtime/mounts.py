"""OCI mount entries: options to mount(2) flags, and mounting one entry inside the rootfs."""
from __future__ import annotations

import os
from ..util.record import record as dataclass

from ..kernel import consts as C
from ..spec.runtime import Mount
from .paths import create_mount_target, secure_join

# option -> (clear?, flag)
_FLAGS = {
    "ro": (False, C.MS_RDONLY), "rw": (True, C.MS_RDONLY),
    "nosuid": (False, C.MS_NOSUID), "suid": (True, C.MS_NOSUID),
    "nodev": (False, C.MS_NODEV), "dev": (True, C.MS_NODEV),
    "noexec": (False, C.MS_NOEXEC), "exec": (True, C.MS_NOEXEC),
    "sync": (False, C.MS_SYNCHRONOUS), "async": (True, C.MS_SYNCHRONOUS),
    "dirsync": (False, C.MS_DIRSYNC), "remount": (False, C.MS_REMOUNT),
    "mand": (False, C.MS_MANDLOCK), "nomand": (True, C.MS_MANDLOCK),
    "atime": (True, C.MS_NOATIME), "noatime": (False, C.MS_NOATIME),
    "diratime": (True, C.MS_NODIRATIME), "nodiratime": (False, C.MS_NODIRATIME),
    "bind": (False, C.MS_BIND), "rbind": (False, C.MS_BIND | C.MS_REC),
    "relatime": (False, C.MS_RELATIME), "norelatime": (True, C.MS_RELATIME),
    "strictatime": (False, C.MS_STRICTATIME), "nostrictatime": (True, C.MS_STRICTATIME),
    "nosymfollow": (False, C.MS_NOSYMFOLLOW), "symfollow": (True, C.MS_NOSYMFOLLOW),
}
_PROPAGATION = {
    "private": C.MS_PRIVATE, "rprivate": C.MS_PRIVATE | C.MS_REC,
    "shared": C.MS_SHARED, "rshared": C.MS_SHARED | C.MS_REC,
    "slave": C.MS_SLAVE, "rslave": C.MS_SLAVE | C.MS_REC,
    "unbindable": C.MS_UNBINDABLE, "runbindable": C.MS_UNBINDABLE | C.MS_REC,
}
# options that only runc-style runtimes interpret; the kernel must not see them
_IGNORED = {"tmpcopyup", "defaults", "rro", "rrw", "rnosuid", "rnodev", "rnoexec", "idmap", "ridmap", "copy-symlink"}
# flags kept from the mounted filesystem when remounting a bind read-only (locked in a user namespace)
_STATVFS_FLAGS = ((os.ST_NOSUID, C.MS_NOSUID), (os.ST_NODEV, C.MS_NODEV), (os.ST_NOEXEC, C.MS_NOEXEC),
                  (os.ST_NOATIME, C.MS_NOATIME), (os.ST_NODIRATIME, C.MS_NODIRATIME), (os.ST_RELATIME, C.MS_RELATIME))


@dataclass
class ParsedOptions:
    flags: int = 0
    propagation: list[int] | None = None
    data: str = ""


def parse_options(options: list[str]) -> ParsedOptions:
    flags, prop, data = 0, [], []
    for opt in options:
        if opt in _FLAGS:
            clear, f = _FLAGS[opt]
            flags = (flags & ~f) if clear else (flags | f)
        elif opt in _PROPAGATION:
            prop.append(_PROPAGATION[opt])
        elif opt in _IGNORED:
            continue
        else:
            data.append(opt)
    return ParsedOptions(flags, prop, ",".join(data))


def locked_flags(path: str) -> int:
    """Flags of the filesystem at path that a remount must keep (see runc's getUnprivilegedMountFlags)."""
    f = os.statvfs(path).f_flag
    return sum(mf for sf, mf in _STATVFS_FLAGS if f & sf)


def remount_bind(sys, path: str, flags: int) -> None:
    sys.mount(None, path, None, C.MS_BIND | C.MS_REMOUNT | flags | locked_flags(path))


def is_bind(m: Mount) -> bool:
    return m.type == "bind" or "bind" in m.options or "rbind" in m.options


def mount_entry(sys, rootfs: str, bundle: str, m: Mount, *, userns: bool, cgroup_mounts=None) -> None:
    """Mount one spec entry at rootfs + m.destination (already resolved safely)."""
    opts = parse_options(m.options)
    if is_bind(m):
        src = m.source if m.source.startswith("/") else os.path.join(bundle, m.source)
        if not os.path.exists(src):
            raise OSError(2, f"bind mount source {src} does not exist")
        dest = create_mount_target(rootfs, m.destination, os.path.isdir(src))
        rec = C.MS_REC if "rbind" in m.options else 0
        sys.mount(src, dest, None, C.MS_BIND | rec)
        extra = opts.flags & ~(C.MS_BIND | C.MS_REC | C.MS_REMOUNT)
        if extra:
            remount_bind(sys, dest, extra)
    elif m.type == "cgroup":
        _mount_cgroup(sys, rootfs, m, opts, cgroup_mounts or [])
        return
    else:
        dest = create_mount_target(rootfs, m.destination, True)
        src = m.source or m.type
        try:
            sys.mount(src, dest, m.type, opts.flags, opts.data or None)
        except OSError as e:
            # sysfs in a user namespace that does not own the network namespace:
            # bind the host's /sys instead (as runc does)
            if m.type == "sysfs" and e.errno in (1, 13):
                sys.mount("/sys", dest, None, C.MS_BIND | C.MS_REC)
                remount_bind(sys, dest, opts.flags & C.MS_RDONLY)
            elif m.type == "mqueue" and e.errno in (1, 13) and userns:
                sys.mount("/dev/mqueue", dest, None, C.MS_BIND)
            else:
                raise
    for p in opts.propagation or []:
        sys.mount(None, dest, None, p)


def _mount_cgroup(sys, rootfs: str, m: Mount, opts: ParsedOptions, cgroup_mounts) -> None:
    """A tmpfs at the destination with each of the container's cgroup dirs bound under it."""
    dest = create_mount_target(rootfs, m.destination, True)
    ro = opts.flags & C.MS_RDONLY
    base = opts.flags & (C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC)
    if len(cgroup_mounts) == 1 and cgroup_mounts[0][0] == "":
        host = cgroup_mounts[0][1]
        sys.mount(host, dest, None, C.MS_BIND | C.MS_REC)
        if ro or base:
            remount_bind(sys, dest, ro | base)
        return
    sys.mount("tmpfs", dest, "tmpfs", base, "mode=755")
    for name, host in cgroup_mounts:
        sub = os.path.join(dest, name)
        os.makedirs(sub, exist_ok=True)
        sys.mount(host, sub, None, C.MS_BIND | C.MS_REC)
        remount_bind(sys, sub, ro | base)
        if "," in name:  # cpu,cpuacct -> links cpu and cpuacct
            for part in name.split(","):
                link = os.path.join(dest, part)
                if not os.path.lexists(link):
                    os.symlink(name, link)
    if ro:
        sys.mount(None, dest, None, C.MS_BIND | C.MS_REMOUNT | C.MS_RDONLY | base)


def resolve_in_root(rootfs: str, dest: str) -> str:
    return secure_join(rootfs, dest)
