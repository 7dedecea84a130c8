"""Template functions: Go's builtins and docker's additions (json, split, join, title, lower,
upper, pad, truncate), plus docker's header variants used to render table headers."""
from __future__ import annotations

from .printf import sprintf
from .values import GoNil, GoStruct, MISSING, go_json, sprint, sprintln, truth, type_name


class FuncError(Exception):
    """A function failed; the executor words it as ``error calling NAME: …``."""


def _len(v):
    if isinstance(v, str):
        return len(v.encode())
    if isinstance(v, (list, tuple, dict)):
        return len(v)
    if isinstance(v, GoNil) and v.kind != "ptr":
        return 0
    raise FuncError(f"len of type {type_name(v)}")


def _index(item, *indices):
    if item is None or item is MISSING:
        raise FuncError("index of untyped nil")
    for ix in indices:
        if isinstance(item, GoNil):
            if item.kind == "map":
                return ""
            if item.kind == "slice":
                raise FuncError(f"index out of range: {ix}")
            raise FuncError("index of nil pointer")
        if isinstance(item, (list, tuple, str)):
            if isinstance(ix, bool) or not isinstance(ix, int):
                raise FuncError(f"cannot index slice/array with type {type_name(ix)}")
            if ix < 0 or ix >= len(item):
                raise FuncError(f"index out of range: {ix}")
            item = item[ix] if not isinstance(item, str) else item.encode()[ix]
        elif isinstance(item, dict):
            if ix in item:
                item = item[ix]
            elif isinstance(item, GoStruct):
                raise FuncError(f"can't index item of type {type_name(item)}")
            elif not item or all(isinstance(x, str) for x in item.values()):
                item = ""  # map[string]string: the zero value
            else:
                item = None
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def _slice(item, *indices):
    if not isinstance(item, (str, list, tuple)):
        raise FuncError(f"can't slice item of type {type_name(item)}")
    if len(indices) > 3:
        raise FuncError(f"too many slice indexes: {len(indices)}")
    n = len(item)
    idx = list(indices) + [None] * (2 - len(indices)) if len(indices) < 2 else list(indices)
    lo = idx[0] if idx and idx[0] is not None else 0
    hi = idx[1] if len(idx) > 1 and idx[1] is not None else n
    if not (0 <= lo <= hi <= n):
        raise FuncError(f"index out of range: {hi if hi > n else lo}")
    return item[lo:hi]


def _basic(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if v is None or v is MISSING or isinstance(v, GoNil):
        return "nil"
    return None


def _eq(a, *bs):
    if not bs:
        raise FuncError("missing argument for comparison")
    ka = _basic(a)
    for b in bs:
        kb = _basic(b)
        if ka is None or kb is None:
            if ka is None and kb is None or (ka == "nil" or kb == "nil"):
                if a == b:
                    return True
                continue
            raise FuncError("incompatible types for comparison")
        if ka != kb:
            if "nil" in (ka, kb):
                continue
            raise FuncError("incompatible types for comparison")
        if a == b:
            return True
    return False


def _cmp(a, b) -> int:
    ka, kb = _basic(a), _basic(b)
    if ka != kb or ka not in ("number", "string"):
        if ka == kb == "bool":
            raise FuncError("invalid type for comparison")
        raise FuncError("incompatible types for comparison" if ka != kb else "invalid type for comparison")
    return (a > b) - (a < b)


def _html(*args):
    s = sprint(*args)
    return s.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace('"', "&#34;").replace("\0", "\ufffd")


def _js(*args):
    s = sprint(*args)
    out = []
    for ch in s:
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch == "<":
            out.append("\\u003C")
        elif ch == ">":
            out.append("\\u003E")
        elif ch == "&":
            out.append("\\u0026")
        elif ch == "=":
            out.append("\\u003D")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _urlquery(*args):
    import urllib.parse
    return urllib.parse.quote_plus(sprint(*args))


def _title(s):
    out, prev_letter = [], False
    for ch in _str(s, "title"):
        out.append(ch.upper() if not prev_letter else ch)
        prev_letter = ch.isalnum() or ch == "_" or ch == "'"
    return "".join(out)


def _str(v, fn: str) -> str:
    if isinstance(v, str):
        return v
    raise FuncError(f"wrong type for value; expected string; got {type_name(v)}")


def _split(s, sep):
    s, sep = _str(s, "split"), _str(sep, "split")
    if sep == "":
        return list(s)
    return s.split(sep)


def _join(items, sep):
    if isinstance(items, GoNil):
        return ""
    if not isinstance(items, (list, tuple)) or not all(isinstance(x, str) for x in items):
        raise FuncError(f"wrong type for value; expected []string; got {type_name(items)}")
    return _str(sep, "join").join(items)


def _pad(s, prefix, suffix):
    s = _str(s, "pad")
    return "" if s == "" else " " * prefix + s + " " * suffix


def _truncate(s, n):
    s = _str(s, "truncate")
    b = s.encode()
    return s if len(b) < n else b[:n].decode(errors="ignore")


def _not(v):
    return not truth(v)


BUILTINS = {
    "and": None, "or": None,  # evaluated lazily by the executor
    "not": _not,
    "len": _len,
    "index": _index,
    "slice": _slice,
    "print": sprint,
    "printf": sprintf,
    "println": sprintln,
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "lt": lambda a, b: _cmp(a, b) < 0,
    "le": lambda a, b: _cmp(a, b) <= 0,
    "gt": lambda a, b: _cmp(a, b) > 0,
    "ge": lambda a, b: _cmp(a, b) >= 0,
    "html": _html,
    "js": _js,
    "urlquery": _urlquery,
}

DOCKER = {
    "json": go_json,
    "split": _split,
    "join": _join,
    "title": _title,
    "lower": lambda s: _str(s, "lower").lower(),
    "upper": lambda s: _str(s, "upper").upper(),
    "pad": _pad,
    "truncate": _truncate,
}

# Table headers keep their column names: these return their first argument unchanged.
HEADER = {
    "json": lambda v: v,
    "split": lambda v, _s: v,
    "join": lambda v, _s: v,
    "title": lambda v: v,
    "lower": lambda v: v,
    "upper": lambda v: v,
    "truncate": lambda v, _n: v,
}

BASIC = {**BUILTINS, **DOCKER}
HEADER_FUNCS = {**BUILTINS, **DOCKER, **HEADER}
