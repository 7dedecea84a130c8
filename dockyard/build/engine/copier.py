"""Writing COPY/ADD sources into an image's root file system (mounted for the step).

Every destination is resolved inside the rootfs (``securefs``): a symlink in the image on the way
to it is followed as the container would follow it, never out of the rootfs. The files go in as a
tar stream through ``tarin`` (the code behind ``docker cp``), written by a thread into a pipe, so
nothing is held in memory and every write is relative to a resolved directory descriptor.

Copied entries belong to root, or to ``--chown``'s user and group; missing parent directories are
made 0755 with the same owner. ``--chmod`` sets the mode of every copied file and directory. Times
are kept. ADD unpacks archives with their own owners.
"""
from __future__ import annotations

import os
import posixpath
import threading

from ...daemon.containers import tarin
from ...daemon.containers.securefs import ContainerFS, ReadOnlyPath, split
from ...snapshots.tarstream import DIR, REG, SYM, Entry, TarWriter
from .copyplan import CopyOp
from .errors import CopyError
from .sources import Entry as SourceEntry


def mkdir_all(fs: ContainerFS, path: str, owner: tuple[int, int]) -> None:
    """Make ``path`` and its missing parents (0755, ``owner``)."""
    comps = split(path)
    first_missing = None
    for i in range(1, len(comps) + 1):
        p = "/" + "/".join(comps[:i])
        try:
            r = fs.resolve(p, follow_last=True, must_exist=False)
        except NotADirectoryError:
            raise CopyError(f"cannot copy to {path}: {p} is not a directory") from None
        with r:
            if not r.exists:
                first_missing = i
                break
            if r.name is not None:
                raise CopyError(f"cannot copy to {path}: {p} is not a directory")
    if first_missing is None:
        return
    try:
        with fs.resolve(path, create=True):
            pass
    except (NotADirectoryError, ReadOnlyPath) as e:
        raise CopyError(f"cannot copy to {path}: {e}") from None
    if owner == (0, 0):
        return
    for i in range(first_missing, len(comps) + 1):
        with fs.resolve("/" + "/".join(comps[:i]), follow_last=True) as r:
            fd = r.open_dir()
            try:
                os.fchown(fd, *owner)
            finally:
                os.close(fd)


def _is_dir(fs: ContainerFS, path: str) -> bool:
    try:
        with fs.resolve(path, follow_last=True, must_exist=False) as r:
            return r.exists and r.name is None
    except NotADirectoryError:
        return False


def _tar_entry(e: SourceEntry, name: str, chmod: int | None) -> Entry:
    mode = e.mode if chmod is None or e.kind == "symlink" else chmod
    if e.kind == "dir":
        return Entry(name=name, type=DIR, mode=mode, mtime_ns=e.mtime_ns)
    if e.kind == "symlink":
        return Entry(name=name, type=SYM, mode=0o777, mtime_ns=e.mtime_ns, linkname=e.link)
    return Entry(name=name, type=REG, mode=mode, size=e.size, mtime_ns=e.mtime_ns)


def _stream_into(fs: ContainerFS, dest: str, items: list[tuple[SourceEntry, str]], chmod: int | None,
                 owner: tuple[int, int]) -> None:
    """Extract ``items`` ((entry, name below dest)) into the directory ``dest``."""
    rfd, wfd = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(wfd, "wb", buffering=1 << 16) as out:
                tw = TarWriter(out.write)
                for e, name in items:
                    te = _tar_entry(e, name, chmod)
                    if e.kind != "file":
                        tw.add(te)
                        continue
                    fd = os.open(e.host, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                    try:
                        if os.fstat(fd).st_size != e.size:
                            raise CopyError(f"file {e.host} changed while it was being copied")
                        tw.add(te, lambda n: os.read(fd, n))
                    finally:
                        os.close(fd)
                tw.close()
        except BrokenPipeError:
            pass
        except BaseException as err:
            failure.append(err)

    t = threading.Thread(target=produce, name="build-copy", daemon=True)
    t.start()
    try:
        with os.fdopen(rfd, "rb") as src:
            tarin.extract(fs, dest, src, tarin.Options(chown=owner))
    except BaseException as err:
        t.join()
        if failure:
            raise _copy_error(failure[0]) from None
        raise _copy_error(err) from None
    t.join()
    if failure:
        raise _copy_error(failure[0]) from None


def _copy_error(err: BaseException) -> BaseException:
    if isinstance(err, CopyError):
        return err
    if isinstance(err, (tarin.ExtractError, OSError)):
        return CopyError(f"copying files: {err}")
    return err


def apply(rootfs: str, ops: list[CopyOp], owner: tuple[int, int] = (0, 0), chmod: int | None = None) -> None:
    """Carry out the copy operations in the rootfs directory ``rootfs``."""
    with ContainerFS(rootfs) as fs:
        for op in ops:
            src = op.source
            if op.unpack:
                mkdir_all(fs, op.dest, owner)
                try:
                    with open(src.host, "rb") as f:
                        tarin.extract(fs, op.dest, f, tarin.Options(same_owner=True))
                except (tarin.ExtractError, OSError) as e:
                    raise CopyError(f"unpacking {src.name}: {e}") from None
                continue
            if src.is_dir:
                mkdir_all(fs, op.dest, owner)
                _stream_into(fs, op.dest, [(e, e.rel) for e in src.entries], chmod, owner)
                continue
            target = op.dest
            if op.into_dir or _is_dir(fs, target):
                mkdir_all(fs, target, owner)
                target = posixpath.join(target, src.basename)
            parent, name = posixpath.split(target)
            if not name:
                raise CopyError(f"cannot copy {src.name} to {op.dest}")
            mkdir_all(fs, parent or "/", owner)
            if _is_dir(fs, target):
                raise CopyError(f"cannot copy {src.name} to {target}: it is a directory")
            _stream_into(fs, parent or "/", [(src.entries[0], name)], chmod, owner)


def is_archive(path: str) -> bool:
    """Whether a file is a tar archive, plain or compressed (ADD unpacks those)."""
    import tarfile
    try:
        with open(path, "rb") as f:
            stream = tarin.open_stream(f)
            head = b""
            while len(head) < 512:
                b = stream.read(512 - len(head))
                if not b:
                    break
                head += b
    except Exception:  # noqa: BLE001 - whatever cannot be read as a tar stream is no archive
        return False
    if len(head) < 512 or not head.strip(b"\0"):
        return False
    try:
        tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True

