"""The Go behaviours the front end reproduces: strconv.Quote, path.Clean, unicode.IsSpace,
time.ParseDuration and BuildKit's spelling suggestions."""
from __future__ import annotations

import pytest

from dockyard.build.gocompat import (clean_path, is_space, levenshtein, parse_duration, quote, quote_list, suggest,
                                     trim_space)


@pytest.mark.parametrize("s,expected", [
    ("abc", '"abc"'), ('a"b\\c', '"a\\"b\\\\c"'), ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
    ("\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'), ("♥☃é", '"♥☃é"'), ("\u00a0\u00ad", '"\\u00a0\\u00ad"'),
    ("\u2028", '"\\u2028"'), ("\U000e0001", '"\\U000e0001"'), ("\U0001f600", '"\U0001f600"'),
    (b"\xff".decode("utf-8", "surrogateescape"), '"\\xff"'), ("\ud800", '"\\ufffd"'),
])
def test_quote(s, expected):
    assert quote(s) == expected


def test_quote_list():
    assert quote_list(["--a=1", 'b"c']) == '["--a=1" "b\\"c"]'


@pytest.mark.parametrize("p,expected", [
    ("", "."), (".", "."), ("/", "/"), ("//a//b/", "/a/b"), ("a/./b/../c", "a/c"), ("../../a", "../../a"),
    ("/../a", "/a"), ("a/..", "."), ("./x//y/../z/", "x/z"), ("!a/../b", "b"),
])
def test_clean_path(p, expected):
    assert clean_path(p) == expected


def test_go_whitespace():
    assert all(is_space(c) for c in "\t\n\v\f\r \x85\xa0\u3000")
    assert not any(is_space(c) for c in "\x1c\x1d\x1e\x1fa\u200b")
    assert trim_space("\x1c a \u00a0") == "\x1c a"


@pytest.mark.parametrize("s,ns", [
    ("0", 0), ("5s", 5 * 10**9), ("1m30s", 90 * 10**9), ("1.5h", 5400 * 10**9), ("300ms", 300 * 10**6),
    ("10us", 10_000), ("10µs", 10_000), ("10μs", 10_000), ("7ns", 7), ("-2s", -2 * 10**9), ("+.5s", 5 * 10**8),
    ("1h2m3s4ms", 3723004000000),
])
def test_parse_duration(s, ns):
    assert parse_duration(s) == ns


@pytest.mark.parametrize("s,message", [
    ("", 'time: invalid duration ""'), ("5", 'time: missing unit in duration "5"'),
    ("5x", 'time: unknown unit "x" in duration "5x"'), ("s", 'time: invalid duration "s"'),
    (".s", 'time: invalid duration ".s"'), ("1h-5m", 'time: unknown unit "h-" in duration "1h-5m"'),
    ("9999999999h", 'time: invalid duration "9999999999h"'),
])
def test_parse_duration_errors(s, message):
    with pytest.raises(ValueError) as info:
        parse_duration(s)
    assert str(info.value) == message


def test_suggestions():
    assert levenshtein("form", "from") == 2
    assert suggest("FORM", ["FROM", "RUN"]) == "FROM"
    assert suggest("form", ["FROM", "RUN"]) == "from"
    assert suggest("Form", ["FROM", "RUN"]) == "from"
    assert suggest("RUN", ["FROM", "RUN"]) is None
    assert suggest("zzzzzz", ["FROM", "RUN"]) is None
    assert suggest("cahce", ["cache", "bind"], True) == "cache"
