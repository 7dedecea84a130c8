"""JSON bytes as Go's encoding/json writes them (for digests Docker computes over JSON).

Differences from Python's json: '<', '>', '&', U+2028 and U+2029 are escaped as
\\u003c etc., control characters other than \\n \\r \\t use \\u00XX, non-ASCII
text stays UTF-8, and ``sort_keys`` mimics Go maps (struct fields keep order).
"""
from __future__ import annotations

import json

_ESC = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
        "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _str(s: str) -> str:
    out = ['"']
    for ch in s:
        e = _ESC.get(ch)
        if e is not None:
            out.append(e)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _enc(v, sort_keys: bool) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return json.dumps(v)
    if isinstance(v, dict):
        items = sorted(v.items()) if sort_keys else v.items()
        return "{" + ",".join(f"{_str(k)}:{_enc(x, sort_keys)}" for k, x in items) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_enc(x, sort_keys) for x in v) + "]"
    raise TypeError(f"cannot encode {type(v).__name__} as JSON")


def dumps(v, sort_keys: bool = False) -> bytes:
    return _enc(v, sort_keys).encode("utf-8")
