"""Go values as templates see them, and Go's fmt rendering of them (``%v``, ``Sprint``, ``%q``…).

Data comes from JSON: str, int, float, bool, None (a nil interface), list, dict (a Go map),
``GoStruct`` (a dict standing for a Go struct: printed ``{v1 v2}``, missing fields are
errors) and ``GoNil`` (a typed nil: a nil slice prints ``[]``, a nil map ``map[]``, a nil
pointer ``<nil>``). Objects with Go-style methods (formatting contexts) expose exported
(capitalised) attributes and a ``GO_TYPE`` name.
"""
from __future__ import annotations

import json


class _Missing:
    """Go's invalid reflect.Value: a missing map key; prints as ``<no value>``."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class GoStruct(dict):
    """A JSON object that stands for a Go struct (field order kept). Fields named in ``omit``
    exist for templates but are left out of its JSON (Go's ``omitempty`` nil pointers)."""
    __slots__ = ("omit",)

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.omit = ()


class GoNil:
    __slots__ = ("kind",)

    def __init__(self, kind: str):
        self.kind = kind  # "slice", "map" or "ptr"

    def __repr__(self) -> str:
        return f"GoNil({self.kind})"


NIL_SLICE, NIL_MAP, NIL_PTR = GoNil("slice"), GoNil("map"), GoNil("ptr")


def type_name(v) -> str:
    if v is None or v is MISSING:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, GoStruct):
        return "struct"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, (list, tuple)):
        return "[]interface {}" if not all(isinstance(x, str) for x in v) or not v else "[]string"
    if isinstance(v, GoNil):
        return {"slice": "[]string", "map": "map[string]string", "ptr": "*struct"}[v.kind]
    return getattr(v, "GO_TYPE", type(v).__name__)


def truth(v) -> bool:
    """Go template truth: false, 0, "", nil and empty collections are false."""
    if v is None or v is MISSING or isinstance(v, GoNil):
        return False
    if isinstance(v, (bool, int, float, str, list, tuple, dict)):
        return bool(v)
    return True


def go_float(f: float, verb: str = "v") -> str:
    """fmt's %v of a float64: strconv.FormatFloat(f, 'g', -1, 64) (exponent form at >= 1e6 or < 1e-4)."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    sign = "-" if f < 0 else ""
    r = repr(abs(f))
    if "e" in r:
        mant, e = r.split("e")
        exp10 = int(e)
    else:
        mant, exp10 = r, 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    digits = (ip + fp).lstrip("0")
    lead = len(ip + fp) - len((ip + fp).lstrip("0"))
    dp = len(ip) + exp10 - lead  # position of the decimal point relative to digits
    digits = digits.rstrip("0") or "0"
    exp = dp - 1
    if exp < -4 or exp >= 6:
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        es = "-" if exp < 0 else "+"
        return f"{sign}{m}e{es}{abs(exp):02d}"
    if dp <= 0:
        return sign + "0." + "0" * (-dp) + digits
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return sign + digits[:dp] + "." + digits[dp:]


def sprint_value(v, top: bool = False) -> str:
    """fmt.Sprint of one operand (``%v``)."""
    if v is MISSING:
        return "<no value>"
    if v is None:
        return "<no value>" if top else "<nil>"
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, GoNil):
        return {"slice": "[]", "map": "map[]", "ptr": "<nil>"}[v.kind]
    if isinstance(v, GoStruct):
        return "{" + " ".join(sprint_value(x) for x in v.values()) + "}"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{sprint_value(k)}:{sprint_value(x)}" for k, x in sorted(v.items(), key=_key)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(sprint_value(x) for x in v) + "]"
    s = getattr(v, "String", None)
    if callable(s):
        return s()
    return str(v)


def _key(item):
    k = item[0]
    return (0, k, "") if isinstance(k, (int, float)) else (1, 0, str(k))


def sprint(*args) -> str:
    """fmt.Sprint: a space between operands when neither side is a string."""
    out = []
    prev_string = True
    for i, a in enumerate(args):
        is_string = isinstance(a, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(sprint_value(a))
        prev_string = is_string
    return "".join(out)


def sprintln(*args) -> str:
    return " ".join(sprint_value(a) for a in args) + "\n"


def go_quote(s: str) -> str:
    """strconv.Quote."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\v":
            out.append("\\v")
        elif o < 0x20 or o == 0x7f:
            out.append(f"\\x{o:02x}")
        elif 0xd800 <= o <= 0xdfff:
            out.append("\\ufffd")
        elif not ch.isprintable() and o > 0x7f:
            out.append(f"\\u{o:04x}" if o <= 0xffff else f"\\U{o:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def to_json_value(v):
    """The JSON-encodable form of a template value (contexts give their MarshalJSON dict)."""
    if v is MISSING or v is None or isinstance(v, GoNil):
        return None
    if isinstance(v, (str, int, float, bool)):
        return v
    if isinstance(v, GoStruct):
        return {k: to_json_value(x) for k, x in v.items() if k not in v.omit}
    if isinstance(v, dict):
        return {k: to_json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json_value(x) for x in v]
    m = getattr(v, "MarshalJSON", None)
    if callable(m):
        return m()
    return str(v)


def go_json(v) -> str:
    """encoding/json with SetEscapeHTML(false), as docker's ``json`` template function."""
    return json.dumps(to_json_value(v), ensure_ascii=False, separators=(",", ":")) \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
