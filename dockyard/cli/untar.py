"""Extracting a tar stream from the daemon into a host directory (``cp CONTAINER:SRC DEST``).

The archive comes from a container, so it is not trusted: entries must stay inside the
destination (no absolute names, no ``..``), nothing is ever written through a symlink (every
parent is checked with lstat, files are opened with O_NOFOLLOW|O_EXCL), hard links must
point at entries inside, and a directory is never replaced by a file or the reverse
(docker's NoOverwriteDirNonDir). Owners are not changed (docker's NoLchown).
"""
from __future__ import annotations

import os
import stat
import tarfile

from .errors import CLIError


class UntarError(CLIError):
    pass


def rebase_name(name: str, old: str, new: str) -> str:
    """archive.RebaseArchiveEntries for one name: the leading ``old`` component becomes ``new``."""
    if old in ("", "/"):
        return name
    if name == old or name.startswith(old + "/") or (old == "." and name.startswith("./")):
        return new + name[len(old):]
    return name


def _clean(name: str, dest: str) -> str:
    if "\x00" in name:
        raise UntarError(f"invalid tar entry name {name!r}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or any(p == ".." for p in parts):
        raise UntarError(f'invalid tar entry: "{name}" is outside of "{dest}"')
    return "/".join(parts)


def _parent_dirs(dest: str, rel: str) -> str:
    """Make sure every parent of ``rel`` under ``dest`` is a real directory; return the full path."""
    cur = dest
    parts = rel.split("/")
    for p in parts[:-1]:
        cur = os.path.join(cur, p)
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            os.mkdir(cur, 0o755)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise UntarError(f'invalid tar entry: "{rel}" passes through non-directory "{cur}"')
    return os.path.join(dest, *parts)


def _copy_file(src, path: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode & 0o7777)
    try:
        while True:
            chunk = src.read(1 << 16)
            if not chunk:
                break
            _write_all(fd, chunk)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    mv = memoryview(data)
    while mv:
        n = os.write(fd, mv)
        mv = mv[n:]


def extract(fileobj, dest: str, rebase: tuple[str, str] | None = None) -> int:
    """Unpack the tar stream ``fileobj`` into ``dest`` (which must exist); returns bytes written."""
    dest = os.path.abspath(dest)
    dirs: list[tuple[str, tarfile.TarInfo]] = []
    total = 0
    try:
        tf = tarfile.open(fileobj=fileobj, mode="r|")
    except tarfile.TarError as e:
        raise UntarError(f"invalid tar stream from the daemon: {e}") from None
    with tf:
        for m in tf:
            name = rebase_name(m.name, *rebase) if rebase else m.name
            rel = _clean(name, dest)
            if not rel:
                if m.isdir():
                    dirs.append((dest, m))
                    continue
                raise UntarError(f"invalid tar entry {m.name!r}: not a directory at the destination root")
            path = _parent_dirs(dest, rel)
            try:
                existing = os.lstat(path)
            except FileNotFoundError:
                existing = None
            if existing is not None:
                is_dir = stat.S_ISDIR(existing.st_mode)
                if is_dir and not m.isdir():
                    raise UntarError(f'cannot overwrite directory "{path}" with non-directory "{name}"')
                if not is_dir and m.isdir():
                    raise UntarError(f'cannot overwrite non-directory "{path}" with directory "{name}"')
                if not is_dir:
                    os.unlink(path)
            if m.isdir():
                if existing is None:
                    os.mkdir(path, 0o700)
                dirs.append((path, m))
                continue
            if m.isreg():
                f = tf.extractfile(m)
                _copy_file(f, path, m.mode)
                total += m.size
            elif m.issym():
                os.symlink(m.linkname, path)
            elif m.islnk():
                target_rel = _clean(rebase_name(m.linkname, *rebase) if rebase else m.linkname, dest)
                target = os.path.join(dest, *target_rel.split("/")) if target_rel else dest
                tst = os.lstat(target)
                if stat.S_ISDIR(tst.st_mode):
                    raise UntarError(f"invalid hard link {m.name!r} to a directory")
                _parent_dirs(dest, target_rel)  # the target's parents must be real directories too
                os.link(target, path, follow_symlinks=False)
            elif m.isfifo():
                os.mkfifo(path, m.mode & 0o7777)
            elif m.ischr() or m.isblk():
                if os.geteuid() != 0:
                    continue
                kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
                os.mknod(path, kind | (m.mode & 0o7777), os.makedev(m.devmajor, m.devminor))
            else:
                continue
            if not m.issym():
                os.chmod(path, m.mode & 0o7777)
            try:
                os.utime(path, (m.mtime, m.mtime), follow_symlinks=False)
            except OSError:
                pass
    for path, m in reversed(dirs):
        os.chmod(path, m.mode & 0o7777)
        try:
            os.utime(path, (m.mtime, m.mtime))
        except OSError:
            pass
    return total
