"""/dev inside the container: the default devices, linux.devices, and the standard links."""
from __future__ import annotations

import os
import stat

from ..kernel import consts as C
from ..spec.runtime import Device, DeviceRule, Resources
from .paths import create_mount_target, secure_join

DEFAULT_DEVICES = [
    Device("c", "/dev/null", 1, 3, 0o666, 0, 0),
    Device("c", "/dev/zero", 1, 5, 0o666, 0, 0),
    Device("c", "/dev/full", 1, 7, 0o666, 0, 0),
    Device("c", "/dev/random", 1, 8, 0o666, 0, 0),
    Device("c", "/dev/urandom", 1, 9, 0o666, 0, 0),
    Device("c", "/dev/tty", 5, 0, 0o666, 0, 0),
]

LINKS = [
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"),
]

_TYPES = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}


def create_device(sys, rootfs: str, dev: Device, *, userns: bool) -> None:
    """mknod the device; in a user namespace (no mknod) bind the host's node instead."""
    if userns:
        host = dev.path
        if not os.path.exists(host):
            return
        target = create_mount_target(rootfs, dev.path, False)
        sys.mount(host, target, None, C.MS_BIND)
        return
    target = secure_join(rootfs, dev.path)
    parent = os.path.dirname(dev.path)
    if parent != "/dev":
        create_mount_target(rootfs, parent, True)
    if os.path.lexists(target):
        os.unlink(target)
    mode = dev.file_mode if dev.file_mode is not None else 0o666
    os.mknod(target, _TYPES[dev.type] | mode, os.makedev(dev.major, dev.minor) if dev.type != "p" else 0)
    os.chmod(target, mode)  # mknod is subject to the umask
    os.chown(target, dev.uid or 0, dev.gid or 0)


def setup_dev(sys, rootfs: str, devices: list[Device], *, userns: bool) -> None:
    wanted = {d.path: d for d in DEFAULT_DEVICES}
    for d in devices:
        wanted[d.path] = d
    for dev in wanted.values():
        create_device(sys, rootfs, dev, userns=userns)
    for src, link in LINKS:
        target = secure_join(rootfs, link)
        if os.path.lexists(target):
            if os.path.islink(target) or link == "/dev/ptmx":
                os.unlink(target)
            else:
                continue
        os.symlink(src, target)
    if os.path.exists("/proc/kcore"):
        core = secure_join(rootfs, "/dev/core")
        if not os.path.lexists(core):
            os.symlink("/proc/kcore", core)


# Always allowed in the devices cgroup (runc's specconv.AllowedDevices): mknod of any node, the default
# devices, /dev/console, /dev/ptmx and the pty slaves. Appended after the config's own rules.
_ALWAYS_ALLOWED = [
    DeviceRule(True, "c", None, None, "m"), DeviceRule(True, "b", None, None, "m"),
    DeviceRule(True, "c", 1, 3, "rwm"), DeviceRule(True, "c", 1, 8, "rwm"), DeviceRule(True, "c", 1, 7, "rwm"),
    DeviceRule(True, "c", 5, 0, "rwm"), DeviceRule(True, "c", 1, 5, "rwm"), DeviceRule(True, "c", 1, 9, "rwm"),
    DeviceRule(True, "c", 5, 1, "rwm"), DeviceRule(True, "c", 136, None, "rwm"), DeviceRule(True, "c", 5, 2, "rwm"),
]


def cgroup_device_rules(resources: Resources | None, devices: list[Device]) -> Resources:
    """The resources to apply: the config's device rules, then the always-allowed ones and linux.devices."""
    res = Resources()
    if resources is not None:  # a shallow copy (the copy module costs 2 ms to import)
        res.__dict__.update(resources.__dict__)
    rules = list(res.devices)
    rules += _ALWAYS_ALLOWED
    rules += [DeviceRule(True, "b" if d.type == "b" else "c", d.major, d.minor, "rwm")
              for d in devices if d.type in ("c", "b", "u")]
    res.devices = rules
    return res
