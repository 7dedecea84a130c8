"""A snapshotter whose content belongs to a user namespace's id range.

``RemappedSnapshotter(inner, idmap)`` behaves as ``inner`` (every call is passed through) and
adds what a remapped daemon needs:

* ``commit`` first shifts the owners of the snapshot's own files into the range (a layer entry
  owned by uid/gid N in its tar ends up owned by the host id container id N maps to), so image
  layers are unpacked "chowned" once, by chain ID, in the remapped daemon's own data root;
* ``prepare`` gives a new snapshot's top directory (the root directory of a container's file
  system: overlayfs takes it from the upper layer) to the mapped root.

The shift is idempotent: an id already inside the host range is kept (``remap.resolve``
guarantees the host ranges do not overlap the container ids 0..N, so no tar id can be confused
with a shifted one). Modes are restored after each chown (which clears setuid/setgid), and
file capabilities are rewritten as revision-3 capabilities whose root is the mapped root, so
they keep working inside the user namespace.
"""
from __future__ import annotations

import os
import stat
import struct

from .remap import IdMap, RemapError

_CAP_XATTR = "security.capability"
_REV2, _REV3, _REV_MASK = 0x02000000, 0x03000000, 0xFF000000


class RemapWalkError(ValueError):
    """A file of a layer has an owner outside the user namespace's mapping."""


def _caps_for_root(raw: bytes, rootid: int) -> bytes:
    """A security.capability value, as revision 3 with ``rootid`` (unchanged if not v2/v3)."""
    if len(raw) < 4:
        return raw
    (magic,) = struct.unpack_from("<I", raw)
    rev, flags = magic & _REV_MASK, magic & ~_REV_MASK
    if rev == _REV2 and len(raw) >= 20:
        return struct.pack("<I", _REV3 | flags) + raw[4:20] + struct.pack("<I", rootid)
    if rev == _REV3 and len(raw) >= 24:
        return raw[:20] + struct.pack("<I", rootid)
    return raw


def shift_tree(top: str, idmap: IdMap) -> int:
    """Shift every owner below (and of) ``top`` that is not in the host range yet; returns the
    number of inodes changed. Never follows symlinks, never leaves the file system of ``top``."""
    root_uid, _ = idmap.root()
    changed = 0
    top_dev = os.lstat(top).st_dev

    def one(path: str, st: os.stat_result) -> None:
        nonlocal changed
        uid = st.st_uid if idmap.container_uid(st.st_uid) is not None else None
        gid = st.st_gid if idmap.container_gid(st.st_gid) is not None else None
        if uid is not None and gid is not None:
            return
        rel = os.path.relpath(path, top)
        try:
            new_uid = uid if uid is not None else idmap.host_uid(st.st_uid)
            new_gid = gid if gid is not None else idmap.host_gid(st.st_gid)
        except RemapError as e:
            raise RemapWalkError(f"{rel!r}: {e}") from None
        caps = None
        if stat.S_ISREG(st.st_mode):
            try:
                caps = os.getxattr(path, _CAP_XATTR, follow_symlinks=False)
            except OSError:
                caps = None
        os.chown(path, new_uid, new_gid, follow_symlinks=False)
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(path, stat.S_IMODE(st.st_mode))  # chown cleared setuid/setgid
        if caps is not None:
            os.setxattr(path, _CAP_XATTR, _caps_for_root(caps, root_uid), follow_symlinks=False)
        changed += 1

    one(top, os.lstat(top))
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if st.st_dev != top_dev:
                continue
            one(p, st)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    return changed


class RemappedSnapshotter:
    def __init__(self, inner, idmap: IdMap):
        self._inner = inner
        self.idmap = idmap

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def prepare(self, key: str, parent: str | None = None, labels=None):
        mounts = self._inner.prepare(key, parent, labels)
        try:
            upper = self._inner.layers(key).upper
            if (os.lstat(upper).st_uid, os.lstat(upper).st_gid) == (0, 0):
                os.lchown(upper, *self.idmap.root())
        except BaseException:
            self._inner.remove(key)
            raise
        return mounts

    def commit(self, name: str, key: str, labels=None):
        upper = self._inner.layers(key).upper
        try:
            shift_tree(upper, self.idmap)
        except RemapWalkError as e:
            from ..snapshots.apply import LayerError
            raise LayerError(f"layer file {e} (userns-remap)") from None
        if labels is None:
            return self._inner.commit(name, key)
        return self._inner.commit(name, key, labels)
