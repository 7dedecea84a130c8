"""Where the cgroup hierarchies are, where this process sits in them, and
where a container's cgroup goes.

``detect_layout`` reads /proc/self/cgroup and /proc/self/mountinfo (both are
plain file paths so tests can hand in fakes) and finds, for cgroup v1, each
hierarchy's mount point and this process's own cgroup in it, and for cgroup v2
the unified mount. Mount points under /sys/fs/cgroup are re-rooted onto
``root`` (default /sys/fs/cgroup, so no change) — tests point ``root`` at a
temporary tree.

``resolve_cgroups_path`` turns the OCI ``linux.cgroupsPath`` into a path
*relative to the runtime's own cgroup*. Container cgroups are always nested
under the runtime's own cgroup in every hierarchy:

* ""                     -> dockyard/<id>
* "a/b" or "/a/b"        -> a/b   (an absolute path is deliberately NOT taken
                                    from the hierarchy root: the runtime never
                                    creates cgroups outside its own subtree)
* "slice:prefix:name"    -> <slice>/<prefix>-<name>.scope (systemd style; no
                            systemd is involved, the names are only mapped)
".." components are refused.
"""
from __future__ import annotations

import os
from ..util.record import record as dataclass

from .errors import CgroupError

CGROUP_ROOT = "/sys/fs/cgroup"
DEFAULT_PARENT = "dockyard"


@dataclass(frozen=True)
class Hierarchy:
    """One cgroup v1 hierarchy."""
    name: str                     # as in /proc/self/cgroup: "memory", "cpu,cpuacct", "name=systemd"
    controllers: tuple[str, ...]  # () for a named hierarchy (name=systemd)
    mount: str                    # host directory the hierarchy is mounted on
    own: str                      # this process's cgroup relative to the mount: "/" or "/a/b"

    @property
    def own_dir(self) -> str:
        return _join(self.mount, self.own)


@dataclass(frozen=True)
class Unified:
    """The cgroup v2 hierarchy."""
    mount: str
    own: str

    @property
    def own_dir(self) -> str:
        return _join(self.mount, self.own)


@dataclass(frozen=True)
class Layout:
    mode: str                          # "v1", "hybrid" or "v2"
    hierarchies: tuple[Hierarchy, ...]  # v1 hierarchies (empty for v2)
    unified: Unified | None            # the cgroup2 mount, if any


@dataclass(frozen=True)
class _Mount:
    root: str
    mountpoint: str
    fstype: str
    super_options: tuple[str, ...]


def _join(mount: str, cg: str) -> str:
    cg = cg.strip("/")
    return os.path.join(mount, cg) if cg else mount


