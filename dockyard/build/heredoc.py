"""Here-documents in RUN, COPY and ADD (``RUN <<EOF``, ``COPY <<-"EOT" /dst``).

A word of the instruction line of the form ``[n]<<[-]WORD`` opens a heredoc: the following lines,
up to a line equal to WORD, are its content. ``<<-`` strips leading tabs from the terminator and
(when the content is used) from every content line. If any part of WORD is quoted (``<<"EOF"``,
``<<'EOF'``, ``<<E"OF"``) the content is not subject to variable expansion. Several heredocs may
open on one line; their bodies follow one after the other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .shell_lex import Lex, ShellLexError

_HEREDOC = re.compile(r"([0-9]*)<<(-?)([^<]*)\Z")
_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)


@dataclass
class Heredoc:
    """One heredoc: its terminator ``name``, the file descriptor it feeds (0 unless ``3<<EOF``),
    whether its content is expanded, whether tabs are chomped (``<<-``), and the raw content
    (every line with its newline, terminator excluded)."""
    name: str
    file_descriptor: int = 0
    expand: bool = True
    chomp: bool = False
    content: str = ""

    def data(self) -> str:
        """The content as it is used: with leading tabs removed for ``<<-``."""
        return chomp(self.content) if self.chomp else self.content


def parse_heredoc(word: str) -> Heredoc | None:
    """The heredoc a single word opens, or None if it opens none (``<<`` alone, ``<<a b``)."""
    m = _HEREDOC.match(word)
    if not m:
        return None
    fd = int(m.group(1)) if m.group(1) else 0
    chomp_tabs = m.group(2) == "-"
    rest = m.group(3)
    if not rest:
        return None
    # Lex the word with and without quotes: if they differ, part of it was quoted, so the
    # content must not be expanded.
    try:
        words = Lex("\\", skip_unset_env=True).process_words(rest, {})
    except ShellLexError:
        return None
    if len(words) != 1:
        return None
    try:
        raw = Lex("\\", skip_unset_env=True, raw_quotes=True).process_words(rest, {})
    except ShellLexError:
        return None
    if len(raw) != 1:
        return None
    word_quotes = words[0].count("'") + words[0].count('"')
    raw_quotes = raw[0].count("'") + raw[0].count('"')
    return Heredoc(name=words[0], file_descriptor=fd, expand=word_quotes == raw_quotes, chomp=chomp_tabs)


def heredocs_from_line(line: str) -> list[Heredoc]:
    """Every heredoc an instruction line opens, in order."""
    try:
        words = Lex("\\", raw_quotes=True, raw_escapes=True, skip_unset_env=True).process_words(line, {})
    except ShellLexError:
        return []
    docs = []
    for word in words:
        doc = parse_heredoc(word)
        if doc is not None:
            docs.append(doc)
    return docs


def chomp(content: str) -> str:
    """Remove leading tabs from every line (the ``<<-`` form)."""
    return _LEADING_TABS.sub("", content)
