"""Timestamps the way Go's time.RFC3339Nano prints them in UTC (trailing zeros trimmed)."""
from __future__ import annotations

import time


def rfc3339nano(ns: int | None = None) -> str:
    """``2026-11-27T18:00:00.123456789Z``; ``ns`` is nanoseconds since the epoch (default: now)."""
    if ns is None:
        ns = time.time_ns()
    sec, frac = divmod(ns, 1_000_000_000)
    out = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    if frac:
        out += "." + f"{frac:09d}".rstrip("0")
    return out + "Z"
