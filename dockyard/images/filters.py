"""Engine API filter arguments for images: parsing, reference patterns, times.

Filters arrive as ``{"key": ["v1", "v2"]}`` or Docker's older map form
``{"key": {"v1": true}}``; both become ``dict[str, list[str]]``.
"""
from __future__ import annotations

import re
import time
from typing import Mapping

from . import timeutil
from .errors import InvalidArgument

LIST_KEYS = ("dangling", "label", "before", "since", "reference")
PRUNE_KEYS = ("dangling", "label", "label!", "until")


def normalize(filters: Mapping | None, allowed: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, val in (filters or {}).items():
        if key not in allowed:
            raise InvalidArgument(f"invalid filter '{key}'")
        if isinstance(val, str):
            vals = [val]
        elif isinstance(val, Mapping):
            vals = [k for k, on in val.items() if on]
        elif isinstance(val, (list, tuple)):
            vals = list(val)
        else:
            raise InvalidArgument(f"invalid filter '{key}': expected a list of strings")
        if not all(isinstance(v, str) for v in vals):
            raise InvalidArgument(f"invalid filter '{key}': expected a list of strings")
        out[key] = vals
    return out


def dangling(f: dict[str, list[str]]) -> bool | None:
    """The value of the ``dangling`` filter (None when absent)."""
    vals = f.get("dangling")
    if not vals:
        return None
    result = None
    for v in vals:
        lv = v.lower()
        if lv in ("true", "1"):
            b = True
        elif lv in ("false", "0"):
            b = False
        else:
            raise InvalidArgument(f"invalid filter 'dangling={v}'")
        if result is not None and result != b:
            raise InvalidArgument("invalid filter 'dangling': conflicting values")
        result = b
    return result


def match_labels(wanted: list[str], labels: Mapping[str, str] | None) -> bool:
    """Every ``key`` or ``key=value`` in ``wanted`` is present in ``labels``."""
    labels = labels or {}
    for w in wanted:
        k, sep, v = w.partition("=")
        if k not in labels:
            return False
        if sep and labels[k] != v:
            return False
    return True


def match_any_label(unwanted: list[str], labels: Mapping[str, str] | None) -> bool:
    """``label!=`` semantics: True if any of ``unwanted`` matches."""
    labels = labels or {}
    for w in unwanted:
        k, sep, v = w.partition("=")
        if k in labels and (not sep or labels[k] == v):
            return True
    return False


_PATTERN_CACHE: dict[str, re.Pattern] = {}


def _translate(pattern: str) -> re.Pattern:
    """Go's path.Match: '*' and '?' never match '/', '[...]' classes, '\\' escapes."""
    rx = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            rx.append("[^/]*")
        elif c == "?":
            rx.append("[^/]")
        elif c == "\\":
            i += 1
            if i >= n:
                raise InvalidArgument(f"invalid reference pattern {pattern!r}")
            rx.append(re.escape(pattern[i]))
        elif c == "[":
            j = i + 1
            neg = j < n and pattern[j] == "^"
            if neg:
                j += 1
            parts = []
            first = True
            while j < n and (pattern[j] != "]" or first):
                first = False
                ch = pattern[j]
                if ch == "\\":
                    j += 1
                    if j >= n:
                        break
                    ch = pattern[j]
                if ch in "/":
                    raise InvalidArgument(f"invalid reference pattern {pattern!r}")
                if j + 2 < n and pattern[j + 1] == "-" and pattern[j + 2] != "]":
                    hi = pattern[j + 2]
                    parts.append(f"{re.escape(ch)}-{re.escape(hi)}")
                    j += 3
                    continue
                parts.append(re.escape(ch))
                j += 1
            if j >= n or not parts:
                raise InvalidArgument(f"invalid reference pattern {pattern!r}")
            rx.append(("[^/" if neg else "[") + "".join(parts) + "]")
            i = j
        else:
            rx.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(rx) + "$", re.DOTALL)


def path_match(pattern: str, name: str) -> bool:
    rx = _PATTERN_CACHE.get(pattern)
    if rx is None:
        rx = _PATTERN_CACHE[pattern] = _translate(pattern)
    return bool(rx.match(name))


def reference_match(pattern: str, familiar_full: str, familiar_name: str) -> bool:
    """Docker's reference.FamiliarMatch: the pattern against ``name:tag`` or ``name``."""
    return path_match(pattern, familiar_full) or path_match(pattern, familiar_name)


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_timestamp(value: str, now: float | None = None) -> float:
    """Docker's GetTimestamp: a Go duration (ago), unix seconds, or an RFC 3339 / date string."""
    now = time.time() if now is None else now
    v = value.strip()
    if re.fullmatch(r"(?:(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+", v):
        secs = sum(float(num) * _UNITS[unit] for num, unit in _DURATION.findall(v))
        return now - secs
    if re.fullmatch(r"\d+(\.\d+)?", v):
        return float(v)
    for candidate in (v, v + "T00:00:00Z" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) else None,
                      v + "Z" if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?", v) else None):
        if candidate:
            try:
                s, ns = timeutil.parse(candidate)
                return s + ns / 1e9
            except timeutil.TimeFormatError:
                pass
    raise InvalidArgument(f"invalid timestamp {value!r}: expected a duration, unix time or RFC 3339 date")
