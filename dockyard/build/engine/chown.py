"""``COPY --chown=user[:group]``: names resolved in the image's own /etc/passwd and /etc/group.

The rules are dockerd's: a number is taken as is; a name must be listed; ``--chown=user`` alone
looks the same word up as the group too (``--chown=1000`` is 1000:1000).
"""
from __future__ import annotations

from ...daemon.containers.userlookup import parse_group, parse_passwd, read_rootfs_file
from .errors import CopyError

MAX_ID = (1 << 31) - 1


def _number(text: str) -> int | None:
    if text.isascii() and text.isdigit():
        v = int(text)
        if v > MAX_ID:
            raise CopyError(f"invalid chown value {text}: out of range")
        return v
    return None


def resolve_chown(rootfs: str, spec: str) -> tuple[int, int]:
    """(uid, gid) for a ``--chown`` value, looked up in the rootfs directory ``rootfs``."""
    parts = spec.split(":")
    if len(parts) > 2 or not parts[0]:
        raise CopyError(f"invalid chown string format: {spec}")
    user = parts[0]
    group = parts[1] if len(parts) == 2 else parts[0]
    if not group:
        raise CopyError(f"invalid chown string format: {spec}")
    uid = _number(user)
    if uid is None:
        text = read_rootfs_file(rootfs, "/etc/passwd")
        found = [e for e in parse_passwd(text or "") if e.name == user]
        if not found:
            raise CopyError("unable to convert uid/gid chown string to host mapping: "
                            f"can't find uid for user {user}: no such user: {user}")
        uid = found[0].uid
    gid = _number(group)
    if gid is None:
        text = read_rootfs_file(rootfs, "/etc/group")
        found_g = [g for g in parse_group(text or "") if g.name == group]
        if not found_g:
            raise CopyError("unable to convert uid/gid chown string to host mapping: "
                            f"can't find gid for group {group}: no such group: {group}")
        gid = found_g[0].gid
    return uid, gid
