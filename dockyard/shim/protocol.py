"""The shim's wire protocol: one JSON object per line each way (docs/daemon.md, "The shim protocol").

``parse_request`` validates a request line against the op's field table and returns a
``Request`` with every field present (defaults filled in); errors name the op and the field.
"""
from __future__ import annotations

import json
import re

MAX_LINE = 1 << 20  # a request line longer than this is refused

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}\Z")


class ProtocolError(ValueError):
    """A request that cannot be served as sent; the message is one line."""


class _Field:
    __slots__ = ("kind", "required", "default")

    def __init__(self, kind: str, required: bool = False, default=None):
        self.kind, self.required, self.default = kind, required, default


def _f(kind, required=False, default=None):
    return _Field(kind, required, default)


_ID_REQ = {"id": _f("id", True)}
_TARGET = {"id": _f("id"), "exec_id": _f("id")}  # exactly one of them

OPS: dict[str, dict[str, _Field]] = {
    "ping": {},
    "create": {
        **_ID_REQ, "bundle": _f("path", True), "runtime": _f("path", True), "runtime_root": _f("path", True),
        "runtime_args": _f("strlist", default=()), "log_path": _f("str", default=""),
        "log_max_size": _f("uint", default=0), "log_max_files": _f("posint", default=1),
        "tty": _f("bool", default=False), "stdin": _f("bool", default=False), "console_size": _f("size"),
    },
    "start": dict(_ID_REQ),
    "exec": {
        **_ID_REQ, "exec_id": _f("id", True), "process": _f("object", True), "tty": _f("bool", default=False),
        "stdin": _f("bool", default=False), "console_size": _f("size"), "attach": _f("bool", default=False),
        "stdout": _f("bool", default=True), "stderr": _f("bool", default=True),
    },
    "attach": {**_TARGET, "stdin": _f("bool", default=False), "stdout": _f("bool", default=True),
               "stderr": _f("bool", default=True)},
    "resize": {**_TARGET, "height": _f("uint16", True), "width": _f("uint16", True)},
    "kill": {**_ID_REQ, "signal": _f("signal", default=15), "all": _f("bool", default=False)},
    "wait": dict(_TARGET),
    "state": dict(_ID_REQ),
    "pause": dict(_ID_REQ),
    "resume": dict(_ID_REQ),
    "update": {**_ID_REQ, "resources": _f("object", True)},
    "delete": {**_ID_REQ, "force": _f("bool", default=False)},
    "list": {},
    "subscribe": {},
}

TARGETED = ("attach", "resize", "wait")  # ops that take `id` or `exec_id`


class Request:
    __slots__ = ("op", "fields")

    def __init__(self, op: str, fields: dict):
        self.op, self.fields = op, fields

    def __getattr__(self, name):
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self):
        return f"Request({self.op!r}, {self.fields!r})"


def _check(op: str, name: str, kind: str, v):
    where = f"{op}: field {name!r}"
    if kind == "id":
        if not isinstance(v, str) or not _ID.match(v):
            raise ProtocolError(f"{where} must be an id (letters, digits, '_', '.', '+', '-'; at most 128): {v!r}")
    elif kind in ("str", "path"):
        if not isinstance(v, str) or "\0" in v:
            raise ProtocolError(f"{where} must be a string")
        if kind == "path" and not v.startswith("/"):
            raise ProtocolError(f"{where} must be an absolute path: {v!r}")
    elif kind == "bool":
        if not isinstance(v, bool):
            raise ProtocolError(f"{where} must be true or false")
    elif kind in ("uint", "posint", "uint16", "signal"):
        if not isinstance(v, int) or isinstance(v, bool):
            raise ProtocolError(f"{where} must be an integer")
        lo, hi = {"uint": (0, 1 << 62), "posint": (1, 1 << 20), "uint16": (0, 65535), "signal": (1, 64)}[kind]
        if not lo <= v <= hi:
            raise ProtocolError(f"{where} must be between {lo} and {hi}: {v}")
    elif kind == "strlist":
        if not isinstance(v, list) or not all(isinstance(s, str) and "\0" not in s for s in v):
            raise ProtocolError(f"{where} must be a list of strings")
        v = tuple(v)
    elif kind == "object":
        if not isinstance(v, dict):
            raise ProtocolError(f"{where} must be an object")
    elif kind == "size":
        if v is None:
            return None
        if (not isinstance(v, list) or len(v) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 65535 for n in v)):
            raise ProtocolError(f"{where} must be [height, width]")
        v = (v[0], v[1])
    return v


def parse_request(line: bytes | str) -> Request:
    if len(line) > MAX_LINE:
        raise ProtocolError(f"request of {len(line)} bytes is too long")
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(f"request is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("request must be a JSON object")
    op = obj.get("op")
    if not isinstance(op, str):
        raise ProtocolError("request has no \"op\"")
    table = OPS.get(op)
    if table is None:
        raise ProtocolError(f"unknown op {op!r}")
    fields = {}
    for name, v in obj.items():
        if name == "op":
            continue
        f = table.get(name)
        if f is None:
            raise ProtocolError(f"{op}: unknown field {name!r}")
        if v is None and not f.required:
            continue  # null means "not given"
        fields[name] = _check(op, name, f.kind, v)
    for name, f in table.items():
        if name not in fields:
            if f.required:
                raise ProtocolError(f"{op}: field {name!r} is required")
            fields[name] = f.default
    if op in TARGETED and (fields["id"] is None) == (fields["exec_id"] is None):
        raise ProtocolError(f"{op}: give exactly one of 'id' and 'exec_id'")
    return Request(op, fields)


def one_line(msg: str) -> str:
    return " ".join(str(msg).split()) or "unknown error"


def encode_ok(**fields) -> bytes:
    return json.dumps({"ok": True, **fields}, separators=(",", ":")).encode() + b"\n"


def encode_error(message: str) -> bytes:
    return json.dumps({"ok": False, "error": one_line(message)}, separators=(",", ":")).encode() + b"\n"


def encode_event(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


def encode_request(op: str, **fields) -> bytes:
    """The client side: a request line (fields that are None are left out)."""
    body = {"op": op}
    body.update({k: v for k, v in fields.items() if v is not None})
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"
