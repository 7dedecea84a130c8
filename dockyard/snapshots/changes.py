"""What a snapshot changed relative to its parent.

* overlay: the upperdir *is* the change set: walk it; a 0/0 character device
  is a deletion, an opaque directory hides everything below it.
* native: compare the snapshot's tree with its parent's, both walked in name
  order (containerd's double walk). A file changed if its type, mode, owner,
  device number, portable xattrs, size or mtime differ; when both mtimes
  have no sub-second part (times restored from a tar), contents are compared.
  Directory mtimes are ignored (they change whenever a child does); a
  directory with changes below it is reported changed, as Docker does.

Changes come parents first, names sorted (depth first, no recursion, so
deep trees are fine), ready to be written to a tar in that order.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from . import fsops
from .snapshotter import Layers

_OVERLAY_FEATURES = ("trusted.overlay.redirect", "trusted.overlay.metacopy")


@dataclass(frozen=True)
class Change:
    kind: str                  # "A" added, "C" changed, "D" deleted
    path: tuple[str, ...]      # components relative to the root
    source: str | None = None  # the new file (A and C)
    opaque: bool = False       # overlay: this directory hides what was below it

    @property
    def name(self) -> str:
        return "/" + "/".join(self.path)


def iter_changes(layers: Layers) -> list[Change]:
    if layers.whiteouts == "overlay":
        return _overlay(layers.upper, list(layers.lowers))
    return _native(layers.upper, layers.lowers[0] if layers.lowers else None)


def _children(path: str) -> list[str]:
    """Names in a directory, in reverse order, for a depth-first stack."""
    return sorted(os.listdir(path), key=os.fsencode, reverse=True)


def _overlay(upper: str, lowers: list[str]) -> list[Change]:
    out: list[Change] = []
    stack = [((name,), bool(lowers)) for name in _children(upper)]
    while stack:
        comps, lower_visible = stack.pop()
        p = os.path.join(upper, *comps)
        st = os.lstat(p)
        if fsops.is_whiteout(st):
            out.append(Change("D", comps))
            continue
        if stat.S_ISSOCK(st.st_mode):
            continue  # sockets do not travel in layers
        xa = fsops.list_xattrs(p)
        for key in _OVERLAY_FEATURES:
            if key in xa:
                raise ValueError(f"{p!r} carries {key}: overlays must be mounted with "
                                 "redirect_dir=off,metacopy=off to be diffed")
        lower = fsops.overlay_lookup(lowers, comps) if lower_visible else None
        kind = "C" if lower is not None else "A"
        if not stat.S_ISDIR(st.st_mode):
            out.append(Change(kind, comps, p))
            continue
        opaque = xa.get(fsops.OVERLAY_OPAQUE) == b"y"
        out.append(Change(kind, comps, p, opaque))
        below = lower is not None and stat.S_ISDIR(lower[0].st_mode) and not opaque
        stack += [(comps + (n,), below) for n in _children(p)]
    return out


def _native(upper: str, lower: str | None) -> list[Change]:
    out: list[Change | None] = []
    real = 0  # changes appended so far (placeholders excluded)
    # stack items: ("entry" | "added", comps) or ("end", comps, placeholder index, real count then)
    stack: list[tuple] = []

    def emit(c: Change) -> None:
        nonlocal real
        out.append(c)
        real += 1

    def push_dir(comps: tuple[str, ...]) -> None:
        names = set(os.listdir(os.path.join(upper, *comps)))
        if lower is not None and (not comps or _is_dir(os.path.join(lower, *comps))):
            names |= set(os.listdir(os.path.join(lower, *comps)))
        stack.extend(("entry", comps + (n,)) for n in sorted(names, key=os.fsencode, reverse=True))

    def push_added(comps: tuple[str, ...]) -> None:
        stack.extend(("added", comps + (n,)) for n in _children(os.path.join(upper, *comps)))

    push_dir(())
    while stack:
        item = stack.pop()
        op, comps = item[0], item[1]
        if op == "end":
            if real > item[3]:  # something below changed: the directory is reported too
                out[item[2]] = Change("C", comps, os.path.join(upper, *comps))
                real += 1
            continue
        up = os.path.join(upper, *comps)
        ust = _lstat(up)
        if ust is None:
            emit(Change("D", comps))
            continue
        if stat.S_ISSOCK(ust.st_mode):
            continue
        low = os.path.join(lower, *comps) if (lower is not None and op == "entry") else None
        lst = _lstat(low) if low is not None else None
        if lst is None:
            emit(Change("A", comps, up))
            if stat.S_ISDIR(ust.st_mode):
                push_added(comps)
        elif stat.S_ISDIR(ust.st_mode) and stat.S_ISDIR(lst.st_mode):
            if _dir_changed(up, ust, low, lst):
                emit(Change("C", comps, up))
            else:
                out.append(None)  # becomes "C" if anything below changed
                stack.append(("end", comps, len(out) - 1, real))
            push_dir(comps)
        elif stat.S_ISDIR(ust.st_mode):  # a directory replaced a file
            emit(Change("C", comps, up))
            push_added(comps)
        elif not _same_file(up, ust, low, lst):
            emit(Change("C", comps, up))
    return [c for c in out if c is not None]


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _is_dir(path: str) -> bool:
    st = _lstat(path)
    return st is not None and stat.S_ISDIR(st.st_mode)


def _dir_changed(up: str, ust: os.stat_result, low: str, lst: os.stat_result) -> bool:
    return (ust.st_mode != lst.st_mode or ust.st_uid != lst.st_uid or ust.st_gid != lst.st_gid
            or fsops.portable_xattrs(up) != fsops.portable_xattrs(low))


def _same_file(up: str, ust: os.stat_result, low: str, lst: os.stat_result) -> bool:
    if (ust.st_mode != lst.st_mode or ust.st_uid != lst.st_uid or ust.st_gid != lst.st_gid
            or ust.st_rdev != lst.st_rdev or ust.st_size != lst.st_size):
        return False
    if fsops.portable_xattrs(up) != fsops.portable_xattrs(low):
        return False
    if stat.S_ISLNK(ust.st_mode) and os.readlink(up) != os.readlink(low):
        return False
    if ust.st_mtime_ns != lst.st_mtime_ns:
        return False
    if ust.st_mtime_ns % 10**9 == 0 and stat.S_ISREG(ust.st_mode) and ust.st_size:
        return _same_content(up, low)  # a truncated time proves little: compare bytes
    return True


def _same_content(a: str, b: str) -> bool:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    with open(os.open(a, flags), "rb") as fa, open(os.open(b, flags), "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True
