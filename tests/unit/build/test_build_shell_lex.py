"""Shell-word expansion beyond the golden files: modifiers, pattern trimming and substitution,
matched/unmatched tracking, the backtick escape token and the raw modes heredocs use."""
from __future__ import annotations

import pytest

from dockyard.build import Lex, ShellLexError
from dockyard.build.shell_lex import _pattern_regex, _reverse_pattern, build_envs

LEX = Lex("\\")


@pytest.mark.parametrize("word,env,expected,matched,unmatched", [
    ("x", {"DUMMY": "dummy"}, "x", set(), set()),
    ("x ${UNUSED}", {"DUMMY": "dummy"}, "x ", set(), {"UNUSED"}),
    ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx  ccc", {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx bbb ccc", {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa bbb ", {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa  ", {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO?aaa}", {"FOO": "xxx"}, "xxx", {"FOO"}, set()),
    ("${BAR?bbb}", {"BAR": ""}, "", {"BAR"}, set()),
    ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", {"FOO": "()[]{}^$.*?|\\x"}, "x", {"FOO"}, set()),
    ("${FOO%%\\**}", {"FOO": "xx**"}, "xx", {"FOO"}, set()),
    ("${FOO#*x*y}", {"FOO": "xxyy"}, "y", {"FOO"}, set()),
    ("${FOO#*}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": "x"}, "xyy", {"FOO", "BAR"}, set()),
    ("${FOO#}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO##*x}", {"FOO": "xxyy"}, "yy", {"FOO"}, set()),
    ("${FOO#?\\?}", {"FOO": "???y"}, "?y", {"FOO"}, set()),
    ("${ABC:-.}${FOO%x}${ABC:-.}", {"FOO": "xxyy"}, ".xxyy.", {"FOO"}, {"ABC"}),
    ("${FOO%%\\**\\*}", {"FOO": "a***yy*"}, "a", {"FOO"}, set()),
    ("${FOO%y*}", {"FOO": "xxyy"}, "xxy", {"FOO"}, set()),
    ("${FOO%%y*}", {"FOO": "xxyy"}, "xx", {"FOO"}, set()),
    ("${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", {"FOO": "/foo*/*/*.txt", "NEEDLE": "\\*/"},
     "/foo.*/*.txt - /foo..*.txt", {"FOO", "NEEDLE"}, set()),
    ("${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", {"FOO": "/tmp/tmp/bar.txt", "NEEDLE": "/tmp"},
     "/tmp/bar.txt - /bar.txt", {"FOO", "NEEDLE"}, set()),
    ("${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
     {"FOO": "/a/foo/b/c.txt", "NEEDLE": "/?/", "REPLACEMENT": "/"}, "/foo/b/c.txt - /foo/c.txt",
     {"FOO", "NEEDLE", "REPLACEMENT"}, set()),
    ("${FOO/$NEEDLE/$REPLACEMENT}", {"FOO": "http://google.de", "NEEDLE": "http://", "REPLACEMENT": "https://"},
     "https://google.de", {"FOO", "NEEDLE", "REPLACEMENT"}, set()),
    ("${FOO//\\//\\/}", {"FOO": "/tmp/foo.txt"}, "\\/tmp\\/foo.txt", {"FOO"}, set()),
    ("${FOO///}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO///}", {}, "", set(), {"FOO"}),
    ("${FOO/x/$1}", {"FOO": "axb"}, "ab", {"FOO"}, {"1"}),
])
def test_expansion_with_matches(word, env, expected, matched, unmatched):
    r = LEX.process(word, env)
    assert r.result == expected
    assert r.matched == matched
    assert r.unmatched == unmatched


@pytest.mark.parametrize("word,env", [
    ("${BAZ?ccc}", {}), ("${BAR:?bbb}", {"BAR": ""}), ("${BAZ:?}", {}), ("${FOO=aaa}", {"FOO": "x"}),
    ("${FOO=:aaa}", {"FOO": "x"}), ("${FOO=}", {}), ("${FOO//ww}", {"FOO": "x"}), ("${FOO//}", {"FOO": "x"}),
    ("${FOO#\\x}", {"FOO": "x"}), ("${FOO", {}), ("${FOO:", {}), ("${FOO:-a", {}), ("${", {}), ("${}", {}),
])
def test_expansion_errors(word, env):
    with pytest.raises(ShellLexError) as info:
        LEX.process_word(word, env)
    assert info.value.message.startswith("failed to process ")


