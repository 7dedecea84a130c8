"""Go's json.Indent: re-indent raw JSON text without re-encoding it (escapes and numbers kept)."""
from __future__ import annotations


def indent(raw: str, prefix: str = "", ind: str = "    ") -> str:
    out: list[str] = []
    depth = 0
    i, n = 0, len(raw)
    need_indent = False  # an opening bracket was just written
    while i < n:
        c = raw[i]
        if c == '"':
            j = i + 1
            while j < n:
                if raw[j] == "\\":
                    j += 2
                    continue
                if raw[j] == '"':
                    break
                j += 1
            if need_indent:
                out.append("\n" + prefix + ind * depth)
                need_indent = False
            out.append(raw[i:j + 1])
            i = j + 1
            continue
        if c in " \t\r\n":
            i += 1
            continue
        if c in "[{":
            if need_indent:
                out.append("\n" + prefix + ind * depth)
            out.append(c)
            depth += 1
            need_indent = True
        elif c in "]}":
            depth -= 1
            if need_indent:  # empty: keep "[]" / "{}"
                need_indent = False
            else:
                out.append("\n" + prefix + ind * depth)
            out.append(c)
        elif c == ",":
            out.append(",\n" + prefix + ind * depth)
        elif c == ":":
            out.append(": ")
        else:
            if need_indent:
                out.append("\n" + prefix + ind * depth)
                need_indent = False
            j = i
            while j < n and raw[j] not in ',:]} \t\r\n"[{':
                j += 1
            out.append(raw[i:j])
            i = j
            continue
        i += 1
    return "".join(out)


def compact(raw: str) -> str:
    """Go's json.Compact: drop the whitespace between tokens, keep the rest as is."""
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == '"':
            j = i + 1
            while j < n and raw[j] != '"':
                j += 2 if raw[j] == "\\" else 1
            out.append(raw[i:j + 1])
            i = j + 1
            continue
        if c not in " \t\r\n":
            out.append(c)
        i += 1
    return "".join(out)
