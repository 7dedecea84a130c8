"""Small file-system helpers: directory-fd operations that never follow
symlinks, xattrs, and the overlayfs on-disk conventions (whiteouts, opaque dirs).
"""
from __future__ import annotations

import errno
import os
import shutil
import stat

O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

OVERLAY_OPAQUE = "trusted.overlay.opaque"
OVERLAY_XATTR_PREFIX = "trusted.overlay."
# xattrs that describe a file itself and travel in layer tars.
PORTABLE_XATTR_PREFIXES = ("user.",)
PORTABLE_XATTRS = ("security.capability",)


def lstat_at(dirfd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def open_dir_at(dirfd: int, name: str) -> int:
    """Open a sub-directory; fails (ELOOP/ENOTDIR) rather than follow a symlink."""
    return os.open(name, O_DIR, dir_fd=dirfd)


def remove_at(dirfd: int, name: str, st: os.stat_result | None = None) -> None:
    """Remove a file or a whole tree below dirfd, never following symlinks."""
    st = st or lstat_at(dirfd, name)
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=dirfd)
    else:
        os.unlink(name, dir_fd=dirfd)


def proc_path(dirfd: int, name: str) -> str:
    """A path naming dirfd/name for calls that lack a dir_fd form (xattrs)."""
    return f"/proc/self/fd/{dirfd}/{name}"


def is_whiteout(st: os.stat_result) -> bool:
    """overlayfs whiteout: a character device with device number 0/0."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def get_xattr(path, key: str) -> bytes | None:
    try:
        return os.getxattr(path, key, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.ENOTSUP, errno.EPERM, errno.EACCES):
            return None
        raise


def is_opaque(path) -> bool:
    return get_xattr(path, OVERLAY_OPAQUE) == b"y"


def list_xattrs(path) -> dict[str, bytes]:
    """All xattrs of path (not following a symlink); {} where unsupported."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EPERM):
            return {}
        raise
    out = {}
    for n in names:
        v = get_xattr(path, n)
        if v is not None:
            out[n] = v
    return out


def portable_xattrs(path) -> dict[str, bytes]:
    """The xattrs that belong in a layer tar (user.*, security.capability)."""
    return {k: v for k, v in list_xattrs(path).items()
            if k.startswith(PORTABLE_XATTR_PREFIXES) or k in PORTABLE_XATTRS}


def set_xattr(target, key: str, value: bytes, st_mode: int) -> None:
    """Set one xattr; skip what the file system or file type cannot hold
    (no xattr support; user.* on a symlink or device), as containerd does."""
    try:
        if isinstance(target, int):
            os.setxattr(target, key, value)
        else:
            os.setxattr(target, key, value, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP,):
            return
        if e.errno == errno.EPERM and key.startswith("user.") and not (
                stat.S_ISREG(st_mode) or stat.S_ISDIR(st_mode)):
            return
        raise


def disk_usage(path) -> tuple[int, int]:
    """(bytes allocated, inodes) under path, counting hard links once."""
    seen: set[tuple[int, int]] = set()
    size = inodes = 0
    stack = [str(path)]
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return 0, 0
    seen.add((st.st_dev, st.st_ino))
    size, inodes = st.st_blocks * 512, 1
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for ent in it:
                st = ent.stat(follow_symlinks=False)
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue
                seen.add(key)
                size += st.st_blocks * 512
                inodes += 1
                if stat.S_ISDIR(st.st_mode):
                    stack.append(ent.path)
    return size, inodes


def bound_ns(ns: int | None) -> int:
    """A timestamp the kernel accepts; out-of-range values become the epoch."""
    if ns is None or ns < 0 or ns >= (1 << 62):
        return 0
    return ns


def _hides_below(layer: str, comps) -> bool:
    """Whether this layer hides comps in the layers below it: a directory on
    the way is opaque, or something on the way is not a directory."""
    path = layer
    for c in comps[:-1]:
        path = os.path.join(path, c)
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return True
        except FileNotFoundError:
            return False
        if is_opaque(path):
            return True
    return False


def overlay_lookup(layers, comps) -> tuple[os.stat_result, str] | None:
    """lstat of a relative path in the merged view of overlay layers (top
    first): (stat, path in the layer that provides it), or None."""
    if not comps:
        raise ValueError("overlay_lookup needs a path below the root")
    for layer in layers:
        path = layer
        for j, c in enumerate(comps):
            path = os.path.join(path, c)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                break  # not in this layer: look below, unless an opaque dir hides it
            if is_whiteout(st):
                return None
            if j == len(comps) - 1:
                return st, path
            if not stat.S_ISDIR(st.st_mode):
                return None
        if _hides_below(layer, comps):
            return None
    return None


def overlay_listdir(layers, comps) -> set[str]:
    """Names visible in a directory of the merged view of overlay layers."""
    names: set[str] = set()
    hidden: set[str] = set()
    for layer in layers:
        path = os.path.join(layer, *comps)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            if comps and _hides_below(layer, tuple(comps) + ("",)):
                break
            continue
        if not stat.S_ISDIR(st.st_mode):
            break  # a whiteout or a file hides everything below
        for n in os.listdir(path):
            if n in names or n in hidden:
                continue
            if is_whiteout(os.lstat(os.path.join(path, n))):
                hidden.add(n)
            else:
                names.add(n)
        if is_opaque(path):
            break
    return names
