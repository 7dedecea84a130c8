"""Splitting one logical Dockerfile line into keyword, ``--flags`` and an argument chain.

Each instruction has its own argument grammar, as in BuildKit: RUN/CMD/ENTRYPOINT/SHELL take a
JSON array or one shell string; COPY/ADD/VOLUME a JSON array or whitespace-separated words;
ENV/LABEL ``key value`` (legacy) or ``key=value ...``; ARG ``name[=value] ...``; HEALTHCHECK a
type then a command; ONBUILD a nested instruction; the rest one string or words. Quotes and
escapes are kept at this stage: they are removed when the words are expanded.
"""
from __future__ import annotations

import json
import re

from .errors import DockerfileError
from .gocompat import is_space, trim_left_space, trim_space
from .node import Node

_WHITESPACE = re.compile(r"[\t\v\f\r ]+")

NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only"


class _NotJSON(Exception):
    pass


def split_command(line: str) -> tuple[str, list[str], str]:
    """``(keyword as written, flags, rest)`` of a logical line."""
    cmdline = _WHITESPACE.split(trim_space(line), maxsplit=1)
    cmd = cmdline[0]
    args = ""
    flags: list[str] = []
    if len(cmdline) == 2:
        args, flags = extract_builder_flags(cmdline[1])
    return cmd, flags, trim_space(args)


def extract_builder_flags(line: str) -> tuple[str, list[str]]:
    """Leading ``--flag[=value]`` words (quotes and ``\\`` escapes removed) and the remaining text.

    A bare ``--`` ends the flags.
    """
    IN_SPACES, IN_WORD, IN_QUOTE = 0, 1, 2
    words: list[str] = []
    phase = IN_SPACES
    word: list[str] = []
    quote = ""
    blank_ok = False
    n = len(line)
    pos = 0
    ch = ""
    while pos <= n:
        if pos != n:
            ch = line[pos]
        if phase == IN_SPACES:
            if pos == n:
                break
            if is_space(ch):
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return line[pos:], words
            phase = IN_WORD
        if phase in (IN_WORD, IN_QUOTE) and pos == n:
            w = "".join(word)
            if w != "--" and (blank_ok or w):
                words.append(w)
            break
        if phase == IN_WORD:
            if is_space(ch):
                phase = IN_SPACES
                w = "".join(word)
                if w == "--":
                    return line[pos:], words
                if blank_ok or w:
                    words.append(w)
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                phase = IN_QUOTE
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
            continue
        if phase == IN_QUOTE:
            if ch == quote:
                phase = IN_WORD
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    phase = IN_WORD
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
        pos += 1
    return "", words


def parse_words(rest: str, escape: str) -> list[str]:
    """Space-separated words, keeping quotes and escapes (``a "b c"`` -> ``a``, ``"b c"``)."""
    IN_SPACES, IN_WORD, IN_QUOTE = 0, 1, 2
    words: list[str] = []
    phase = IN_SPACES
    quote = ""
    blank_ok = False
    buf: list[str] = []
    n = len(rest)
    pos = 0
    while pos <= n:
        ch = rest[pos] if pos != n else ""
        if phase == IN_SPACES:
            if pos == n:
                break
            if is_space(ch):
                pos += 1
                continue
            phase = IN_WORD
        if phase in (IN_WORD, IN_QUOTE) and pos == n:
            if blank_ok or buf:
                words.append("".join(buf))
            break
        if phase == IN_WORD:
            if is_space(ch):
                phase = IN_SPACES
                if blank_ok or buf:
                    words.append("".join(buf))
                buf = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                phase = IN_QUOTE
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue  # an escape token at the very end is dropped
                buf.append(ch)
                pos += 1
                ch = rest[pos]
            buf.append(ch)
            pos += 1
            continue
        if phase == IN_QUOTE:
            if ch == quote:
                phase = IN_WORD
            if ch == escape and quote != "'":
                if pos + 1 == n:
                    phase = IN_WORD
                    pos += 1
                    continue
                pos += 1
                buf.append(ch)
                ch = rest[pos]
            buf.append(ch)
        pos += 1
    return words


def _chain(values: list[str]) -> Node | None:
    head: Node | None = None
    prev: Node | None = None
    for v in values:
        node = Node(value=v)
        if prev is None:
            head = node
        else:
            prev.next = node
        prev = node
    return head


def parse_ignore(rest: str, escape: str):
    """Unknown instructions keep an empty argument; the instruction layer rejects them."""
    return Node(), {}


def parse_sub_command(rest: str, escape: str):
    """ONBUILD: the rest of the line is itself an instruction."""
    if rest == "":
        return None, {}
    child = new_node_from_line(rest, escape, [])
    return Node(children=[child]), {}


