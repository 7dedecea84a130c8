"""Dockerfile text to a parse tree with line numbers (the first of BuildKit's three stages).

The parser reads physical lines, recognises parser directives at the top, drops comments,
joins continuation lines (a line whose last non-blank character is the escape token; comment
lines and blank lines inside a continuation are skipped, the latter with a warning), reads
heredoc bodies after RUN/COPY/ADD lines that open them, and gives each logical line to its
instruction's argument parser (:mod:`.line_parsers`). Unknown instructions parse; they are
rejected when the tree is turned into typed instructions (:mod:`.instructions`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .directives import ESCAPE, Directive, DirectiveParser, check_escape_token
from .errors import DockerfileError
from .gocompat import trim_left_space, trim_space
from .heredoc import heredocs_from_line
from .line_parsers import new_node_from_line
from .node import Node, dump

__all__ = ["Node", "ParseResult", "parse", "dump", "MAX_LINE_BYTES"]

DEFAULT_ESCAPE = "\\"
MAX_LINE_BYTES = 65535  # bufio.Scanner's limit, as Docker reports it

_HEREDOC_INSTRUCTIONS = frozenset({"add", "copy", "run"})
_HEREDOC_COMPOUND = frozenset({"onbuild"})


@dataclass
class ParseResult:
    """The root node (its children are the instructions), the escape token in effect,
    the directives found and warnings (empty continuation lines)."""
    ast: Node
    escape_token: str = DEFAULT_ESCAPE
    directives: list[Directive] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def directive(self, name: str) -> str | None:
        for d in self.directives:
            if d.name == name:
                return d.value
        return None


class _State:
    """The escape token and the continuation regex that follows it."""

    def __init__(self) -> None:
        self.parser = DirectiveParser()
        self.directives: list[Directive] = []
        self.set_escape(DEFAULT_ESCAPE)

    def set_escape(self, token: str) -> None:
        self.escape = token
        e = re.escape(token)
        # The token is a continuation when it is the last non-blank character, unless it is
        # itself escaped; a token alone on a line also continues.
        self.continuation = re.compile(r"([^" + e + r"])" + e + r"[ \t]*\Z|^" + e + r"[ \t]*\Z")

    def directive(self, token: str, line_no: int) -> bool:
        try:
            d = self.parser.parse_line(token)
        except DockerfileError as e:
            raise e.located(line_no) from None
        if d is None:
            return False
        if d.name == ESCAPE:
            self.set_escape(check_escape_token(d.value, line_no))
        self.directives.append(d)
        return True


def _is_comment(line: str) -> bool:
    return trim_left_space(line).startswith("#")


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def _process_line(st: _State, raw: str, strip_left: bool, line_no: int) -> tuple[str, bool]:
    token = _trim_newline(raw)
    if strip_left:
        token = trim_left_space(token)
    found = st.directive(token, line_no)
    return ("" if _is_comment(token) else token), found


def _trim_continuation(line: str, st: _State) -> tuple[str, bool]:
    if st.continuation.search(line):
        return st.continuation.sub(r"\1", line), False
    return line, True


def _split_lines(text: str) -> list[str]:
    """Physical lines, each keeping its "\\n" (only "\\n" ends a line, as bufio.ScanLines)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _can_contain_heredoc(node: Node) -> bool:
    if node.value.lower() in _HEREDOC_COMPOUND and node.next is not None and node.next.children:
        node = node.next.children[0]
    return node.value.lower() in _HEREDOC_INSTRUCTIONS and not node.is_json


def decode(data: bytes | str) -> str:
    """Dockerfile bytes as text; bytes that are not UTF-8 survive as surrogate escapes."""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", "surrogateescape")


def parse(data: bytes | str, filename: str = "Dockerfile") -> ParseResult:
    """Parse a Dockerfile. Raises :class:`DockerfileError` naming ``filename`` and the line."""
    try:
        return _parse(decode(data))
    except DockerfileError as e:
        raise e.named(filename) from None


def _parse(text: str) -> ParseResult:
    lines = _split_lines(text)
    for i, raw in enumerate(lines):
        if len(raw.rstrip("\n").encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES:
            raise DockerfileError(f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}", i + 1)
    st = _State()
    root = Node(start_line=-1)
    warnings: list[str] = []
    comments: list[str] = []
    current = 0
    i = 0
    n = len(lines)
    while i < n:
        raw = lines[i]
        i += 1
        if current == 0 and raw.startswith("\ufeff"):
            raw = raw[1:]
        if _is_comment(raw):
            comment = trim_space(raw[1:])
            if comment == "":
                comments = []
            else:
                comments.append(comment)
        token, is_directive = _process_line(st, raw, True, current + 1)
        if is_directive and comments:
            comments.pop()
        current += 1
        start = current
        token, end_of_line = _trim_continuation(token, st)
        if end_of_line and token == "":
            continue
        buf = [token]
        empty_continuation = False
        while not end_of_line and i < n:
            raw = lines[i]
            i += 1
            token, _ = _process_line(st, raw, False, current + 1)
            current += 1
            if _is_comment(raw):
                continue
            if trim_left_space(_trim_newline(token)) == "":
                empty_continuation = True
                continue
            token, end_of_line = _trim_continuation(token, st)
            buf.append(token)
        line = "".join(buf)
        if empty_continuation:
            warnings.append(f"Empty continuation line found in: {line}")

        try:
            child = new_node_from_line(line, st.escape, comments)
        except DockerfileError as e:
            raise e.located(start, current) from None
        except RecursionError:
            raise DockerfileError("instruction nested too deeply", start, current) from None

        if _can_contain_heredoc(child) and "<<" in line:
            for doc in heredocs_from_line(line):
                content: list[str] = []
                terminated = False
                while i < n:
                    raw = lines[i]
                    i += 1
                    current += 1
                    candidate = _trim_newline(raw)
                    if doc.chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == doc.name:
                        terminated = True
                        break
                    content.append(raw)
                if not terminated:
                    raise DockerfileError("unterminated heredoc", start, current)
                doc.content = "".join(content)
                child.heredocs.append(doc)

        root.add_child(child, start, current)
        comments = []

    if root.start_line < 0:
        raise DockerfileError("file with no instructions", current or None)
    return ParseResult(ast=root, escape_token=st.escape, directives=st.directives, warnings=warnings)
