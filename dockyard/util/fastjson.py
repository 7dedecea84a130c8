"""JSON through the C accelerator directly, skipping ``json``'s Python layer.

``import json`` pulls in ``re`` and ``enum`` (~5 ms), a sixth of a container start; the
runtime only needs compact loads/dumps of plain data, which ``_json`` does by itself. Output
is the same as ``json.dumps(obj)`` with default separators; anything exotic (indentation,
custom encoders) should use ``json``.
"""
from __future__ import annotations

import _json

_WS = " \t\n\r"


class _ScanContext:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name):
        raise ValueError(f"invalid JSON constant {name}")


def _check_pairs(pairs):
    return dict(pairs)


_scan = _json.make_scanner(_ScanContext())


class JSONError(ValueError):
    pass


def loads(data: str | bytes):
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise JSONError(f"invalid UTF-8: {e}") from None
    n = len(data)
    i = 0
    while i < n and data[i] in _WS:
        i += 1
    try:
        obj, end = _scan(data, i)
    except StopIteration as e:
        raise JSONError(f"Expecting value: char {e.value}") from None
    except Exception:
        # _json builds its error from json.decoder; let the full module say what is wrong
        import json
        try:
            json.loads(data)
        except ValueError as e:
            raise JSONError(str(e)) from None
        raise
    finally:
        _ScanContext.memo.clear()
    while end < n and data[end] in _WS:
        end += 1
    if end != n:
        raise JSONError(f"extra data at char {end}")
    return obj


def _default(o):
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _float(o):
    if o != o or o in (float("inf"), float("-inf")):
        raise ValueError("out of range float values are not JSON compliant")
    return float.__repr__(o)


_encode = _json.make_encoder(None, _default, _json.encode_basestring_ascii, None, ": ", ", ",
                             False, False, False)


def dumps(obj) -> str:
    if isinstance(obj, float):
        return _float(obj)
    return "".join(_encode(obj, 0))
