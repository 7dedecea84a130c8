"""Reading a container's json-file log (written by the shim): tail, since/until, follow.

Files: ``<path>`` is the current one, ``<path>.1`` … ``<path>.N`` older ones (docker's rotation).
Each line: ``{"log": "...", "stream": "stdout"|"stderr", "time": "2026-11-27T18:00:00.123456789Z"}``.
"""
from __future__ import annotations

import asyncio
import calendar
import json
import os
from typing import AsyncIterator, Iterator

Entry = tuple[int, str, bytes, str]  # (time ns, stream, data, original time string)


def parse_time(s: str) -> int:
    """RFC3339Nano (UTC 'Z' or ±hh:mm offset) to ns since the epoch."""
    date, _, rest = s.partition("T")
    y, mo, d = (int(x) for x in date.split("-"))
    off = 0
    if rest.endswith("Z"):
        rest = rest[:-1]
    elif len(rest) > 6 and rest[-6] in "+-":
        sign = 1 if rest[-6] == "+" else -1
        off = sign * (int(rest[-5:-3]) * 3600 + int(rest[-2:]) * 60)
        rest = rest[:-6]
    hms, _, frac = rest.partition(".")
    h, mi, sec = (int(x) for x in hms.split(":"))
    ns = int((frac + "000000000")[:9]) if frac else 0
    return (calendar.timegm((y, mo, d, h, mi, sec)) - off) * 1_000_000_000 + ns


def parse_api_time(value: str | None) -> int | None:
    """The API's since/until: a unix time with optional fraction ('1700000000.5'); 0 or empty = unset."""
    if not value or value == "0":
        return None
    sec, _, frac = value.partition(".")
    try:
        return int(sec) * 1_000_000_000 + (int((frac + "000000000")[:9]) if frac else 0)
    except ValueError:
        raise ValueError(f"invalid time {value!r}: expected a unix timestamp") from None


def _files(path: str) -> list[str]:
    """Oldest first."""
    out = []
    i = 1
    while os.path.exists(f"{path}.{i}"):
        out.append(f"{path}.{i}")
        i += 1
    out.reverse()
    if os.path.exists(path):
        out.append(path)
    return out


def _parse_line(line: bytes) -> Entry | None:
    try:
        d = json.loads(line)
        t = d["time"]
        return parse_time(t), d.get("stream", "stdout"), d.get("log", "").encode("utf-8", "surrogateescape"), t
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # a torn last line (daemon killed mid-write) is skipped, as docker does


def read_entries(path: str) -> Iterator[Entry]:
    for fname in _files(path):
        try:
            with open(fname, "rb") as f:
                for line in f:
                    e = _parse_line(line)
                    if e is not None:
                        yield e
        except FileNotFoundError:  # rotated away while reading
            continue


def select(entries, *, stdout=True, stderr=True, since: int | None = None, until: int | None = None,
           tail: int | None = None) -> list[Entry]:
    out = []
    for e in entries:
        if (e[1] == "stdout" and not stdout) or (e[1] == "stderr" and not stderr):
            continue
        if since is not None and e[0] < since:
            continue
        if until is not None and e[0] > until:
            continue
        out.append(e)
    if tail is not None:
        out = out[-tail:] if tail > 0 else []
    return out


def frame(stream: str, data: bytes) -> bytes:
    """Docker's multiplexed stream frame: [type, 0, 0, 0, uint32 big-endian length] + data."""
    kind = 2 if stream == "stderr" else 1
    return bytes((kind, 0, 0, 0)) + len(data).to_bytes(4, "big") + data


def render(e: Entry, *, timestamps: bool, multiplexed: bool) -> bytes:
    data = e[2]
    if timestamps:
        data = e[3].encode() + b" " + data
    return frame(e[1], data) if multiplexed else data


async def follow(path: str, start_offset: int, running, *, interval: float = 0.1) -> AsyncIterator[Entry]:
    """New entries appended after ``start_offset`` of the current file, following rotation,
    until ``running()`` is false and nothing more is left to read."""
    fname = path
    offset = start_offset
    ino = os.stat(fname).st_ino if os.path.exists(fname) else None
    buf = b""
    while True:
        progressed = False
        try:
            st = os.stat(fname)
        except FileNotFoundError:
            st = None
        if st is not None and ino is not None and st.st_ino != ino:
            # rotated: finish the old file (now <path>.1) then start the new one at 0
            old = f"{path}.1"
            if os.path.exists(old):
                with open(old, "rb") as f:
                    f.seek(offset)
                    buf += f.read()
            offset, ino = 0, st.st_ino
        if st is not None:
            if ino is None:
                ino = st.st_ino
            if st.st_size > offset:
                with open(fname, "rb") as f:
                    f.seek(offset)
                    data = f.read()
                offset += len(data)
                buf += data
                progressed = True
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            e = _parse_line(line)
            if e is not None:
                yield e
        if not progressed:
            if not running():
                return
            await asyncio.sleep(interval)


def current_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
