"""Directory work shared by the v1 and v2 managers: create a cgroup path
below the runtime's own cgroup remembering what was made, remove exactly
that, and list the processes of a subtree."""
from __future__ import annotations

from _collections_abc import Callable  # already loaded at start-up (collections.abc would import collections)

import errno
import os
import time

from .files import CgroupFiles
from .errors import CgroupError

RMDIR_TRIES = 6          # 10, 20, 40, 80, 160 ms between tries: ~0.3 s in all
RMDIR_FIRST_WAIT = 0.01


def make_path(own_dir: str, rel: str, fs: CgroupFiles, controller: str,
              on_created: Callable[[str], None] | None = None) -> list[str]:
    """mkdir -p ``own_dir/rel`` one component at a time; returns the directories
    made (outermost first). ``own_dir`` itself must exist. On failure the
    directories made by this call are removed again."""
    if not os.path.isdir(own_dir):
        raise CgroupError(f"cgroup {controller}: the runtime's own cgroup {own_dir} does not exist")
    for attempt in range(3):
        created: list[str] = []
        cur = own_dir
        try:
            for part in rel.split("/"):
                cur = os.path.join(cur, part)
                if fs.mkdir(cur, controller):
                    created.append(cur)
                    if on_created is not None:
                        on_created(cur)
            return created
        except CgroupError as e:
            for d in reversed(created):
                try:
                    fs.rmdir(d)
                except OSError:
                    pass
            # a parent removed under our feet by a concurrent destroy: try again
            if e.errno == errno.ENOENT and attempt < 2:
                continue
            raise
    raise AssertionError("unreachable")


def _subdirs(path: str) -> list[str]:
    try:
        with os.scandir(path) as it:
            return [e.path for e in it if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def _rmdir_retry(path: str, fs: CgroupFiles) -> None:
    wait = RMDIR_FIRST_WAIT
    for i in range(RMDIR_TRIES):
        try:
            fs.rmdir(path)
            return
        except OSError as e:
            if e.errno != errno.EBUSY or i == RMDIR_TRIES - 1:
                raise
        time.sleep(wait)
        wait *= 2


def remove_created(created: list[str], leaf: str, fs: CgroupFiles,
                   controller: str) -> tuple[list[str], CgroupError | None]:
    """Remove the directories in ``created``, deepest first.

    The container's own directory (``leaf``), when we made it, goes with any
    sub-cgroups the container made inside it; an ancestor we made that now
    holds other cgroups (another container's) is left alone. Returns the
    directories that could not be removed (to retry later) and the first
    error, after trying everything. An ancestor left for other containers is
    not returned: it is theirs from then on.
    """
    remaining: list[str] = []
    first_err: CgroupError | None = None
    for d in sorted(created, key=lambda p: p.count("/"), reverse=True):
        try:
            if d == leaf:
                # children made by the container itself, deepest first
                stack, order = [d], []
                while stack:
                    cur = stack.pop()
                    order.append(cur)
                    stack.extend(_subdirs(cur))
                for sub in reversed(order[1:]):
                    _rmdir_retry(sub, fs)
            elif _subdirs(d):
                # still holds our leaf (its removal failed: retry later), or
                # other containers' cgroups (theirs now: leave it for good)
                if leaf in remaining:
                    remaining.append(d)
                continue
            _rmdir_retry(d, fs)
        except OSError as e:
            remaining.append(d)
            if first_err is None:
                first_err = CgroupError(f"cgroup {controller}: removing {d}: {e.strerror}", e.errno)
    return remaining, first_err


def procs_recursive(path: str, fs: CgroupFiles, controller: str) -> set[int]:
    out: set[int] = set()
    stack = [path]
    while stack:
        cur = stack.pop()
        try:
            text = fs.read(cur, "cgroup.procs", controller)
        except CgroupError as e:
            if e.errno == errno.ENOENT and cur != path:
                continue  # a sub-cgroup vanished meanwhile
            raise
        out.update(int(x) for x in text.split() if x.isdigit())
        stack.extend(_subdirs(cur))
    return out


def check_inside(d: str, own_dir: str, leaf: str, what: str) -> None:
    """A directory recorded in a state file must be the container's cgroup
    or one of its ancestors strictly below the runtime's own cgroup."""
    own = own_dir.rstrip("/") + "/"
    if not d.startswith(own) or not (leaf == d or leaf.startswith(d.rstrip("/") + "/")) \
            or "/../" in d + "/" or "/./" in d + "/":
        raise CgroupError(f"cgroup: invalid state: {what} directory {d!r} is not on the path to {leaf!r}")