def _unescape(s: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    out, i = [], 0
    while i < len(s):
        oct_ = s[i + 1:i + 4]
        if s[i] == "\\" and len(oct_) == 3 and all(c in "01234567" for c in oct_):
            out.append(chr(int(oct_, 8)))
            i += 4
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[_Mount]:
    """The cgroup and cgroup2 mounts of a mountinfo file."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        try:
            sep = fields.index("-", 6)
        except ValueError:
            continue
        if len(fields) < sep + 4:
            continue
        fstype = fields[sep + 1]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        mounts.append(_Mount(_unescape(fields[3]), _unescape(fields[4]), fstype,
                             tuple(fields[sep + 3].split(","))))
    return mounts


def parse_proc_cgroup(text: str) -> list[tuple[str, str]]:
    """(hierarchy name, path) per line of /proc/PID/cgroup; v2 has name ""."""
    out = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        out.append((parts[1], parts[2]))
    return out


def _rebase(mountpoint: str, root: str) -> str | None:
    if root == CGROUP_ROOT:
        return mountpoint
    if mountpoint == CGROUP_ROOT:
        return root
    if mountpoint.startswith(CGROUP_ROOT + "/"):
        return root + mountpoint[len(CGROUP_ROOT):]
    return None


def _relative_to_mount(cg: str, mount_root: str) -> str | None:
    if mount_root == "/":
        return cg
    if cg == mount_root:
        return "/"
    if cg.startswith(mount_root + "/"):
        return cg[len(mount_root):]
    return None


def detect_layout(proc_cgroup: str = "/proc/self/cgroup", mountinfo: str = "/proc/self/mountinfo",
                  root: str = CGROUP_ROOT) -> Layout:
    try:
        with open(proc_cgroup) as f:
            own = parse_proc_cgroup(f.read())
        with open(mountinfo) as f:
            mounts = parse_mountinfo(f.read())
    except OSError as e:
        raise CgroupError(f"cgroup: cannot read {e.filename}: {e.strerror}") from None

    hierarchies: list[Hierarchy] = []
    unified = None
    for name, path in own:
        if name == "":
            for m in mounts:
                if m.fstype != "cgroup2":
                    continue
                rel, mp = _relative_to_mount(path, m.root), _rebase(m.mountpoint, root)
                if rel is not None and mp is not None:
                    unified = Unified(mp, rel)
                    break
            continue
        parts = tuple(p for p in name.split(","))
        if any(p.startswith("name=") for p in parts):
            if parts != ("name=systemd",):
                continue  # other named hierarchies are not ours to manage
            controllers: tuple[str, ...] = ()
        else:
            controllers = parts
        for m in mounts:
            if m.fstype != "cgroup" or not set(parts) <= set(m.super_options):
                continue
            rel, mp = _relative_to_mount(path, m.root), _rebase(m.mountpoint, root)
            if rel is not None and mp is not None:
                hierarchies.append(Hierarchy(name, controllers, mp, rel))
                break

    if any(h.controllers for h in hierarchies):
        mode = "hybrid" if unified else "v1"
    elif unified:
        mode, hierarchies = "v2", []
    else:
        raise CgroupError("cgroup: no cgroup filesystem is mounted")
    return Layout(mode, tuple(hierarchies), unified)


def _components(path: str, what: str) -> list[str]:
    parts = []
    for p in path.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            raise CgroupError(f"cgroup: invalid {what} {path!r}: '..' is not allowed")
        if any(ord(c) < 0x20 or c == "\x7f" for c in p):
            raise CgroupError(f"cgroup: invalid {what} {path!r}: control characters are not allowed")
        parts.append(p)
    return parts


def resolve_cgroups_path(cgroups_path: str, container_id: str) -> str:
    """The container's cgroup, relative to the runtime's own cgroup ("a/b")."""
    if not container_id or "/" in container_id or container_id in (".", "..") or \
            any(ord(c) < 0x20 for c in container_id):
        raise CgroupError(f"cgroup: invalid container id {container_id!r}")
    if not cgroups_path:
        return f"{DEFAULT_PARENT}/{container_id}"
    if "/" not in cgroups_path and cgroups_path.count(":") == 2:
        return _systemd_style(cgroups_path)
    parts = _components(cgroups_path, "cgroupsPath")
    if not parts:
        raise CgroupError(f"cgroup: invalid cgroupsPath {cgroups_path!r}: it names the runtime's own cgroup")
    return "/".join(parts)


def _systemd_style(value: str) -> str:
    slice_, prefix, name = value.split(":")
    if not name:
        raise CgroupError(f"cgroup: invalid cgroupsPath {value!r}: the unit name is empty")
    slice_ = slice_ or "system.slice"
    if not slice_.endswith(".slice"):
        raise CgroupError(f"cgroup: invalid cgroupsPath {value!r}: {slice_!r} is not a slice name (*.slice)")
    if name.endswith(".slice"):
        unit = name
    else:
        unit = f"{prefix}-{name}.scope" if prefix else f"{name}.scope"
    parts = _components(f"{slice_}/{unit}", "cgroupsPath")
    if len(parts) != 2:
        raise CgroupError(f"cgroup: invalid cgroupsPath {value!r}")
    return "/".join(parts)
