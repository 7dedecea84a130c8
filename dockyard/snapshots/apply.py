"""Apply a layer tar (plain, gzip or zstd) onto a directory, as containerd's
archive.Apply and Docker's UnpackLayer do.

Two whiteout styles:

* ``"delete"`` (native snapshotter): ``.wh.NAME`` removes NAME from the
  content already in the directory (a copy of the parent); ``.wh..wh..opq``
  removes everything in that directory not written by this layer.
* ``"overlay"`` (each layer its own overlayfs lowerdir): ``.wh.NAME`` becomes
  a 0/0 character device, ``.wh..wh..opq`` the ``trusted.overlay.opaque=y``
  xattr. ``lowers`` (all parent layer dirs, top first) give implicitly created
  parent directories the metadata they have below, and let symlinks in lower
  layers be seen. Without lowers (a base layer) whiteouts simply delete.

Everything is written through directory file descriptors opened with
O_NOFOLLOW, one path component at a time, so nothing is ever written outside
``root``. Entries are refused (one-line ``LayerError`` naming the entry) when
a name has a ``..`` component, when its parent path goes through a symlink,
when a relative symlink points above the root, or when a hard link's target
is outside the layer. Absolute names are taken relative to the root (leading
``/`` stripped, as Docker does). Later entries replace earlier ones.
Setuid/setgid/sticky bits, owners, xattrs and times are kept; nothing
extracted is ever executed.
"""
from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from typing import BinaryIO, Sequence

from . import fsops
from .fsops import lstat_at, open_dir_at, remove_at
from .layerstream import LayerStream, StreamError
from .tarstream import BLK, CHR, FIFO, LNK, SYM, Entry, TarError, TarReader

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


class LayerError(Exception):
    """A layer cannot be applied; the message names the layer entry."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 << 30          # uncompressed tar bytes
    max_entries: int = 2_000_000
    max_header_bytes: int = 1 << 20    # one PAX / GNU long-name header


@dataclass(frozen=True)
class ApplyResult:
    diff_id: str     # sha256 of the uncompressed tar
    size: int        # uncompressed tar bytes
    entries: int
    unpacked_size: int = 0  # Docker's layer size (as images.layerio.entry_size counts it)


def apply_layer(source: str | os.PathLike | BinaryIO, root: str | os.PathLike, *,
                whiteouts: str = "delete", lowers: Sequence[str | os.PathLike] = (),
                compression: str | None = "auto", limits: Limits = Limits(),
                same_owner: bool | None = None, expected_diff_id: str | None = None,
                parallel: bool = True) -> ApplyResult:
    """Apply a layer blob (path or binary stream) onto the directory ``root``.

    ``root`` belongs to this call for its duration: on any failure it is
    removed entirely, so nothing partial stays visible. With
    ``expected_diff_id`` the uncompressed tar's sha256 is checked too.
    ``same_owner`` (default: when running as root) keeps numeric owners. With ``parallel``,
    decompression and hashing run in a thread, next to the parsing and the file system work.
    """
    root = str(root)
    try:
        if isinstance(source, (str, os.PathLike)):
            try:
                f = open(source, "rb")
            except OSError as e:
                raise LayerError(f"layer {_label(source)}: {e.strerror}") from None
            with f:
                result = apply_stream(f, root, whiteouts=whiteouts, lowers=lowers, compression=compression,
                                      limits=limits, same_owner=same_owner, parallel=parallel)
        else:
            result = apply_stream(source, root, whiteouts=whiteouts, lowers=lowers, compression=compression,
                                  limits=limits, same_owner=same_owner, parallel=parallel)
        if expected_diff_id is not None and result.diff_id != expected_diff_id:
            raise LayerError(f"layer {_label(source)}: diff_id mismatch: got {result.diff_id}, "
                             f"expected {expected_diff_id}")
        return result
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _label(source) -> str:
    return repr(str(source)) if isinstance(source, (str, os.PathLike)) else "stream"


def apply_stream(raw: BinaryIO, root: str, *, whiteouts: str = "delete", lowers: Sequence = (),
                 compression: str | None = "auto", limits: Limits = Limits(),
                 same_owner: bool | None = None, parallel: bool = True) -> ApplyResult:
    """Apply a layer stream onto an existing directory; on failure the
    directory is left as it is (see ``apply_layer`` for the cleaning one)."""
    if whiteouts not in ("delete", "overlay"):
        raise ValueError(f"unknown whiteout style {whiteouts!r}")
    if same_owner is None:
        same_owner = os.geteuid() == 0
    try:
        root_fd = os.open(root, fsops.O_DIR)
    except OSError as e:
        raise LayerError(f"layer target {root!r}: {e.strerror}") from None
    stream = None
    try:
        try:
            # decompressing and hashing run in a thread, next to the file system work here
            stream = LayerStream(raw, compression, limits.max_bytes, background=parallel)
            reader = TarReader(stream, limits.max_header_bytes, limits.max_entries)
        except StreamError as e:
            raise LayerError(f"layer: {e}") from None
        # With no lower layer the directory is the whole view: deleting is then the overlay result too.
        overlay = whiteouts == "overlay" and bool(lowers)
        with os.scandir(root_fd) as it:
            fresh = next(it, None) is None
        applier = _Applier(root_fd, reader, overlay, [str(p) for p in lowers], same_owner, fresh)
        if fsops.get_xattr(fsops.proc_path(root_fd, "."), "system.posix_acl_default") is not None:
            applier.umask = None  # a default ACL, not the umask, shapes new files' modes
        applier.run()
        try:
            stream.drain()
        except StreamError as e:
            raise LayerError(f"layer: {e}") from None
    finally:
        if stream is not None:
            stream.close()
        os.close(root_fd)
    return ApplyResult(stream.diff_id, stream.total, reader.count, applier.unpacked_size)


def split_name(name: str) -> tuple[str, ...]:
    """Components of an entry name relative to the root; refuses ``..``."""
    if "\0" in name:
        raise ValueError("name contains a NUL byte")
    comps = tuple(c for c in name.split("/") if c not in ("", "."))
    if ".." in comps:
        raise ValueError("path escapes the layer")
    return comps


def _process_umask() -> int | None:
    """This process's umask, read without changing it (os.umask would, for every thread)."""
    if not _UMASK:
        try:
            with open("/proc/self/status") as f:
                _UMASK.append(next((int(line.split()[1], 8) for line in f if line.startswith("Umask:")), None))
        except (OSError, ValueError):
            _UMASK.append(None)
    return _UMASK[0]


