"""Shell-word lexing and variable expansion, as Docker's builders do it (BuildKit shell/lex.go).

A word such as ``"${HOME:-/root}"/bin`` is processed the way a POSIX shell would, for the parts
Dockerfiles use: single quotes (literal), double quotes (``$`` expands, the escape token escapes
``"``, ``$`` and itself), the escape token outside quotes, ``$VAR``, ``${VAR}`` and the modifiers
``${VAR:-word}`` ``${VAR-word}`` ``${VAR:+word}`` ``${VAR+word}`` ``${VAR:?word}`` ``${VAR?word}``
``${VAR#pat}`` ``${VAR##pat}`` ``${VAR%pat}`` ``${VAR%%pat}`` ``${VAR/pat/rep}`` ``${VAR//pat/rep}``.
Positional and special parameters ($1, $@, $#, ...) are never set.

:meth:`Lex.process_word` returns one string (quotes removed, spaces kept);
:meth:`Lex.process_words` splits the result into words on unquoted whitespace *after* expansion,
so ``$X`` with X="a b" gives two words while ``"$X"`` gives one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .errors import DockerfileError
from .gocompat import is_digit, is_letter, is_space, quote

_SPECIAL_PARAMS = frozenset("@*#?-$!0")


class ShellLexError(DockerfileError):
    """A word could not be expanded (unterminated quote, bad substitution, ${X:?message})."""


def build_envs(env: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """A mapping from a list of ``KEY=value`` strings (later entries win; ``KEY`` alone is empty)."""
    if env is None:
        return {}
    if isinstance(env, Mapping):
        return dict(env)
    out: dict[str, str] = {}
    for item in env:
        key, sep, value = item.partition("=")
        out[key] = value if sep else ""
    return out


@dataclass
class WordResult:
    """The outcome of processing one word: the joined result, the split words, and which
    variable names were found (``matched``) or referenced but unset (``unmatched``)."""
    result: str
    words: list[str]
    matched: set[str] = field(default_factory=set)
    unmatched: set[str] = field(default_factory=set)


class _Words:
    """Accumulates split words the way BuildKit's wordsStruct does."""

    __slots__ = ("word", "words", "in_word")

    def __init__(self) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if is_space(ch):
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word = ""
                self.in_word = False
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.word += ch
        self.in_word = True

    def add_string(self, s: str) -> None:
        for ch in s:
            self.add_char(ch)

    def add_raw_string(self, s: str) -> None:
        self.word += s
        self.in_word = True

    def get_words(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word = ""
            self.in_word = False
        return self.words


class Lex:
    """A reusable expander. ``escape_token`` is ``\\`` or ``\\``` (the Dockerfile's escape directive).

    Options, as in BuildKit: ``raw_quotes`` keeps quote characters in the output, ``raw_escapes``
    keeps escape tokens, ``skip_process_quotes`` treats quotes as ordinary characters (used for
    heredoc bodies), ``skip_unset_env`` leaves references to unset variables as written.
    """

    def __init__(self, escape_token: str = "\\", *, raw_quotes: bool = False, raw_escapes: bool = False,
                 skip_process_quotes: bool = False, skip_unset_env: bool = False):
        if escape_token not in ("\\", "`"):
            raise ValueError(f"invalid escape token {escape_token!r}: must be \\ or `")
        self.escape_token = escape_token
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_process_quotes = skip_process_quotes
        self.skip_unset_env = skip_unset_env

    def process_word(self, word: str, env=None) -> str:
        """Expand ``word`` with ``env`` (a mapping or ``KEY=value`` list); quotes are removed."""
        return self.process(word, env).result

    def process_words(self, word: str, env=None) -> list[str]:
        """Expand ``word`` and split it into words on unquoted whitespace."""
        return self.process(word, env).words

    def process(self, word: str, env=None) -> WordResult:
        """Expand ``word``, returning the result, the split words and the variables looked up."""
        sw = _ShellWord(self, word, build_envs(env))
        try:
            result, words = sw.process_stop_on(None, self.raw_escapes)
        except ShellLexError as e:
            raise ShellLexError(f"failed to process {quote(word)}: {e.message}") from None
        except RecursionError:
            raise ShellLexError(f"failed to process {quote(word)}: substitutions nested too deeply") from None
        return WordResult(result, words, sw.matches, sw.nonmatches)


class _ShellWord:
    """One pass over one word: a cursor over its characters plus the environment."""

    def __init__(self, lex: Lex, text: str, envs: dict[str, str]):
        self.lex = lex
        self.text = text
        self.pos = 0
        self.envs = envs
        self.raw_escapes = lex.raw_escapes
        self.matches: set[str] = set()
        self.nonmatches: set[str] = set()

    # cursor
    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def next(self) -> str | None:
        if self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            return ch
        return None

    def get_env(self, name: str) -> tuple[str, bool]:
        if name in self.envs:
            self.matches.add(name)
            return self.envs[name], True
        self.nonmatches.add(name)
        return "", False

    def process_stop_on(self, stop: str | None, raw_escapes: bool) -> tuple[str, list[str]]:
        """Process up to ``stop`` (consumed) or the end of the word when ``stop`` is None."""
        result: list[str] = []
        words = _Words()
        quotes = not self.lex.skip_process_quotes
        saved = self.raw_escapes
        self.raw_escapes = raw_escapes
        esc = self.lex.escape_token
        try:
            while self.peek() is not None:
                ch = self.peek()
                if stop is not None and ch == stop:
                    self.next()
                    return "".join(result), words.get_words()
                if ch == "$":
                    tmp = self.process_dollar()
                    result.append(tmp)
                    words.add_string(tmp)
                elif quotes and ch == "'":
                    tmp = self.process_single_quote()
                    result.append(tmp)
                    words.add_raw_string(tmp)
                elif quotes and ch == '"':
                    tmp = self.process_double_quote()
                    result.append(tmp)
                    words.add_raw_string(tmp)
                else:
                    ch = self.next()
                    if ch == esc:
                        if self.raw_escapes:
                            words.add_raw_char(ch)
                            result.append(ch)
                        ch = self.next()
                        if ch is None:
                            break
                        words.add_raw_char(ch)
                    else:
                        words.add_char(ch)
                    result.append(ch)
        finally:
            self.raw_escapes = saved
        if stop is not None:
            raise ShellLexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.get_words()

    def process_single_quote(self) -> str:
        # Everything up to the next ' is literal; a ' cannot be escaped inside.
        out: list[str] = []
        ch = self.next()
        if self.lex.raw_quotes:
            out.append(ch)
        while True:
            ch = self.next()
            if ch is None:
                raise ShellLexError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def process_double_quote(self) -> str:
        # Literal except $, and the escape token before ", $ or itself.
        out: list[str] = []
        ch = self.next()
        if self.lex.raw_quotes:
            out.append(ch)
        esc = self.lex.escape_token
        while True:
            p = self.peek()
            if p is None:
                raise ShellLexError("unexpected end of statement while looking for matching double-quote")
            if p == '"':
                ch = self.next()
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if p == "$":
                out.append(self.process_dollar())
                continue
            ch = self.next()
            if ch == esc:
                if self.raw_escapes:
                    out.append(ch)
                nxt = self.peek()
                if nxt is None:
                    continue  # a trailing escape token is dropped
                if nxt in ('"', "$", esc):
                    ch = self.next()
            out.append(ch)

    def process_dollar(self) -> str:
        self.next()  # the $
        if self.peek() != "{":
            name = self.process_name()
            if name == "":
                return "$"
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset_env:
                return "$" + name
            return value

        self.next()  # the {
        p = self.peek()
        if p is None:
            raise ShellLexError("syntax error: missing '}'")
        if p in "{}:":
            raise ShellLexError("syntax error: bad substitution")
        name = self.process_name()
        ch = self.next()
        if ch is None:
            raise ShellLexError("syntax error: missing '}'")
        chs = ch
        null_is_unset = False

        if ch == "}":
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset_env:
                return "${%s}" % name
            return value

        if ch == "/":
            return self._substitute(name)

        if ch == ":":
            null_is_unset = True
            ch = self.next()
            chs += ch if ch is not None else ""
        elif ch not in "+-?#%":
            raise ShellLexError(f"unsupported modifier ({chs}) in substitution")

        raw = ch in ("#", "%")
        try:
            word, _ = self.process_stop_on("}", raw)
        except ShellLexError:
            if self.peek() is None:
                raise ShellLexError("syntax error: missing '}'") from None
            raise

        value, found = self.get_env(name)
        if self.lex.skip_unset_env and not found:
            return "${%s%s%s}" % (name, chs, word)

        if ch == "-":
            if not found or (null_is_unset and value == ""):
                return word
            return value
        if ch == "+":
            if not found or (null_is_unset and value == ""):
                return ""
            return word
        if ch == "?":
            if not found:
                raise ShellLexError(f"{name}: {word or 'is not allowed to be unset'}")
            if null_is_unset and value == "":
                raise ShellLexError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        if ch in ("%", "#"):
            greedy = False
            if word[:1] == ch:
                greedy = True
                word = word[1:]
            if ch == "%":
                return _trim_suffix(word, value, greedy)
            return _trim_prefix(word, value, greedy)
        raise ShellLexError(f"unsupported modifier ({chs}) in substitution")

    def _substitute(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.next()
        try:
            pattern, _ = self.process_stop_on("/", True)
        except ShellLexError:
            if self.peek() is None:
                raise ShellLexError("syntax error: missing '/' in ${}") from None
            raise
        try:
            replacement, _ = self.process_stop_on("}", True)
        except ShellLexError:
            if self.peek() is None:
                raise ShellLexError("syntax error: missing '}'") from None
            raise
        value, found = self.get_env(name)
        if self.lex.skip_unset_env and not found:
            return "${%s/%s/%s}" % (name, pattern, replacement)
        rx = _pattern_regex(pattern, greedy=True, anchored=False)
        if replace_all:
            return rx.sub(lambda _m: replacement, value)
        m = rx.search(value)
        if m:
            return value[:m.start()] + replacement + value[m.end():]
        return value

    def process_name(self) -> str:
        # A name is letters, digits and _; a leading digit reads all digits ($10 is "10");
        # a special parameter is a single character.
        name: list[str] = []
        while self.peek() is not None:
            ch = self.peek()
            if not name and is_digit(ch):
                while self.peek() is not None and is_digit(self.peek()):
                    name.append(self.next())
                return "".join(name)
            if not name and ch in _SPECIAL_PARAMS:
                return self.next()
            if not (is_letter(ch) or is_digit(ch) or ch == "_"):
                break
            name.append(self.next())
        return "".join(name)


_REGEX_SPECIAL = frozenset("[]{}.+()|^$")


def _pattern_regex(pattern: str, greedy: bool, anchored: bool) -> "re.Pattern[str]":
    """A shell wildcard pattern (``*`` ``?`` and ``\\`` escapes, no brackets) as a regex."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            # \} and \/ escape the ${} syntax, not the pattern
            if i < n and pattern[i] in "}/":
                continue
            nxt = pattern[i] if i < n else None
            i += 1
            if nxt not in ("*", "?", "\\"):
                shown = "" if nxt is None else nxt
                raise ShellLexError(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{shown}'")
            out.append("\\" + nxt)
        elif ch in _REGEX_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return re.compile("".join(out))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    m = _pattern_regex(pattern, greedy, anchored=True).search(value)
    return value[m.end():] if m else value


def _reverse_pattern(pattern: str) -> str:
    # Reverse, keeping each escape before the character it escapes (a\*c -> c\*a).
    chars = list(pattern)
    out = [""] * len(chars)
    last = len(chars) - 1
    i = 0
    while i <= last:
        j = last - i
        if chars[i] == "\\" and i != last:
            out[j - 1] = "\\"
            out[j] = chars[i + 1]
            i += 2
        else:
            out[j] = chars[i]
            i += 1
    return "".join(out)


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # Regexes find the leftmost match, so the shortest/longest rightmost match is found by
    # reversing both the pattern and the value.
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]
