"""Small pieces of Go's standard library the Dockerfile front end must match byte for byte.

BuildKit's parser is written against Go's notions of whitespace (``unicode.IsSpace``), string
quoting (``strconv.Quote``, used by the parse-tree dump), path cleaning (``path.Clean``) and
durations (``time.ParseDuration``, used by HEALTHCHECK). Python's built-ins differ in small ways
(``str.isspace`` accepts U+001C..U+001F, ``posixpath.normpath`` keeps a leading ``//``), so the
Go behaviour is written out here once.
"""
from __future__ import annotations

import re
import unicodedata

# unicode.IsSpace: Latin-1 spaces plus the White_Space property above U+00FF.
_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                       "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
GO_SPACE_CHARS = "".join(sorted(_GO_SPACES))


def is_space(ch: str) -> bool:
    """Go's unicode.IsSpace for one character."""
    return ch in _GO_SPACES


def trim_space(s: str) -> str:
    """Go's strings.TrimSpace."""
    return s.strip(GO_SPACE_CHARS)


def trim_left_space(s: str) -> str:
    """Go's strings.TrimLeftFunc(s, unicode.IsSpace)."""
    return s.lstrip(GO_SPACE_CHARS)


def is_letter(ch: str) -> bool:
    """Go's unicode.IsLetter (categories L*)."""
    return ch.isalpha()


def is_digit(ch: str) -> bool:
    """Go's unicode.IsDigit (category Nd only; str.isdigit also accepts superscripts)."""
    return unicodedata.category(ch) == "Nd"


_SIMPLE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def quote(s: str) -> str:
    """Go's strconv.Quote. Undecodable input bytes (carried as surrogate escapes) print as \\xNN."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0xDC80 <= o <= 0xDCFF:  # a raw byte kept by the 'surrogateescape' decoding
            out.append("\\x%02x" % (o - 0xDC00))
        elif ch == " " or (ch.isprintable() and not 0xD800 <= o <= 0xDFFF):
            out.append(ch)
        elif ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        elif o < 0x10000:
            out.append("\\u%04x" % o)
        else:
            out.append("\\U%08x" % o)
    out.append('"')
    return "".join(out)


def quote_list(items) -> str:
    """Go's fmt %q applied to a []string: ["a" "b"]."""
    return "[" + " ".join(quote(x) for x in items) + "]"


def clean_path(p: str) -> str:
    """Go's path.Clean (filepath.Clean on Unix)."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    parts: list[str] = []
    for part in p.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


# time.ParseDuration
_UNITS = {"ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000,
          "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def parse_duration(s: str) -> int:
    """Go's time.ParseDuration; returns nanoseconds. Raises ValueError with Go's message."""
    orig = s
    neg = False
    if s[:1] in ("-", "+"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        raise ValueError("time: invalid duration " + quote(orig))
    total = 0
    while s:
        m = _DURATION_PART.match(s)
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        if whole == "" and not frac:
            raise ValueError("time: invalid duration " + quote(orig))
        if unit == "":
            raise ValueError("time: missing unit in duration " + quote(orig))
        if unit not in _UNITS:
            raise ValueError("time: unknown unit " + quote(unit) + " in duration " + quote(orig))
        scale = _UNITS[unit]
        value = int(whole or "0") * scale
        if frac:
            value += int(frac) * scale // (10 ** len(frac))
        total += value
        if total > (1 << 63) - 1:
            raise ValueError("time: invalid duration " + quote(orig))
        s = s[m.end():]
    return -total if neg else total


def parse_int32(s: str) -> int:
    """Go's strconv.ParseInt(s, 10, 32), with its error messages."""
    if not re.fullmatch(r"[+-]?[0-9]+", s):
        raise ValueError(f"strconv.ParseInt: parsing {quote(s)}: invalid syntax")
    v = int(s)
    if not -(1 << 31) <= v < (1 << 31):
        raise ValueError(f"strconv.ParseInt: parsing {quote(s)}: value out of range")
    return v


def levenshtein(a: str, b: str) -> int:
    """Edit distance with unit costs (agext/levenshtein's default)."""
    if a == b:
        return 0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggest(value: str, options, case_sensitive: bool = False) -> str | None:
    """BuildKit's util/suggest: the closest option within edit distance 2, or None.

    An exact match means the value was fine and nothing is suggested.
    """
    orig = value
    if not case_sensitive:
        value = value.lower()
    match = None
    best = 3
    for opt in sorted(options):
        cmp = opt if case_sensitive else opt.lower()
        if cmp == value:
            return None
        dist = levenshtein(value, cmp)
        if dist < best:
            best = dist
            if case_sensitive:
                match = opt
            elif orig == orig.lower():
                match = cmp
            elif orig == orig.upper():
                match = cmp.upper()
            else:
                match = cmp
    return match
