"""Parser directives: ``# syntax=...``, ``# escape=...`` and ``# check=...`` at the top of a Dockerfile.

Directives are comments of the form ``# key=value`` that precede every instruction, blank line and
ordinary comment. The first line that is not a directive (including an empty line or an unknown
key) ends the directive section; a repeated directive is an error. ``escape`` switches the escape
and line-continuation character to a backtick; ``syntax`` (the frontend image to use) and
``check`` (lint configuration) are recorded and otherwise ignored by Dockyard's builder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import DockerfileError
from .gocompat import trim_left_space

SYNTAX = "syntax"
ESCAPE = "escape"
CHECK = "check"
VALID_DIRECTIVES = frozenset({SYNTAX, ESCAPE, CHECK})

# Go's \s is [\t\n\f\r ]; '.' does not match newlines.
_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")


@dataclass(frozen=True)
class Directive:
    """One directive: its lower-cased name, its value and the 1-based line it was on."""
    name: str
    value: str
    line: int


class DirectiveParser:
    """Feeds lines one at a time; recognises directives until the first line that is not one."""

    def __init__(self, comment: str = "#", line: int = 0):
        self.comment = comment
        self.line = line
        self.seen: set[str] = set()
        self.done = False

    def parse_line(self, line: str) -> Directive | None:
        """The directive on ``line`` or None; raises on a repeated directive."""
        self.line += 1
        if self.done:
            return None
        if not line.startswith(self.comment):
            self.done = True
            return None
        m = _DIRECTIVE.match(trim_left_space(line[len(self.comment):]))
        if not m:
            self.done = True
            return None
        key = m.group(1).lower()
        if key not in VALID_DIRECTIVES:
            self.done = True
            return None
        if key in self.seen:
            raise DockerfileError(f"only one {key} parser directive can be used", self.line)
        self.seen.add(key)
        return Directive(key, m.group(2), self.line)


def check_escape_token(value: str, line: int | None = None) -> str:
    """The escape token an ``escape`` directive names; only ``\\`` and ``\\``` are allowed."""
    if value not in ("`", "\\"):
        raise DockerfileError(f"invalid escape token '{value}' does not match ` or \\", line)
    return value


def detect_syntax(text: str) -> Directive | None:
    """The ``syntax`` directive of a Dockerfile, if any (a leading BOM and ``#!`` line are skipped)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    start = 0
    first, sep, rest = text.partition("\n")
    if first.startswith("#!"):
        text = rest
        start = 1
    parser = DirectiveParser(line=start)
    for line in text.split("\n"):
        try:
            d = parser.parse_line(line.rstrip("\r"))
        except DockerfileError:
            return None
        if parser.done:
            return None
        if d is not None and d.name == SYNTAX:
            return d
    return None
