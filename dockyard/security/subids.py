"""/etc/subuid and /etc/subgid: the subordinate id ranges each user may map into user namespaces.

Each line is ``NAME_OR_ID:START:COUNT``. ``ranges_for`` returns a user's ranges in file order
(an entry may name the user or give its numeric id, as shadow-utils accepts); ``allocate``
appends a new range above every range already given out, as dockerd does for ``dockremap``.
Malformed lines are skipped when reading (shadow-utils does the same) but reported by ``parse``.
"""
from __future__ import annotations

import fcntl
import os
from typing import NamedTuple

SUBUID, SUBGID = "/etc/subuid", "/etc/subgid"
FIRST_ID = 100000
DEFAULT_SIZE = 65536
MAX_ID = (1 << 32) - 2


class SubIdError(ValueError):
    """A subordinate id file is unusable, or has no range for a user."""


class Range(NamedTuple):
    owner: str
    start: int
    count: int

    @property
    def end(self) -> int:
        return self.start + self.count


def parse(text: str, path: str = SUBUID) -> tuple[list[Range], list[str]]:
    """(ranges, problems): every well-formed line, and a message for each other non-empty line."""
    out, problems = [], []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
            problems.append(f"{path}:{n}: malformed line {line!r} (expected NAME:START:COUNT)")
            continue
        start, count = int(parts[1]), int(parts[2])
        if count == 0 or start + count - 1 > MAX_ID:
            problems.append(f"{path}:{n}: range {start}:{count} is empty or beyond the 32-bit id space")
            continue
        out.append(Range(parts[0], start, count))
    return out, problems


def read(path: str) -> list[Range]:
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise SubIdError(f"reading {path}: {e.strerror}") from None
    return parse(text, path)[0]


def ranges_for(path: str, name: str, numeric_id: int | None = None) -> list[Range]:
    keys = {name} | ({str(numeric_id)} if numeric_id is not None else set())
    return [r for r in read(path) if r.owner in keys]


def allocate(path: str, name: str, size: int = DEFAULT_SIZE) -> Range:
    """Append ``name:START:size`` with START above every existing range (and >= 100000); the
    file is locked (flock on the file itself: shadow-utils' own ``FILE.lock`` must never be left
    behind, its tools would refuse to work) and rewritten atomically. Returns the existing first
    range if ``name`` has one."""
    os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
    lock = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        ranges, _ = parse(text, path)
        mine = [r for r in ranges if r.owner == name]
        if mine:
            return mine[0]
        start = max([FIRST_ID] + [r.end for r in ranges])
        if start + size - 1 > MAX_ID:
            raise SubIdError(f"{path}: no room for {size} more subordinate ids")
        new = Range(name, start, size)
        if text and not text.endswith("\n"):
            text += "\n"
        text += f"{name}:{start}:{size}\n"
        tmp = f"{path}.dockyard-tmp"
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            st = os.stat(path)
            os.chmod(tmp, st.st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        return new
    finally:
        os.close(lock)


def remove(path: str, name: str) -> None:
    """Drop every range of ``name`` (for tests and for undoing ``allocate``)."""
    try:
        with open(path) as f:
            lines = f.read().splitlines(keepends=True)
    except FileNotFoundError:
        return
    kept = [ln for ln in lines if ln.split(":", 1)[0] != name]
    if kept != lines:
        tmp = f"{path}.dockyard-tmp"
        with open(tmp, "w") as f:
            f.writelines(kept)
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
