"""Go's text/tabwriter elastic tabstops, as docker's tables use it (minwidth 10, padding 3, spaces).

Cells are tab-terminated; the last cell of a line is not part of any column. A column
block is a run of consecutive lines that have a cell in that column; its width is the
widest cell plus the padding, at least ``minwidth``.
"""
from __future__ import annotations


def align(text: str, minwidth: int = 10, padding: int = 3) -> str:
    if not text:
        return ""
    trailing_newline = text.endswith("\n")
    raw_lines = text.split("\n")
    if trailing_newline:
        raw_lines.pop()
    lines = [ln.split("\t") for ln in raw_lines]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            parts = []
            for j, c in enumerate(cells):
                if j < len(widths):
                    parts.append(c + " " * (widths[j] - len(c)))
                else:
                    parts.append(c)
            out.append("".join(parts))

    def fmt(line0: int, line1: int) -> int:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1:
                if column >= len(lines[this]) - 1:
                    break
                w = len(lines[this][column]) + padding
                if w > width:
                    width = w
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)
        return line1

    fmt(0, len(lines))
    return "\n".join(out) + ("\n" if trailing_newline else "")
