"""RFC 3339 timestamps as Go writes and reads them (nanosecond precision).

Image configs carry ``created`` with up to nine fractional digits; Python's
datetime keeps only six, so times are handled as (unix seconds, nanoseconds).
"""
from __future__ import annotations

import calendar
import re
import time

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)
ZERO = "0001-01-01T00:00:00Z"  # Go's zero time, what Docker prints for "never"


class TimeFormatError(ValueError):
    pass


def parse(value: str) -> tuple[int, int]:
    """Parse an RFC 3339 time into (unix seconds, nanoseconds)."""
    m = _RFC3339.match(value or "")
    if not m:
        raise TimeFormatError(f"invalid RFC 3339 time: {value!r}")
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    frac = (m.group(7) or "").ljust(9, "0")
    secs = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
    tz = m.group(8)
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        secs -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    return secs, int(frac)


def unix(value: str | None) -> int:
    """Unix seconds of an RFC 3339 time; 0 when absent or unparsable."""
    if not value:
        return 0
    try:
        return parse(value)[0]
    except TimeFormatError:
        return 0


def format(secs: int, nanos: int = 0) -> str:
    """Format like Go's time.RFC3339Nano in UTC (trailing zeros dropped)."""
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if nanos:
        base += "." + f"{nanos:09d}".rstrip("0")
    return base + "Z"


def normalize(value: str | None) -> str:
    """Re-emit a config time the way Docker prints it; ZERO when absent."""
    if not value:
        return ZERO
    try:
        return format(*parse(value))
    except TimeFormatError:
        return value


def now() -> str:
    ns = time.time_ns()
    return format(ns // 1_000_000_000, ns % 1_000_000_000)
