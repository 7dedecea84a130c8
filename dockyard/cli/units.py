"""Sizes, durations and times the way docker prints and parses them (go-units, Go's time)."""
from __future__ import annotations

import time

_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def _scaled(size: float, base: float, names) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(names) - 1:
        size /= base
        i += 1
    return size, names[i]


def human_size(size: float, precision: int = 4) -> str:
    """go-units HumanSizeWithPrecision: decimal units, ``%.<precision>g`` ("1.98MB", "4.26MB")."""
    s, unit = _scaled(float(size), 1000.0, _DECIMAL)
    return f"{s:.{precision}g}{unit}"


def bytes_size(size: float) -> str:
    """go-units BytesSize: binary units ("1.5MiB")."""
    s, unit = _scaled(float(size), 1024.0, _BINARY)
    return f"{s:.4g}{unit}"


from ..util.humanize import human_duration  # noqa: E402,F401  (shared with the daemon's ps status)


def since(unix: float, now: float | None = None) -> str:
    """"3 minutes ago" for a unix timestamp."""
    return human_duration((time.time() if now is None else now) - unix) + " ago"


_RAM_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text: str) -> int:
    """go-units RAMInBytes: "512m", "1.5g", "100k", "1024" (binary multiples); ValueError otherwise."""
    s = text.strip() if text == text.strip() else text
    num_end = 0
    while num_end < len(s) and (s[num_end].isdigit() or s[num_end] == "."):
        num_end += 1
    num, rest = s[:num_end], s[num_end:]
    if not num or not num[0].isdigit() or num.endswith(".") or ".." in num or not num.replace(".", "").isdigit():
        raise ValueError(f"invalid size: '{text}'")
    if rest.startswith(" "):
        rest = rest[1:]
    unit = rest[:1].lower() if rest[:1].lower() in "kmgtp" and rest[:1] else ""
    tail = rest[len(unit):].lower()
    if tail not in ("", "b", "i", "ib"):
        raise ValueError(f"invalid size: '{text}'")
    if tail == "i" or (tail == "ib" and not unit):
        if not unit:
            raise ValueError(f"invalid size: '{text}'")
    return int(float(num) * _RAM_UNITS[unit])


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float:
    """time.ParseDuration → seconds ("1h30m", "2.5s", "300ms", "-1s"); ValueError as Go words it."""
    s = text
    orig = text
    if s == "":
        raise ValueError(f'time: invalid duration "{orig}"')
    neg = False
    if s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0.0
    if s == "":
        raise ValueError(f'time: invalid duration "{orig}"')
    total = 0.0
    while s:
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] == "."):
            i += 1
        num = s[:i]
        if not num or num == "." or num.count(".") > 1:
            raise ValueError(f'time: invalid duration "{orig}"')
        s = s[i:]
        j = 0
        while j < len(s) and not (s[j].isdigit() or s[j] == "."):
            j += 1
        unit = s[:j]
        s = s[j:]
        if not unit:
            raise ValueError(f'time: missing unit in duration "{orig}"')
        if unit not in _DURATION_UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{orig}"')
        total += float(num) * _DURATION_UNITS[unit]
    return -total if neg else total


def go_duration_ns(text: str) -> int:
    return int(round(parse_go_duration(text) * 1e9))


def format_go_duration(seconds: float) -> str:
    """time.Duration.String for whole-ish values: "1m30s", "500ms", "0s"."""
    ns = int(round(seconds * 1e9))
    if ns == 0:
        return "0s"
    neg = ns < 0
    ns = abs(ns)
    if ns < 1_000_000_000:
        if ns < 1000:
            out = f"{ns}ns"
        elif ns < 1_000_000:
            out = _trim(ns / 1e3) + "µs"
        else:
            out = _trim(ns / 1e6) + "ms"
    else:
        h, rem = divmod(ns, 3600 * 10**9)
        m, rem = divmod(rem, 60 * 10**9)
        sec = _trim(rem / 1e9)
        out = (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{sec}s"
    return ("-" if neg else "") + out


def _trim(x: float) -> str:
    s = f"{x:.9f}".rstrip("0").rstrip(".")
    return s or "0"


def parse_timestamp(value: str, now: float | None = None) -> str:
    """docker's timetypes.GetTimestamp: a duration ("10m", meaning that long ago), a unix
    time ("1700000000[.nnn]") or an RFC 3339 date/time; returns "seconds.nanoseconds"."""
    now = time.time() if now is None else now
    v = value.strip()
    if not v:
        return ""
    try:
        d = parse_go_duration(v)
        return _secs(now - d)
    except ValueError:
        pass
    if v.replace(".", "", 1).isdigit():
        if "." in v:
            a, b = v.split(".", 1)
            return f"{a}.{(b + '000000000')[:9]}"
        return f"{v}.000000000"
    import datetime as dt
    fmts = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H%z", "%Y-%m-%dT%H", "%Y-%m-%d")
    text = v[:-1] + "+0000" if v.endswith("Z") else v
    frac = ""
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        frac = digits
        text = head + ("." + digits[:6] if digits else "") + rest
    for f in fmts:
        try:
            t = dt.datetime.strptime(text, f)
        except ValueError:
            continue
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.datetime.now().astimezone().tzinfo)
        secs = int(t.timestamp() // 1)
        return f"{secs}.{(frac + '000000000')[:9]}"
    raise ValueError(f"failed to parse value as time or duration: \"{value}\"")


def _secs(t: float) -> str:
    whole = int(t // 1)
    return f"{whole}.{int(round((t - whole) * 1e9)):09d}"


def parse_rfc3339(s: str) -> float | None:
    """"2026-11-27T17:46:25.613745614Z" → unix seconds (None for Go's zero time or garbage)."""
    if not s or s.startswith("0001-01-01"):
        return None
    import datetime as dt
    text = s
    frac = 0.0
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        frac = float("0." + digits) if digits else 0.0
        text = head + rest
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.timestamp() + frac


def go_time_string(unix: float) -> str:
    """time.Unix(x, 0).String() in the local zone: "2026-11-27 18:54:21 +0000 UTC"."""
    lt = time.localtime(unix)
    return time.strftime("%Y-%m-%d %H:%M:%S %z ", lt) + (lt.tm_zone or "")
