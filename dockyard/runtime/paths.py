"""Paths inside a container's rootfs, resolved without ever leaving it.

``secure_join(root, path)`` resolves every symlink component as if ``root`` were
``/`` (like filepath-securejoin), so a mount target such as ``/etc/../../x`` or a
symlink ``/dev -> /`` cannot point the runtime at a host path.
"""
from __future__ import annotations

import errno
import os
import stat

_MAX_LINKS = 255


def secure_join(root: str, unsafe: str) -> str:
    root = os.path.abspath(root)
    parts = [p for p in unsafe.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while parts:
        p = parts.pop(0)
        if p == "..":
            if resolved:
                resolved.pop()
            continue
        cur = os.path.join(root, *resolved, p)
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            resolved.append(p)
            continue
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > _MAX_LINKS:
                raise OSError(errno.ELOOP, f"too many symlinks resolving {unsafe!r}")
            target = os.readlink(cur)
            if target.startswith("/"):
                resolved = []
            parts = [x for x in target.split("/") if x not in ("", ".")] + parts
            continue
        resolved.append(p)
    return os.path.join(root, *resolved)


def mkdir_all_in_root(root: str, unsafe: str, mode: int = 0o755) -> str:
    """Create ``unsafe`` (and parents) inside root; returns the resolved host path."""
    target = secure_join(root, unsafe)
    rel = os.path.relpath(target, root)
    cur = root
    if rel != ".":
        for comp in rel.split("/"):
            cur = os.path.join(cur, comp)
            try:
                os.mkdir(cur, mode)
            except FileExistsError:
                if not os.path.isdir(cur):
                    raise NotADirectoryError(errno.ENOTDIR, f"{unsafe}: {comp} is not a directory") from None
    return target


def create_mount_target(root: str, dest: str, is_dir: bool) -> str:
    """Make the file or directory a mount lands on, inside root, without following links out."""
    target = secure_join(root, dest)
    if is_dir:
        return mkdir_all_in_root(root, dest)
    parent = os.path.dirname(os.path.relpath(target, root))
    if parent and parent != ".":
        mkdir_all_in_root(root, parent)
    if not os.path.lexists(target):
        fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        os.close(fd)
    return target
