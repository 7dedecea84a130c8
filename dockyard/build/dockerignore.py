"""``.dockerignore``: which files of the build context are left out, with Docker's rules.

One pattern per line; lines starting with ``#`` are comments; surrounding whitespace is
ignored; patterns are cleaned like paths (``./a//b/`` is ``a/b``, a leading ``/`` is dropped).
``*`` and ``?`` do not cross ``/``; ``**`` matches any number of directories (``**/x``,
``a/**``, ``a/**/b``); ``[...]`` is a character class and ``\\`` escapes. A pattern matching a
directory excludes everything below it. A pattern starting with ``!`` re-includes what it
matches; the last matching pattern wins. (Docker's patternmatcher, as the CLI applies it when
it sends the context.)
"""
from __future__ import annotations

import os
import re
import stat as _stat
import warnings
from dataclasses import dataclass
from typing import Iterator

from .gocompat import clean_path, trim_space


class DockerignoreError(ValueError):
    """A .dockerignore pattern is invalid; the message names the pattern."""


def read_dockerignore(data: bytes | str) -> list[str]:
    """The patterns of a .dockerignore file, normalised as Docker's ignorefile.ReadAll does."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "surrogateescape")
    out: list[str] = []
    for n, line in enumerate(data.split("\n")):
        if n == 0 and line.startswith("\ufeff"):
            line = line[1:]
        if line.endswith("\r"):
            line = line[:-1]
        if line.startswith("#"):
            continue
        pattern = trim_space(line)
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = trim_space(pattern[1:])
        if pattern:
            pattern = clean_path(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append("!" + pattern if invert else pattern)
    return out


def _check_glob(pattern: str) -> None:
    """Reject what Go's filepath.Match calls a malformed pattern."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise DockerignoreError(f"syntax error in pattern {pattern!r}: trailing backslash")
            i += 2
            continue
        if c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            nrange = 0
            while True:
                if i < n and pattern[i] == "]" and nrange > 0:
                    i += 1
                    break
                i = _class_char(pattern, i)
                if i < n and pattern[i] == "-":
                    i = _class_char(pattern, i + 1)
                nrange += 1
            continue
        i += 1


def _class_char(pattern: str, i: int) -> int:
    n = len(pattern)
    if i >= n or pattern[i] in "-]":
        raise DockerignoreError(f"syntax error in pattern {pattern!r}: bad character class")
    if pattern[i] == "\\":
        i += 1
        if i >= n:
            raise DockerignoreError(f"syntax error in pattern {pattern!r}: bad character class")
    i += 1
    if i >= n:
        raise DockerignoreError(f"syntax error in pattern {pattern!r}: unterminated character class")
    return i


_EXACT, _PREFIX, _SUFFIX, _REGEX = "exact", "prefix", "suffix", "regex"
_ESCAPED = frozenset(".+()|{}$")


@dataclass
class Pattern:
    """One cleaned pattern; ``exclusion`` for ``!`` patterns."""
    text: str
    exclusion: bool
    dirs: int
    kind: str = ""
    regex: "re.Pattern[str] | None" = None

    def __post_init__(self) -> None:
        self._compile()

    def _compile(self) -> None:
        out = ["^"]
        kind = _EXACT
        p = self.text
        i, n = 0, len(p)
        first = True
        while i < n:
            ch = p[i]
            i += 1
            if ch == "*":
                if i < n and p[i] == "*":
                    i += 1
                    if i < n and p[i] == "/":
                        i += 1
                    if i >= n:
                        if kind == _EXACT:
                            kind = _PREFIX
                        else:
                            out.append(".*")
                            kind = _REGEX
                    else:
                        out.append("(.*/)?")
                        kind = _REGEX
                    if first:
                        kind = _SUFFIX
                else:
                    out.append("[^/]*")
                    kind = _REGEX
            elif ch == "?":
                out.append("[^/]")
                kind = _REGEX
            elif ch in _ESCAPED:
                out.append("\\" + ch)
            elif ch == "\\":
                if i < n:
                    out.append(re.escape(p[i]))
                    i += 1
                    kind = _REGEX
                else:
                    out.append("\\\\")
            elif ch in "[]":
                out.append(ch)
                kind = _REGEX
            else:
                out.append(ch)
            first = False
        self.kind = kind
        if kind == _REGEX:
            out.append(r"\Z")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    self.regex = re.compile("".join(out))
                except re.error:
                    raise DockerignoreError(f"syntax error in pattern {self.text!r}") from None

    def match(self, path: str) -> bool:
        if self.kind == _EXACT:
            return path == self.text
        if self.kind == _PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind == _SUFFIX:
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        return bool(self.regex.match(path))