def _parse_name_val(rest: str, key: str, escape: str) -> Node | None:
    words = parse_words(rest, escape)
    if not words:
        return None
    if "=" not in words[0]:
        # legacy form: KEY name value...
        parts = _WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise DockerfileError(f"{key} must have two arguments")
        return _chain([parts[0], parts[1], ""])
    values: list[str] = []
    for word in words:
        if "=" not in word:
            raise DockerfileError(f"Syntax error - can't find = in \"{word}\". Must be of the form: name=value")
        name, _, value = word.partition("=")
        values.extend([name, value, "="])
    return _chain(values)


def parse_env(rest: str, escape: str):
    return _parse_name_val(rest, "ENV", escape), {}


def parse_label(rest: str, escape: str):
    return _parse_name_val(rest, "LABEL", escape), {}


def parse_name_or_name_val(rest: str, escape: str):
    """ARG: ``name``, ``name=`` or ``name=value`` words."""
    return _chain(parse_words(rest, escape)), {}


def parse_strings_whitespace_delimited(rest: str, escape: str):
    if rest == "":
        return None, {}
    return _chain(_WHITESPACE.split(rest)), {}


def parse_string(rest: str, escape: str):
    if rest == "":
        return None, {}
    return Node(value=rest), {}


def _raise_constant(name: str):
    raise ValueError(f"not JSON: {name}")


def parse_json(rest: str) -> tuple[Node | None, dict]:
    """A JSON array of strings; raises _NotJSON when ``rest`` is not a JSON array at all."""
    rest = trim_left_space(rest)
    if not rest.startswith("["):
        raise _NotJSON()
    try:
        data = json.loads(rest, parse_constant=_raise_constant, parse_int=lambda s: 0, parse_float=lambda s: 0.0)
    except (ValueError, RecursionError):
        raise _NotJSON() from None
    if not isinstance(data, list):
        raise _NotJSON()
    values = []
    for item in data:
        if not isinstance(item, str):
            raise DockerfileError(NOT_STRING_ARRAY)
        # Go's decoder turns unpaired surrogates and invalid bytes into U+FFFD
        values.append(_replace_surrogates(item))
    return _chain(values), {"json": True}


def _replace_surrogates(s: str) -> str:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in s)
    return s


def parse_maybe_json(rest: str, escape: str):
    """RUN/CMD/ENTRYPOINT/SHELL: a JSON array, else the whole text as one shell string."""
    if rest == "":
        return None, {}
    try:
        return parse_json(rest)
    except _NotJSON:
        return Node(value=rest), {}


def parse_maybe_json_to_list(rest: str, escape: str):
    """COPY/ADD/VOLUME: a JSON array, else whitespace-separated words."""
    try:
        return parse_json(rest)
    except _NotJSON:
        return parse_strings_whitespace_delimited(rest, escape)


def parse_health_config(rest: str, escape: str):
    """HEALTHCHECK: a type word (CMD, NONE) then a command parsed like CMD's."""
    sep = 0
    while sep < len(rest) and not is_space(rest[sep]):
        sep += 1
    nxt = sep
    while nxt < len(rest) and is_space(rest[nxt]):
        nxt += 1
    if sep == 0:
        return None, {}
    cmd, attrs = parse_maybe_json(rest[nxt:], escape)
    return Node(value=rest[:sep], next=cmd), attrs


DISPATCH = {
    "add": parse_maybe_json_to_list,
    "arg": parse_name_or_name_val,
    "cmd": parse_maybe_json,
    "copy": parse_maybe_json_to_list,
    "entrypoint": parse_maybe_json,
    "env": parse_env,
    "expose": parse_strings_whitespace_delimited,
    "from": parse_strings_whitespace_delimited,
    "healthcheck": parse_health_config,
    "label": parse_label,
    "maintainer": parse_string,
    "onbuild": parse_sub_command,
    "run": parse_maybe_json,
    "shell": parse_maybe_json,
    "stopsignal": parse_string,
    "user": parse_string,
    "volume": parse_maybe_json_to_list,
    "workdir": parse_string,
}


def new_node_from_line(line: str, escape: str, comments: list[str]) -> Node:
    """The instruction node for one logical line (continuations already joined)."""
    cmd, flags, args = split_command(line)
    fn = DISPATCH.get(cmd.lower(), parse_ignore)
    nxt, attrs = fn(args, escape)
    return Node(value=cmd, original=line, flags=flags, next=nxt, attributes=attrs or {},
                prev_comment=list(comments))
