"""fmt.Sprintf for template ``printf``: Go's verbs, flags, width and precision."""
from __future__ import annotations

from .values import GoNil, MISSING, go_float, go_quote, sprint_value, type_name

_FLAGS = "+-# 0"


def _bad(verb: str, v) -> str:
    if v is None or v is MISSING:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(v)}={sprint_value(v)})"


def _pad(s: str, width: int | None, minus: bool, zero: bool) -> str:
    if width is None or len(s) >= width:
        return s
    if minus:
        return s + " " * (width - len(s))
    if zero:
        sign = s[0] if s[:1] in "+-" else ""
        return sign + "0" * (width - len(s)) + s[len(sign):]
    return " " * (width - len(s)) + s


def _fmt_one(verb: str, v, flags: str, width: int | None, prec: int | None) -> str:
    minus, plus, sharp, zero, space = ("-" in flags), ("+" in flags), ("#" in flags), ("0" in flags), (" " in flags)
    zero = zero and not minus
    if verb == "v":
        if isinstance(v, float):
            s = go_float(v)
        else:
            s = sprint_value(v, top=False) if v is not MISSING else "<nil>"
        return _pad(s, width, minus, False)
    if verb == "T":
        return _pad(type_name(v), width, minus, False)
    if verb in "sq":
        if isinstance(v, (list, tuple)) and verb == "s":
            s = "[" + " ".join(_fmt_one("s", x, flags, None, prec) for x in v) + "]"
            return _pad(s, width, minus, False)
        if isinstance(v, bool) or (isinstance(v, (int, float)) and verb == "s"):
            return _bad(verb, v)
        if isinstance(v, int) and verb == "q":
            return _pad("'" + chr(v) + "'", width, minus, False)
        if not isinstance(v, str):
            if v is None or v is MISSING:
                return "%!" + verb + "(<nil>)"
            if isinstance(v, (dict, GoNil)) or hasattr(v, "String"):
                s = sprint_value(v)
            else:
                return _bad(verb, v)
        else:
            s = v
        if prec is not None:
            s = s[:prec]
        if verb == "q":
            s = "`" + s + "`" if sharp and "`" not in s else go_quote(s)
        return _pad(s, width, minus, False)
    if verb in "dboxXcU":
        if isinstance(v, str) and verb in "xX":
            s = v.encode().hex()
            return _pad(s.upper() if verb == "X" else s, width, minus, False)
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and verb in "xX":
                return _pad(v.hex(), width, minus, False)
            return _bad(verb, v)
        if verb == "c":
            return _pad(chr(v), width, minus, False)
        if verb == "U":
            return _pad(f"U+{v:04X}", width, minus, False)
        base = {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[verb]
        s = format(abs(v), base)
        if prec is not None:
            s = s.rjust(prec, "0")
        if sharp:
            s = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb, "") + s
        if v < 0:
            s = "-" + s
        elif plus:
            s = "+" + s
        elif space:
            s = " " + s
        return _pad(s, width, minus, zero and prec is None)
    if verb in "feEgGF":
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return _bad(verb, v)
        if isinstance(v, int):
            return _bad(verb, v)
        if verb in "gG" and prec is None:
            s = go_float(v)
            if verb == "G":
                s = s.upper()
        else:
            p = 6 if prec is None else prec
            s = format(v, f".{p}{verb.lower() if verb == 'F' else verb}")
            if verb in "eE":  # Go always prints at least two exponent digits, like Python
                pass
        if plus and not s.startswith("-"):
            s = "+" + s
        elif space and not s.startswith("-"):
            s = " " + s
        return _pad(s, width, minus, zero)
    if verb == "t":
        if not isinstance(v, bool):
            return _bad(verb, v)
        return _pad("true" if v else "false", width, minus, False)
    return f"%!{verb}({type_name(v)}={sprint_value(v)})"


def sprintf(fmt: str, *args) -> str:
    out: list[str] = []
    i, n = 0, len(fmt)
    argi = 0
    while i < n:
        c = fmt[i]
        if c != "%":
            j = fmt.find("%", i)
            if j < 0:
                j = n
            out.append(fmt[i:j])
            i = j
            continue
        i += 1
        if i >= n:
            out.append("%!(NOVERB)")
            break
        flags = ""
        while i < n and fmt[i] in _FLAGS:
            flags += fmt[i]
            i += 1
        width = None
        if i < n and fmt[i] == "*":
            i += 1
            if argi < len(args) and isinstance(args[argi], int):
                width = args[argi]
                if width < 0:
                    flags += "-"
                    width = -width
            else:
                out.append("%!(BADWIDTH)")
            argi += 1
        else:
            start = i
            while i < n and fmt[i].isdigit():
                i += 1
            if i > start:
                width = int(fmt[start:i])
        prec = None
        if i < n and fmt[i] == ".":
            i += 1
            if i < n and fmt[i] == "*":
                i += 1
                if argi < len(args) and isinstance(args[argi], int):
                    prec = args[argi]
                else:
                    out.append("%!(BADPREC)")
                argi += 1
            else:
                start = i
                while i < n and fmt[i].isdigit():
                    i += 1
                prec = int(fmt[start:i] or 0)
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_fmt_one(verb, args[argi], flags, width, prec))
        argi += 1
    if argi < len(args):
        extra = ", ".join(f"{type_name(a)}={sprint_value(a)}" if a is not None else "<nil>" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
