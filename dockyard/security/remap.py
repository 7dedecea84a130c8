"""``userns-remap``: the daemon option that runs containers in a user namespace whose root is an
unprivileged range of host ids taken from /etc/subuid and /etc/subgid.

``resolve("default" | "USER" | "USER:GROUP")`` -> ``IdMap``. ``default`` uses the user
``dockyard`` (created as a system user without a home, a login shell or membership of the
socket group, with a 65536-id range above every existing one, when it is missing — as dockerd
does for ``dockremap``). Names or numeric ids are accepted for USER and GROUP; GROUP defaults to
USER's name. Container ids 0.. are mapped onto the user's ranges in file order.

A remapped daemon keeps its state in ``<data-root>/<uid>.<gid>`` (``IdMap.dir_name``), where
image layers are unpacked with their owners shifted into the range, so layers unpacked for
one mapping are never seen by containers with another (or none).
"""
from __future__ import annotations

import grp
import pwd
import shutil
import subprocess
from typing import Callable, NamedTuple

from . import subids

DEFAULT_USER = "dockyard"


class RemapError(ValueError):
    """The userns-remap setting cannot be used; the message says why."""


class Mapping(NamedTuple):
    container_id: int
    host_id: int
    size: int


def _maps(ranges: list[subids.Range]) -> tuple[Mapping, ...]:
    out, next_id = [], 0
    for r in ranges:
        out.append(Mapping(next_id, r.start, r.count))
        next_id += r.count
    return tuple(out)


def _to_host(maps: tuple[Mapping, ...], cid: int, what: str) -> int:
    for m in maps:
        if m.container_id <= cid < m.container_id + m.size:
            return m.host_id + cid - m.container_id
    raise RemapError(f"container {what} {cid} cannot be mapped to a host {what} "
                     f"(the user namespace maps {sum(m.size for m in maps)} ids)")


def _to_container(maps: tuple[Mapping, ...], hid: int) -> int | None:
    for m in maps:
        if m.host_id <= hid < m.host_id + m.size:
            return m.container_id + hid - m.host_id
    return None


class IdMap:
    """uid and gid mappings of a remapped daemon's containers."""

    def __init__(self, uids, gids, user: str = "", group: str = ""):
        self.uids, self.gids = tuple(Mapping(*m) for m in uids), tuple(Mapping(*m) for m in gids)
        if not self.uids or not self.gids:
            raise RemapError("a user namespace needs at least one uid and one gid range")
        for what, maps in (("uid", self.uids), ("gid", self.gids)):
            total = sum(m.size for m in maps)
            if any(m.host_id < total for m in maps):
                # then a shifted id could not be told from an unshifted one (remap_snapshots)
                raise RemapError(f"userns-remap: the subordinate {what} ranges must lie above the "
                                 f"{total} ids they map (start at {total} or higher)")
        self.user, self.group = user, group

    def host_uid(self, uid: int) -> int:
        return _to_host(self.uids, uid, "uid")

    def host_gid(self, gid: int) -> int:
        return _to_host(self.gids, gid, "gid")

    def container_uid(self, uid: int) -> int | None:
        return _to_container(self.uids, uid)

    def container_gid(self, gid: int) -> int | None:
        return _to_container(self.gids, gid)

    def shift(self, uid: int, gid: int) -> tuple[int, int]:
        """A layer entry's owner -> the owner on the host (raises ``RemapError`` outside the range)."""
        return self.host_uid(uid), self.host_gid(gid)

    def root(self) -> tuple[int, int]:
        return self.host_uid(0), self.host_gid(0)

    @property
    def dir_name(self) -> str:
        uid, gid = self.root()
        return f"{uid}.{gid}"

    def spec_mappings(self) -> tuple[list[dict], list[dict]]:
        """(linux.uidMappings, linux.gidMappings)."""
        def conv(maps):
            return [{"containerID": m.container_id, "hostID": m.host_id, "size": m.size} for m in maps]
        return conv(self.uids), conv(self.gids)

    def __repr__(self) -> str:
        return f"IdMap(uids={list(self.uids)}, gids={list(self.gids)})"


def parse(text: str) -> tuple[str, str]:
    """``USER[:GROUP]`` -> (user, group); group is "" when not given."""
    if not isinstance(text, str) or not text.strip():
        raise RemapError("userns-remap: empty value (use default, USER or USER:GROUP)")
    user, sep, group = text.strip().partition(":")
    if not user or (sep and not group) or ":" in group:
        raise RemapError(f"userns-remap: invalid value {text!r} (use default, USER or USER:GROUP)")
    return user, group


def _user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except KeyError:
        raise RemapError(f"userns-remap: user {name!r} not found") from None


def _group(name: str) -> tuple[str, int]:
    try:
        g = grp.getgrgid(int(name)) if name.isdigit() else grp.getgrnam(name)
        return g.gr_name, g.gr_gid
    except KeyError:
        if name.isdigit():
            return name, int(name)
        raise RemapError(f"userns-remap: group {name!r} not found") from None


def create_default_user(name: str = DEFAULT_USER, run: Callable = subprocess.run) -> bool:
    """Create the system user ``name`` if missing; True when it was created."""
    try:
        pwd.getpwnam(name)
        return False
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    nologin = shutil.which("nologin") or "/usr/sbin/nologin"
    # -N -g nogroup: not a member of a group named like it (the API socket's group is "dockyard")
    group = "nogroup"
    try:
        grp.getgrnam(group)
    except KeyError:
        group = "65534"
    p = run([useradd, "--system", "--no-create-home", "--shell", nologin, "--no-user-group", "--gid", group,
             "--comment", "Dockyard user namespace remapping", name], capture_output=True, text=True)
    if p.returncode != 0:
        raise RemapError(f"userns-remap: creating user {name!r} failed: {(p.stderr or p.stdout).strip()}")
    return True


def resolve(value: str, *, subuid: str = subids.SUBUID, subgid: str = subids.SUBGID,
            create: bool = True, run: Callable = subprocess.run) -> IdMap:
    """The mappings for a userns-remap value (see the module doc)."""
    if isinstance(value, str) and value.strip() == "default":
        if create:
            create_default_user(DEFAULT_USER, run)
            subids.allocate(subuid, DEFAULT_USER)
            subids.allocate(subgid, DEFAULT_USER)
        user_text, group_text = DEFAULT_USER, DEFAULT_USER
        pw = _user(DEFAULT_USER)
        gname, gid = DEFAULT_USER, None
    else:
        user_text, group_text = parse(value)
        pw = _user(user_text)
        if group_text:
            gname, gid = _group(group_text)
        else:
            gname, gid = pw.pw_name, None
    uranges = subids.ranges_for(subuid, pw.pw_name, pw.pw_uid)
    if not uranges:
        raise RemapError(f"userns-remap: no subordinate uid range for user {pw.pw_name!r} in {subuid}")
    granges = subids.ranges_for(subgid, gname, gid)
    if not granges:
        raise RemapError(f"userns-remap: no subordinate gid range for group {gname!r} in {subgid}")
    return IdMap(_maps(uranges), _maps(granges), pw.pw_name, gname)