class PatternMatcher:
    """Ordered patterns; :meth:`matches` tells whether a context path is excluded."""

    def __init__(self, patterns: list[str]):
        self.patterns: list[Pattern] = []
        self.exclusions = False
        for raw in patterns:
            p = trim_space(raw)
            if not p:
                continue
            p = clean_path(p)
            exclusion = False
            if p.startswith("!"):
                if len(p) == 1:
                    raise DockerignoreError('illegal exclusion pattern: "!"')
                exclusion = True
                p = p[1:]
                self.exclusions = True
            _check_glob(p)
            self.patterns.append(Pattern(p, exclusion, len(p.split("/"))))

    def matches(self, path: str) -> bool:
        """True if ``path`` (slash-separated, relative to the context) or one of its parent
        directories matches a pattern and no later ``!`` pattern re-includes it."""
        path = clean_path(path)
        if path == ".":
            return False
        parent = os.path.dirname(path) or "."
        parent_dirs = parent.split("/")
        matched = False
        for pat in self.patterns:
            if pat.exclusion != matched:
                continue
            hit = pat.match(path)
            if not hit and parent != ".":
                for i in range(len(parent_dirs)):
                    if pat.match("/".join(parent_dirs[:i + 1])):
                        hit = True
                        break
            if hit:
                matched = not pat.exclusion
        return matched

    def matches_with_parent(self, path: str, parent_info: list[bool] | None) -> tuple[bool, list[bool]]:
        """Like :meth:`matches`, reusing the per-pattern results of the parent directory
        (as returned for it) so a tree walk tests each pattern once per path."""
        if parent_info is not None and len(parent_info) != len(self.patterns):
            raise ValueError("wrong number of values in parent_info")
        matched = False
        info = [False] * len(self.patterns)
        for i, pat in enumerate(self.patterns):
            hit = bool(parent_info[i]) if parent_info else False
            if not hit:
                if pat.exclusion != matched:
                    continue
                hit = pat.match(path)
                if not hit and not parent_info:
                    parent = os.path.dirname(path)
                    if parent:
                        dirs = parent.split("/")
                        hit = any(pat.match("/".join(dirs[:j + 1])) for j in range(len(dirs)))
            info[i] = hit
            if hit:
                matched = not pat.exclusion
        return matched, info

    def may_include_below(self, directory: str) -> bool:
        """Whether an exclusion pattern could re-include something under an excluded directory
        (Docker's rule: an exclusion pattern that starts with the directory's path)."""
        prefix = directory + "/"
        return any(p.exclusion and (p.text + "/").startswith(prefix) for p in self.patterns)


def keep_build_files(patterns: list[str], dockerfile: str | None = "Dockerfile") -> list[str]:
    """Patterns with exceptions added so .dockerignore and the Dockerfile are always sent
    (the Docker CLI does this; the daemon drops them again if they were excluded)."""
    out = list(patterns)
    pm = PatternMatcher(out)
    if pm.matches(".dockerignore"):
        out.append("!.dockerignore")
    if dockerfile:
        df = dockerfile.replace(os.sep, "/")
        if PatternMatcher(out).matches(df):
            out.append("!" + df)
    return out


@dataclass(frozen=True)
class ContextEntry:
    """A path of the context that is sent: ``path`` relative and slash-separated, its lstat."""
    path: str
    stat: os.stat_result

    @property
    def is_dir(self) -> bool:
        return _stat.S_ISDIR(self.stat.st_mode)


def walk_context(root: str, matcher: PatternMatcher | None = None) -> Iterator[ContextEntry]:
    """The entries of the context directory ``root`` that are not excluded, depth first with
    names sorted (each directory before its contents). Symbolic links are listed, never followed.

    An excluded directory is not descended into unless an exclusion pattern starts with its
    path (``dir`` excluded but ``!dir/keep`` given), in which case only the re-included
    entries below it are listed -- Docker's rule when it builds the context archive.
    """
    matcher = matcher or PatternMatcher([])
    use = bool(matcher.patterns)

    def listing(rel_dir: str):
        abs_dir = os.path.join(root, rel_dir) if rel_dir else root
        try:
            return iter(sorted(os.listdir(abs_dir)))
        except OSError as e:
            raise OSError(e.errno, f"cannot read build context directory {abs_dir}: {e.strerror}") from None

    stack: list[tuple[str, list[bool] | None, Iterator[str]]] = [("", None, listing(""))]
    while stack:
        rel_dir, dir_info, names = stack[-1]
        name = next(names, None)
        if name is None:
            stack.pop()
            continue
        rel = f"{rel_dir}/{name}" if rel_dir else name
        st = os.lstat(os.path.join(root, rel))
        skip, info = matcher.matches_with_parent(rel, dir_info) if use else (False, None)
        is_dir = _stat.S_ISDIR(st.st_mode)
        if skip:
            if is_dir and matcher.exclusions and matcher.may_include_below(rel):
                stack.append((rel, info, listing(rel)))
            continue
        yield ContextEntry(rel, st)
        if is_dir:
            stack.append((rel, info, listing(rel)))
