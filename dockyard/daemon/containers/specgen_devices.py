"""Device nodes for a container: ``--device``, ``--device-cgroup-rule`` and ``--privileged``'s host devices.

A device entry is what ``linux.devices`` holds (type, path, major, minor, fileMode, uid, gid) — read
from the host node with ``lstat`` — and each one also gets a cgroup allow rule with the requested
permissions.
"""
from __future__ import annotations

import os
import re
import stat

from .defaults import HOST_DEVICE_SKIP_DIRS
from .specgen_errors import SpecGenError

_RULE = re.compile(r"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$")
_PERMS = re.compile(r"^[rwm]{1,3}$")


class NotADevice(Exception):
    pass


def device_from_path(path: str) -> dict:
    """The ``linux.devices`` entry of a host node (not following a final symlink)."""
    st = os.lstat(path)
    if stat.S_ISCHR(st.st_mode):
        kind = "c"
    elif stat.S_ISBLK(st.st_mode):
        kind = "b"
    else:
        raise NotADevice(path)
    return {"path": path, "type": kind, "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
            "fileMode": st.st_mode & 0o7777, "uid": st.st_uid, "gid": st.st_gid}


def cgroup_rule(dev: dict, access: str) -> dict:
    return {"allow": True, "type": dev["type"], "major": dev["major"], "minor": dev["minor"], "access": access}


def _valid_perms(perms: str) -> bool:
    return bool(_PERMS.match(perms)) and len(set(perms)) == len(perms)


def devices_from_mapping(on_host: str, in_container: str, perms: str) -> tuple[list[dict], list[dict]]:
    """``--device host[:container][:perms]``: one node, or every node below a directory."""
    perms = perms or "rwm"
    in_container = in_container or on_host
    if not _valid_perms(perms):
        raise SpecGenError(f"{on_host} invalid device mode: {perms}")
    for p in (on_host, in_container):
        if not p.startswith("/"):
            raise SpecGenError(f"device path must be absolute: {p!r}")
    target = "/" + os.path.normpath(in_container).lstrip("/")
    devs, rules = _gather(on_host, target, perms)
    for d in devs:  # runc would take any path; dockyard-runtime makes device nodes under /dev only
        if not d["path"].startswith("/dev/"):
            raise SpecGenError(f"device {on_host}: the path in the container must be under /dev, got {d['path']}")
    return devs, rules


def _gather(on_host: str, in_container: str, perms: str) -> tuple[list[dict], list[dict]]:
    resolved = on_host
    if os.path.islink(on_host):
        resolved = os.path.realpath(on_host)
    try:
        dev = device_from_path(resolved)
        dev["path"] = in_container
        return [dev], [cgroup_rule(dev, perms)]
    except NotADevice:
        if os.path.isdir(resolved):
            devs = []
            for path in _walk(resolved, skip=()):
                try:
                    d = device_from_path(path)
                except (NotADevice, OSError):
                    continue
                d["path"] = in_container + path[len(resolved):]
                devs.append(d)
            if devs:
                return devs, [cgroup_rule(d, perms) for d in devs]
        reason = "not a device node"
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
    raise SpecGenError(f"error gathering device information while adding custom device \"{on_host}\": {reason}")


def _walk(root: str, skip) -> list[str]:
    """Paths below root in lexical order, like Go's filepath.Walk; symlinks are not followed."""
    out = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return out
    for name in names:
        path = os.path.join(root, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            if name not in skip:
                out.extend(_walk(path, skip))
            continue
        out.append(path)
    return out


def host_devices(dev_root: str = "/dev") -> list[dict]:
    """Every device node of the host (``--privileged``), as runc lists them: no /dev/console, no pts/shm/…"""
    out = []
    for path in _walk(dev_root, HOST_DEVICE_SKIP_DIRS):
        rel = "/dev" + path[len(dev_root):]
        if rel == "/dev/console":
            continue
        try:
            d = device_from_path(path)
        except (NotADevice, OSError):
            continue
        d["path"] = rel
        out.append(d)
    return out


def parse_cgroup_rule(rule: str) -> dict:
    """``c 42:* rmw`` -> a linux.resources.devices entry (``*`` is -1, any)."""
    m = _RULE.match(rule.strip())
    if not m:
        raise SpecGenError(f"invalid device cgroup format '{rule}'")
    kind, major, minor, access = m.groups()
    return {"allow": True, "type": kind, "major": -1 if major == "*" else int(major),
            "minor": -1 if minor == "*" else int(minor), "access": access}
