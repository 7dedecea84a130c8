"""BuildKit's own golden files: every parser case against its expected dump, every negative case,
the line-number case, and the shell lexer's envVarTest and wordsTest files line by line.

The fixtures come from moby/buildkit frontend/dockerfile/{parser,shell} (see
../shared/reference/SOURCES.md); the tests skip, saying so, when that directory is absent.
"""
from __future__ import annotations

import os

import pytest

from dockyard.build import DockerfileError, Lex, ShellLexError, dump, parse

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = "/work/shared/reference/buildkit-dockerfile-fixtures"
if not os.path.isdir(FIXTURES):
    FIXTURES = os.path.normpath(os.path.join(HERE, "../../../../shared/reference/buildkit-dockerfile-fixtures"))
PARSER = os.path.join(FIXTURES, "parser")
SHELL = os.path.join(FIXTURES, "shell")
MISSING = f"BuildKit fixtures not found at {FIXTURES}"


def _cases(sub: str) -> list[str]:
    d = os.path.join(PARSER, sub)
    if not os.path.isdir(d):
        return []
    return sorted(x for x in os.listdir(d) if os.path.isfile(os.path.join(d, x, "Dockerfile")))


POSITIVE = _cases("testfiles")
NEGATIVE = _cases("testfiles-negative")


def _read(*parts: str) -> bytes:
    with open(os.path.join(*parts), "rb") as f:
        return f.read()


@pytest.mark.parametrize("case", POSITIVE or [pytest.param("-", marks=pytest.mark.skip(reason=MISSING))])
def test_parser_case_matches_expected_dump(case):
    data = _read(PARSER, "testfiles", case, "Dockerfile")
    expected = _read(PARSER, "testfiles", case, "result").decode("utf-8")
    result = parse(data)
    assert dump(result.ast) + "\n" == expected


@pytest.mark.parametrize("case", NEGATIVE or [pytest.param("-", marks=pytest.mark.skip(reason=MISSING))])
def test_parser_negative_case_fails(case):
    data = _read(PARSER, "testfiles-negative", case, "Dockerfile")
    with pytest.raises(DockerfileError) as info:
        parse(data)
    assert info.value.message
    assert str(info.value).startswith("Dockerfile")


def test_parser_fixture_counts():
    if not os.path.isdir(PARSER):
        pytest.skip(MISSING)
    # the pinned BuildKit commit ships 33 positive and 4 negative cases
    assert len(POSITIVE) == 33
    assert len(NEGATIVE) == 4


def test_parser_line_information():
    path = os.path.join(PARSER, "testfile-line", "Dockerfile")
    if not os.path.isfile(path):
        pytest.skip(MISSING)
    ast = parse(_read(path)).ast
    assert (ast.start_line, ast.end_line) == (5, 31)
    assert [(c.start_line, c.end_line) for c in ast.children] == [(5, 5), (11, 12), (17, 31)]


def _env_var_cases():
    path = os.path.join(SHELL, "envVarTest")
    if not os.path.isfile(path):
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            line = line.strip()
            if not line:
                continue
            words = line.split("|")
            assert len(words) == 3, f"envVarTest line {n} malformed"
            platform, source, expected = (w.strip() for w in words)
            if platform in ("A", "U"):  # W lines are Windows-only
                out.append(pytest.param(source, expected, id=f"line{n}"))
    return out


ENV_VAR_CASES = _env_var_cases()
ENVS = ["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]


@pytest.mark.parametrize("source,expected",
                         ENV_VAR_CASES or [pytest.param("", "", marks=pytest.mark.skip(reason=MISSING))])
def test_shell_env_var_case(source, expected):
    lex = Lex("\\")
    for env in (ENVS, dict(e.split("=", 1) for e in ENVS)):  # list and mapping forms
        if expected == "error":
            with pytest.raises(ShellLexError):
                lex.process_word(source, env)
        else:
            assert lex.process_word(source, env) == expected


def _words_cases():
    path = os.path.join(SHELL, "wordsTest")
    if not os.path.isfile(path):
        return []
    out = []
    envs: list[str] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if line.startswith("ENV "):
                envs.append(line[3:].lstrip(" "))
                continue
            words = line.split("|")
            assert len(words) == 2, f"wordsTest line {n} malformed"
            out.append(pytest.param(words[0].strip(), words[1].lstrip(" ").split(","), list(envs), id=f"line{n}"))
    return out


WORDS_CASES = _words_cases()


@pytest.mark.parametrize("source,expected,envs",
                         WORDS_CASES or [pytest.param("", [], [], marks=pytest.mark.skip(reason=MISSING))])
def test_shell_words_case(source, expected, envs):
    lex = Lex("\\")
    try:
        got = lex.process_words(source, envs)
    except ShellLexError:
        got = ["error"]
    assert got == expected


def test_shell_fixture_counts():
    if not os.path.isdir(SHELL):
        pytest.skip(MISSING)
    assert len(ENV_VAR_CASES) == 228
    assert len(WORDS_CASES) == 24
