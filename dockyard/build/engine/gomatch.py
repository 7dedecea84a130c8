"""Go's ``path/filepath.Match`` (what COPY and ADD wildcards use): ``*`` and ``?`` never match
``/``, ``[a-z]``/``[^a-z]`` are character classes, ``\\`` escapes the next character."""
from __future__ import annotations

import functools
import re


class PatternError(ValueError):
    """A malformed pattern (Go's ErrBadPattern)."""


def has_wildcards(path: str) -> bool:
    """Whether ``path`` uses any of ``* ? [`` (Docker's containsWildcards; ``\\`` escapes)."""
    i = 0
    while i < len(path):
        c = path[i]
        if c == "\\":
            i += 2
            continue
        if c in "*?[":
            return True
        i += 1
    return False


def _escaped(pattern: str, i: int) -> tuple[str, int]:
    """One (possibly escaped) character of a class at ``i``; the index after it."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise PatternError(f"syntax error in pattern {pattern!r}")
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise PatternError(f"syntax error in pattern {pattern!r}")
    return pattern[i], i + 1


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            i += 1
            if i >= n:
                raise PatternError(f"syntax error in pattern {pattern!r}")
            out.append(re.escape(pattern[i]))
        elif c == "[":
            i += 1
            negated = i < n and pattern[i] == "^"
            if negated:
                i += 1
            ranges: list[str] = []
            while True:
                if i < n and pattern[i] == "]" and ranges:
                    break
                lo, i = _escaped(pattern, i)
                hi = lo
                if i < n and pattern[i] == "-":
                    hi, i = _escaped(pattern, i + 1)
                    if hi < lo:
                        raise PatternError(f"syntax error in pattern {pattern!r}")
                ranges.append(re.escape(lo) + ("-" + re.escape(hi) if hi != lo else ""))
            out.append("[" + ("^" if negated else "") + "".join(ranges) + "]")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.S)


def match(pattern: str, name: str) -> bool:
    """filepath.Match(pattern, name); PatternError for a malformed pattern."""
    return compile_pattern(pattern).fullmatch(name) is not None