def test_mandatory_variables_carry_their_message():
    with pytest.raises(ShellLexError, match="message herex"):
        LEX.process_word("${VAR:?message here$ARG}", ["VAR=", "ARG=x"])
    with pytest.raises(ShellLexError, match="message herex"):
        LEX.process_word("${VAR?message here$ARG}", ["ARG=x"])
    assert LEX.process_word("${VAR?message here$ARG}", ["VAR=", "ARG=x"]) == ""
    with pytest.raises(ShellLexError, match="VAR: is not allowed to be unset"):
        LEX.process_word("${VAR?}", {})
    with pytest.raises(ShellLexError, match="VAR: is not allowed to be empty"):
        LEX.process_word("${VAR:?}", {"VAR": ""})


def test_platform_release_name():
    word = "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz"
    env = {"VERSION": "v1.2.3", "TARGETOS": "linux", "TARGETARCH": "arm", "TARGETVARIANT": "v7"}
    assert LEX.process_word(word, env) == "something-v1.2.3.linux-arm-v7.tar.gz"
    env["TARGETVARIANT"] = ""
    assert LEX.process_word(word, env) == "something-v1.2.3.linux-arm.tar.gz"


def test_backtick_escape_token():
    lex = Lex("`")
    assert lex.process_word("a`$b", {"b": "x"}) == "a$b"
    assert lex.process_word("c:\\windows", {}) == "c:\\windows"
    assert lex.process_word('"a`"b"', {}) == 'a"b'
    with pytest.raises(ValueError):
        Lex("!")


def test_words_split_after_expansion_only_outside_quotes():
    env = {"X": "a  b", "E": ""}
    assert LEX.process_words("$X", env) == ["a", "b"]
    assert LEX.process_words('"$X"', env) == ["a  b"]
    assert LEX.process_words("pre${X}post", env) == ["prea", "bpost"]
    assert LEX.process_words("$E", env) == []
    assert LEX.process_words("''", env) == []  # an empty quoted word disappears, as in BuildKit


def test_skip_unset_env_keeps_references():
    lex = Lex("\\", skip_unset_env=True)
    assert lex.process_word("$A ${B} ${C:-x} ${D/a/b} $E", {"E": "e"}) == "$A ${B} ${C:-x} ${D/a/b} e"


def test_raw_quotes_and_escapes():
    lex = Lex("\\", raw_quotes=True, raw_escapes=True)
    assert lex.process_word("'a b' \"c\\\"d\" e\\ f", {}) == "'a b' \"c\\\"d\" e\\ f"
    assert lex.process_words("'a b' c\\ d", {}) == ["'a b'", "c\\ d"]


def test_skip_process_quotes_for_heredoc_bodies():
    lex = Lex("\\", skip_process_quotes=True)
    assert lex.process_word("echo '$A' \"$A\"\n", {"A": "x"}) == "echo 'x' \"x\"\n"


def test_pattern_regex_conversion():
    assert _pattern_regex("*", True, True).pattern == "^.*"
    assert _pattern_regex("?", True, True).pattern == "^."
    assert _pattern_regex("\\*", True, True).pattern == "^\\*"
    assert _pattern_regex("(()[]{\\}^$.\\*\\?|\\\\", True, True).pattern == \
        "^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\"
    for bad in ("\\", "\\x", "\\\\\\"):
        with pytest.raises(ShellLexError):
            _pattern_regex(bad, True, True)


def test_reverse_pattern():
    assert _reverse_pattern("a\\*c") == "c\\*a"
    assert _reverse_pattern("\\\\\\ab") == "b\\a\\\\"
    assert _reverse_pattern("ab\\") == "\\ba"
    assert _reverse_pattern("\\\\b") == "b\\\\"


def test_build_envs_last_wins():
    assert build_envs(["foo=bar", "car=hat", "car=bike", "bare"]) == {"foo": "bar", "car": "bike", "bare": ""}
    assert LEX.process_word("$car", ["car=hat", "car=bike"]) == "bike"


def test_deeply_nested_substitutions_are_a_clear_error():
    assert LEX.process_word("${a:-" * 200 + "x" + "}" * 200, {}) == "x"
    with pytest.raises(ShellLexError, match="nested too deeply"):
        LEX.process_word("${a:-" * 5000 + "x" + "}" * 5000, {})