_UMASK: list[int | None] = []


class _Applier:
    """Applies the entries one by one. Per file it makes as few system calls as it can: no lookup
    of a name in a directory that started empty unless this layer made that name (``fresh``,
    ``made``), no chown of a new inode that is already 0:0, no chmod when the mode passed to
    open() stays as it is, and the fd of the current directory is reused, not duplicated."""

    def __init__(self, root_fd: int, reader: TarReader, overlay: bool, lowers: list[str], same_owner: bool,
                 fresh: bool = False):
        self.root_fd = root_fd
        self.fresh = fresh  # the directory was empty: only what this layer made can be there
        self.made: set[tuple[str, ...]] = set()  # paths this layer created (a superset, when fresh)
        # new inodes belong to 0:0 (unless their directory is setgid)
        self.new_root_owned = same_owner and os.geteuid() == 0 and os.getegid() == 0
        self.umask = _process_umask()
        self._parent_sgid = True  # of the directory of the entry being created
        self._root_sgid = bool(os.fstat(root_fd).st_mode & stat.S_ISGID)
        self.reader = reader
        self.overlay = overlay
        self.lowers = lowers
        self.merge = overlay and bool(lowers)   # look into the lower layers
        self.same_owner = same_owner
        self.unpacked: set[tuple[str, ...]] = set()   # paths this layer wrote (and their parents)
        self.dirs: dict[tuple[str, ...], Entry] = {}  # dir mode/times are set at the end
        # the directories of the last path walked to, one level each below the root:
        # [name, fd, lower layers still visible below it, setgid (None: not looked at yet)];
        # fds dropped from it are closed only once the entry is done (``_retired``), so an entry
        # may go on using one after a removal
        self._stack: list[list] = []
        self._retired: list[int] = []
        self.unpacked_size = 0

    def _forget(self, depth: int = 0) -> None:
        """Drop the directory fds below ``depth`` levels (all: something was removed or replaced)."""
        for level in self._stack[depth:]:
            self._retired.append(level[1])
        del self._stack[depth:]

    def _release(self) -> None:
        while self._retired:
            os.close(self._retired.pop())

    # -- driver --------------------------------------------------------------
    def run(self) -> None:
        try:
            self._run()
        finally:
            self._forget()
            self._release()

    def _run(self) -> None:
        while True:
            name = None
            try:
                entry = self.reader.next()
                if entry is None:
                    break
                name = entry.name
                try:
                    self._entry(entry)
                finally:
                    self._release()
            except (TarError, StreamError, ValueError, OverflowError, OSError) as e:
                text = (e.strerror or str(e)) if isinstance(e, OSError) else str(e)
                where = f"layer entry {name!r}" if name is not None else "layer"
                raise LayerError(f"{where}: {text}") from None
        for comps in reversed(list(self.dirs)):
            try:
                self._finish_dir(comps, self.dirs[comps])
            except OSError as e:
                raise LayerError(f"layer entry {'/'.join(comps)!r}: {e.strerror or e}") from None
            finally:
                self._release()

    def _entry(self, e: Entry) -> None:
        comps = split_name(e.name)
        if not comps:
            return  # the root itself: its metadata belongs to the snapshot
        base = comps[-1]
        if not base.startswith(WHITEOUT_PREFIX):
            if e.is_regular:
                self.unpacked_size += e.size
            elif e.type == SYM:
                self.unpacked_size += len(e.linkname.encode("utf-8", "surrogateescape"))
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_MARKER:
                self._opaque(e, comps[:-1])
            elif not base.startswith(WHITEOUT_PREFIX * 2):  # other .wh..wh. names are AUFS metadata
                target = base[len(WHITEOUT_PREFIX):]
                if target in ("", ".", ".."):
                    raise ValueError(f"invalid whiteout for {target!r}")
                self._whiteout(e, comps[:-1], target)
            return
        pfd = self._dir(comps[:-1])
        self._create(e, pfd, comps)
        for i in range(1, len(comps) + 1):
            self.unpacked.add(comps[:i])

    # -- path resolution -----------------------------------------------------
    def _dir(self, comps: tuple[str, ...]) -> int:
        """The directory root/comps (made if missing), as an fd valid until the entry is done."""
        fd = self._walk_to(comps, create=True)
        if not comps:
            self._parent_sgid = self._root_sgid
        else:
            top = self._stack[-1]
            if top[3] is None:
                top[3] = bool(os.fstat(fd).st_mode & stat.S_ISGID)
            self._parent_sgid = top[3]
        return fd

    def _walk(self, comps: Sequence[str], create: bool) -> int | None:
        """An fd of the directory root/comps, made if missing and ``create``;
        None if missing and not ``create``. Never goes through a symlink."""
        fd = self._walk_to(tuple(comps), create)
        return None if fd is None else os.dup(fd)

    def _walk_to(self, comps: tuple[str, ...], create: bool) -> int | None:
        """Like ``_walk``, but the fd is the walk's own (valid until the entry is done). Goes on
        from the directories the last walk opened, as far as the paths agree."""
        stack = self._stack
        n = 0
        while n < len(stack) and n < len(comps) and stack[n][0] == comps[n]:
            n += 1
        self._forget(n)
        fd = stack[n - 1][1] if n else self.root_fd
        lower_visible = stack[n - 1][2] if n else self.merge
        for i in range(n, len(comps)):
            c = comps[i]
            st = lstat_at(fd, c)
            if st is not None and stat.S_ISLNK(st.st_mode):
                raise ValueError(f"path goes through symlink {'/'.join(comps[:i + 1])!r}")
            if self.overlay and st is not None and fsops.is_whiteout(st):
                if not create:
                    return None
                self._forget()
                os.unlink(c, dir_fd=fd)
                self._mkdir_implicit(fd, c, None, opaque=True)
                self.made.add(comps[:i + 1])
                return self._walk_to(comps, create)  # from the root again: the stack was dropped
            if st is None:
                lower = fsops.overlay_lookup(self.lowers, comps[:i + 1]) if lower_visible else None
                if lower is not None:
                    lst, _ = lower
                    if stat.S_ISLNK(lst.st_mode):
                        raise ValueError(f"path goes through symlink {'/'.join(comps[:i + 1])!r}")
                    if not stat.S_ISDIR(lst.st_mode):
                        raise ValueError(f"parent {'/'.join(comps[:i + 1])!r} is not a directory")
                if not create:
                    return None
                self._mkdir_implicit(fd, c, lower, opaque=False)
                self.made.add(comps[:i + 1])
                if lower is None:
                    lower_visible = False
            elif not stat.S_ISDIR(st.st_mode):
                raise ValueError(f"parent {'/'.join(comps[:i + 1])!r} is not a directory")
            elif lower_visible and fsops.is_opaque(fsops.proc_path(fd, c)):
                lower_visible = False
            fd = open_dir_at(fd, c)
            stack.append([c, fd, lower_visible, None])
        return fd

    def _mkdir_implicit(self, dirfd: int, name: str, lower, opaque: bool) -> None:
        """A parent directory the layer does not list: 0755, or what it is below."""
        os.mkdir(name, 0o700, dir_fd=dirfd)
        fd = open_dir_at(dirfd, name)
        try:
            if lower is not None:
                lst, lpath = lower
                if self.same_owner:
                    os.fchown(fd, lst.st_uid, lst.st_gid)
                for k, v in fsops.list_xattrs(lpath).items():
                    if not k.startswith(fsops.OVERLAY_XATTR_PREFIX):
                        fsops.set_xattr(fd, k, v, lst.st_mode)
                os.fchmod(fd, stat.S_IMODE(lst.st_mode))
                os.utime(fd, ns=(lst.st_atime_ns, lst.st_mtime_ns))
            else:
                os.fchmod(fd, 0o755)
            if opaque:
                os.setxattr(fd, fsops.OVERLAY_OPAQUE, b"y")
        finally:
            os.close(fd)

    # -- whiteouts -----------------------------------------------------------
    def _whiteout(self, e: Entry, parent: tuple[str, ...], target: str) -> None:
        pfd = self._walk(parent, create=self.overlay)
        if pfd is None:
            return  # nothing there to delete
        try:
            st = lstat_at(pfd, target)
            if st is not None:
                self._forget()
                remove_at(pfd, target, st)
            if self.overlay:
                os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(0, 0), dir_fd=pfd)
                self.made.add(parent + (target,))
                if self.same_owner:
                    os.chown(target, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
        finally:
            os.close(pfd)
        self.unpacked.discard(parent + (target,))

    def _opaque(self, e: Entry, dcomps: tuple[str, ...]) -> None:
        fd = self._walk(dcomps, create=True)
        try:
            if self.overlay:
                os.setxattr(fd, fsops.OVERLAY_OPAQUE, b"y")
            else:
                self._clear_lower(fd, dcomps)
        finally:
            os.close(fd)
        for i in range(1, len(dcomps) + 1):
            self.unpacked.add(dcomps[:i])

    def _clear_lower(self, fd: int, dcomps: tuple[str, ...]) -> None:
        """Remove what this layer did not write below dcomps (recursively)."""
        for name in os.listdir(fd):
            path = dcomps + (name,)
            st = lstat_at(fd, name)
            if st is None:
                continue
            if path not in self.unpacked:
                self._forget()
                remove_at(fd, name, st)
            elif stat.S_ISDIR(st.st_mode):
                sub = open_dir_at(fd, name)
                try:
                    self._clear_lower(sub, path)
                finally:
                    os.close(sub)

    # -- entries -------------------------------------------------------------
    def _create(self, e: Entry, pfd: int, comps: tuple[str, ...]) -> None:
        base = comps[-1]
        existing = lstat_at(pfd, base) if not self.fresh or comps in self.made else None
        replaced_whiteout = bool(self.overlay and existing is not None and fsops.is_whiteout(existing))
        if existing is not None and not (e.is_dir and stat.S_ISDIR(existing.st_mode)):
            self._forget()
            remove_at(pfd, base, existing)
            existing = None
        t = e.type
        if e.is_dir:
            if existing is None:
                os.mkdir(base, 0o700, dir_fd=pfd)
            fd = open_dir_at(pfd, base)
            try:
                if replaced_whiteout:
                    os.setxattr(fd, fsops.OVERLAY_OPAQUE, b"y")
                self._owner_xattrs(e, fd=fd, mode=stat.S_IFDIR, new=existing is None)
            finally:
                os.close(fd)
            self.dirs.pop(comps, None)
            self.dirs[comps] = e
        elif e.is_regular:
            self._regular(e, pfd, base)
        elif t == LNK:
            self._hardlink(e, pfd, base)
        elif t == SYM:
            self._symlink(e, pfd, base, comps)
        elif t in (CHR, BLK, FIFO):
            kind = {CHR: stat.S_IFCHR, BLK: stat.S_IFBLK, FIFO: stat.S_IFIFO}[t]
            os.mknod(base, kind | 0o600, os.makedev(e.devmajor, e.devminor), dir_fd=pfd)
            self._owner_xattrs(e, dirfd=pfd, name=base, mode=kind, new=True)
            os.chmod(base, e.mode, dir_fd=pfd)  # a node just made here: not a symlink
            self._times(e, dirfd=pfd, name=base)
        self.made.add(comps)

    def _regular(self, e: Entry, pfd: int, base: str) -> None:
        # open() can give the mode itself when the umask keeps it and there are no setuid/setgid/
        # sticky bits (which chown would clear)
        perms = e.mode & 0o777
        exact = not e.mode & 0o7000 and self.umask is not None and not perms & self.umask
        fd = os.open(base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     perms if exact else 0o600, dir_fd=pfd)
        try:
            for chunk in self.reader.data():
                view = memoryview(chunk)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
            self._owner_xattrs(e, fd=fd, mode=stat.S_IFREG, new=True)
            if not exact:
                os.fchmod(fd, e.mode)  # after chown, which clears setuid/setgid
            self._times(e, fd=fd)
        finally:
            os.close(fd)

    def _hardlink(self, e: Entry, pfd: int, base: str) -> None:
        try:
            tcomps = split_name(e.linkname)
        except ValueError:
            raise ValueError(f"hard link target {e.linkname!r} escapes the layer") from None
        if not tcomps:
            raise ValueError("hard link to the root directory")
        try:
            tfd = self._walk(tcomps[:-1], create=False)
        except ValueError as err:
            raise ValueError(f"hard link target {e.linkname!r}: {err}") from None
        if tfd is None:
            raise ValueError(f"hard link target {e.linkname!r} not found in the layer")
        try:
            tst = lstat_at(tfd, tcomps[-1])
            if tst is None or (self.overlay and fsops.is_whiteout(tst)):
                raise ValueError(f"hard link target {e.linkname!r} not found in the layer")
            if stat.S_ISDIR(tst.st_mode):
                raise ValueError(f"hard link target {e.linkname!r} is a directory")
            # The link shares the target's inode and metadata; re-chowning it would drop file capabilities.
            os.link(tcomps[-1], base, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
        finally:
            os.close(tfd)

    def _symlink(self, e: Entry, pfd: int, base: str, comps: tuple[str, ...]) -> None:
        if not e.linkname:
            raise ValueError("symlink with an empty target")
        if "\0" in e.linkname:
            raise ValueError("symlink target contains a NUL byte")
        if not e.linkname.startswith("/"):
            depth = len(comps) - 1
            for c in e.linkname.split("/"):
                if c == "..":
                    depth -= 1
                    if depth < 0:
                        raise ValueError(f"symlink target {e.linkname!r} points outside the layer")
                elif c not in ("", "."):
                    depth += 1
        os.symlink(e.linkname, base, dir_fd=pfd)
        self._owner_xattrs(e, dirfd=pfd, name=base, mode=stat.S_IFLNK, new=True)
        self._times(e, dirfd=pfd, name=base)

    def _owner_xattrs(self, e: Entry, *, fd: int | None = None, dirfd: int | None = None,
                      name: str | None = None, mode: int, new: bool = False) -> None:
        """Owner and xattrs; ``new``: the inode was just made in the current entry's directory."""
        if self.same_owner and not (new and e.uid == 0 and e.gid == 0 and self.new_root_owned
                                    and not self._parent_sgid):
            if fd is not None:
                os.fchown(fd, e.uid, e.gid)
            else:
                os.chown(name, e.uid, e.gid, dir_fd=dirfd, follow_symlinks=False)
        for key in sorted(e.xattrs):
            if key.startswith(fsops.OVERLAY_XATTR_PREFIX):
                continue  # overlay's own state comes from whiteout conversion only
            target = fd if fd is not None else fsops.proc_path(dirfd, name)
            try:
                fsops.set_xattr(target, key, e.xattrs[key], mode)
            except OSError as err:
                raise OSError(err.errno, f"setting xattr {key}: {err.strerror}") from None

    @staticmethod
    def _times(e: Entry, *, fd: int | None = None, dirfd: int | None = None, name: str | None = None) -> None:
        mtime = fsops.bound_ns(e.mtime_ns)
        atime = max(mtime, fsops.bound_ns(e.atime_ns)) if e.atime_ns is not None else mtime
        if fd is not None:
            os.utime(fd, ns=(atime, mtime))
        else:
            os.utime(name, ns=(atime, mtime), dir_fd=dirfd, follow_symlinks=False)

    def _finish_dir(self, comps: tuple[str, ...], e: Entry) -> None:
        try:
            pfd = self._walk(comps[:-1], create=False)
        except ValueError:
            return  # replaced later by something that is not a directory path
        if pfd is None:
            return
        try:
            st = lstat_at(pfd, comps[-1])
            if st is None or not stat.S_ISDIR(st.st_mode):
                return
            fd = open_dir_at(pfd, comps[-1])
        finally:
            os.close(pfd)
        try:
            os.fchmod(fd, e.mode)
            self._times(e, fd=fd)
        finally:
            os.close(fd)
