"""``docker run --user`` resolved against the container's own /etc/passwd and /etc/group.

The files are read inside the container's root filesystem: every symlink is resolved as if the
rootfs were ``/`` (``runtime.paths.secure_join``), the final open refuses a symlink, a non-regular
file (a FIFO would block the daemon) and anything larger than ``MAX_FILE_SIZE``.

The rules are libcontainer's (what dockerd uses): ``name``, ``uid``, ``name:group``, ``uid:gid``…; a
numeric user that passwd does not list is fine (gid 0), an unknown name is an error; without an
explicit group the user's supplementary groups are the groups that list it as a member. Like dockerd
since 20.10.18, the primary gid is also the first additional gid, so dropping a group through
setgroups cannot be used to escape a group-denied permission.
"""
from __future__ import annotations

import errno
import os
import stat

from ...runtime.paths import secure_join

MAX_FILE_SIZE = 16 << 20
MAX_ID = (1 << 31) - 1


class UserLookupError(ValueError):
    """The user or a group cannot be resolved (messages are dockerd's)."""


class PasswdEntry:
    __slots__ = ("name", "uid", "gid", "home", "shell")

    def __init__(self, name: str, uid: int, gid: int, home: str = "", shell: str = ""):
        self.name, self.uid, self.gid, self.home, self.shell = name, uid, gid, home, shell


class GroupEntry:
    __slots__ = ("name", "gid", "members")

    def __init__(self, name: str, gid: int, members: list[str]):
        self.name, self.gid, self.members = name, gid, members


class ExecUser:
    """What the container process runs as."""

    __slots__ = ("uid", "gid", "additional_gids", "home", "name")

    def __init__(self, uid: int, gid: int, additional_gids: list[int], home: str = "/", name: str = ""):
        self.uid, self.gid, self.additional_gids, self.home, self.name = uid, gid, additional_gids, home, name

    def __repr__(self):
        return f"ExecUser(uid={self.uid}, gid={self.gid}, additional_gids={self.additional_gids}, home={self.home!r})"


def read_rootfs_file(rootfs: str, path: str) -> str | None:
    """The text of ``path`` inside the rootfs, or None when it does not exist."""
    try:
        host = secure_join(rootfs, path)
        fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno in (errno.ENOTDIR,):
            return None
        if e.errno == errno.ELOOP:
            raise UserLookupError(f"{path} in the container is a symbolic link that cannot be resolved") from None
        raise UserLookupError(f"cannot read {path} in the container: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserLookupError(f"{path} in the container is not a regular file")
        if st.st_size > MAX_FILE_SIZE:
            raise UserLookupError(f"{path} in the container is larger than {MAX_FILE_SIZE} bytes")
        chunks, total = [], 0
        while True:
            b = os.read(fd, 1 << 16)
            if not b:
                break
            total += len(b)
            if total > MAX_FILE_SIZE:
                raise UserLookupError(f"{path} in the container is larger than {MAX_FILE_SIZE} bytes")
            chunks.append(b)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def _id(text: str) -> int | None:
    if not text.isdigit() or not text.isascii():
        return None
    v = int(text)
    return v if v <= MAX_ID else None


def parse_passwd(text: str) -> list[PasswdEntry]:
    """name:password:uid:gid:gecos:home:shell lines; malformed lines are skipped (never read as uid 0)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = line.split(":")
        if len(f) < 4:
            continue
        uid, gid = _id(f[2]), _id(f[3])
        if uid is None or gid is None or not f[0]:
            continue
        out.append(PasswdEntry(f[0], uid, gid, f[5] if len(f) > 5 else "", f[6] if len(f) > 6 else ""))
    return out


def parse_group(text: str) -> list[GroupEntry]:
    """name:password:gid:member,member lines; malformed lines are skipped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = line.split(":")
        if len(f) < 3:
            continue
        gid = _id(f[2])
        if gid is None or not f[0]:
            continue
        members = [m for m in f[3].split(",") if m] if len(f) > 3 else []
        out.append(GroupEntry(f[0], gid, members))
    return out


def _range_check(value: int, what: str) -> int:
    if value > MAX_ID:
        raise UserLookupError(f"{what} {value} is out of range (0-{MAX_ID})")
    return value


def exec_user(spec: str, passwd: list[PasswdEntry] | None, groups: list[GroupEntry] | None) -> ExecUser:
    """libcontainer's GetExecUser: ``passwd``/``groups`` None means the file does not exist."""
    user_arg, _, group_arg = (spec or "").partition(":")
    uid_num = _id(user_arg) if user_arg else None
    gid_num = _id(group_arg) if group_arg else None
    if user_arg and uid_num is None and user_arg.isdigit():
        raise UserLookupError(f"uid {user_arg} is out of range (0-{MAX_ID})")
    if group_arg and gid_num is None and group_arg.isdigit():
        raise UserLookupError(f"gid {group_arg} is out of range (0-{MAX_ID})")

    uid, gid, home, matched = 0, 0, "/", ""
    entries = passwd or []
    if not user_arg:
        hit = next((u for u in entries if u.uid == 0), None)
    elif uid_num is not None:
        hit = next((u for u in entries if u.uid == uid_num), None)
    else:
        hit = next((u for u in entries if u.name == user_arg), None)
    if hit is not None:
        uid, gid, home, matched = hit.uid, hit.gid, hit.home or "/", hit.name
    elif user_arg:
        if uid_num is None:
            raise UserLookupError(f"unable to find user {user_arg}: no matching entries in passwd file")
        uid = _range_check(uid_num, "uid")

    sgids: list[int] = []
    if group_arg or matched:
        gentries = groups or []
        if group_arg:
            if gid_num is not None:
                ghit = next((g for g in gentries if g.gid == gid_num), None)
            else:
                ghit = next((g for g in gentries if g.name == group_arg), None)
            if ghit is not None:
                gid = ghit.gid
            elif gid_num is None:
                raise UserLookupError(f"unable to find group {group_arg}: no matching entries in group file")
            else:
                gid = _range_check(gid_num, "gid")
        else:
            sgids = [g.gid for g in gentries if matched in g.members]
    return ExecUser(uid, gid, sgids, home, matched)


def additional_groups(names: list[str], groups: list[GroupEntry] | None) -> list[int]:
    """``--group-add`` entries (names or numbers) -> gids, in order, without duplicates."""
    out: list[int] = []
    for ag in names:
        hit = next((g for g in groups or [] if g.name == ag or str(g.gid) == ag), None)
        if hit is not None:
            gid = hit.gid
        else:
            num = _id(ag)
            if num is None:
                raise UserLookupError(f"Unable to find group {ag}: no matching entries in group file")
            gid = num
        if gid not in out:
            out.append(gid)
    return out


def resolve_user(rootfs: str, spec: str, group_add: list[str] | tuple = ()) -> ExecUser:
    """The user a container runs as, from its rootfs; ``additional_gids`` = [gid] + groups + group_add."""
    for what, value in (("user", spec), *(("group", g) for g in group_add)):
        if any(c in value for c in "\x00\n") or len(value) > 256:
            raise UserLookupError(f"invalid {what} {value!r}")
    passwd_text = read_rootfs_file(rootfs, "/etc/passwd")
    group_text = read_rootfs_file(rootfs, "/etc/group")
    passwd = parse_passwd(passwd_text) if passwd_text is not None else None
    groups = parse_group(group_text) if group_text is not None else None
    u = exec_user(spec, passwd, groups)
    extra = additional_groups(list(group_add), groups) if group_add else []
    u.additional_gids = [u.gid] + u.additional_gids + extra
    return u
