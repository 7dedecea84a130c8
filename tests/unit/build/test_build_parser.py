"""The parse tree: directives, continuations, comments, heredocs, JSON vs shell forms, flags,
line numbers and the errors a broken Dockerfile gives."""
from __future__ import annotations

import pytest

from dockyard.build import DockerfileError, dump, parse
from dockyard.build.directives import detect_syntax
from dockyard.build.heredoc import chomp, heredocs_from_line, parse_heredoc
from dockyard.build.line_parsers import extract_builder_flags, parse_words, split_command


def sexp(node) -> str:
    return "(" + dump(node) + ")"


def dumped(text: str) -> list[str]:
    return [sexp(c) for c in parse(text).ast.children]


# directives -------------------------------------------------------------------------------

def test_escape_directive_switches_continuation_and_escape():
    r = parse("# escape=`\nFROM image\nRUN dir c:\\ `\n  && echo hi\n")
    assert r.escape_token == "`"
    assert [sexp(c) for c in r.ast.children] == ['(from "image")', '(run "dir c:\\\\   && echo hi")']
    assert r.directive("escape") == "`"


def test_syntax_and_check_directives_are_recorded_not_comments():
    r = parse("# syntax=docker/dockerfile:1.7\n#check=skip=all\n# a comment\nARG x\nFROM a\n")
    assert [(d.name, d.value, d.line) for d in r.directives] == [
        ("syntax", "docker/dockerfile:1.7", 1), ("check", "skip=all", 2)]
    assert r.ast.children[0].prev_comment == ["a comment"]
    assert detect_syntax("#!/usr/bin/env x\n# syntax = foo/bar:1 --opt\nFROM a") .value == "foo/bar:1 --opt"
    assert detect_syntax("FROM a\n# syntax=x") is None


def test_directive_after_blank_line_or_instruction_is_a_comment():
    assert parse("\n# escape=`\nFROM a\n").escape_token == "\\"
    assert parse("FROM a\n# escape=`\nRUN x\n").escape_token == "\\"
    assert parse("# hello\n# escape=`\nFROM a\n").escape_token == "\\"
    assert parse("# unknown=1\n# escape=`\nFROM a\n").escape_token == "\\"
    assert parse("#ESCAPE = `\nFROM a\n").escape_token == "`"


def test_directive_errors_name_the_line():
    with pytest.raises(DockerfileError, match="only one escape parser directive can be used") as info:
        parse("# escape=`\n# escape=\\\nFROM a\n")
    assert info.value.line == 2
    with pytest.raises(DockerfileError, match="invalid escape token 'x' does not match ` or") as info:
        parse("# escape=x\nFROM a\n")
    assert info.value.line == 1


# lines, comments, continuations ---------------------------------------------------------------

def test_comments_inside_continuations_are_skipped_and_blank_lines_warn():
    r = parse("FROM a\nRUN one \\\n# comment\n  # indented comment\n  two \\\n\n  three\n")
    assert sexp(r.ast.children[1]) == '(run "one   two   three")'
    assert r.warnings == ["Empty continuation line found in: RUN one   two   three"]
    assert (r.ast.children[1].start_line, r.ast.children[1].end_line) == (2, 7)


def test_crlf_bom_and_case_insensitive_keywords():
    r = parse("\ufeffFrom a\r\nrun   echo  hi\r\n")
    assert [sexp(c) for c in r.ast.children] == ['(from "a")', '(run "echo  hi")']
    assert r.ast.children[1].value == "run"
    assert parse(b"\xef\xbb\xbfFROM a\n").ast.children[0].value == "FROM"


def test_escaped_escape_at_end_is_not_a_continuation():
    assert dumped("FROM a\nENV A b\\\\\nENV C d\n") == ['(from "a")', '(env "A" "b\\\\\\\\" "")',
                                                       '(env "C" "d" "")']


def test_undecodable_bytes_survive():
    r = parse(b"FROM a\nRUN echo \xff\xfe\n")
    node = r.ast.children[1]
    assert node.next.value.encode("utf-8", "surrogateescape") == b"echo \xff\xfe"
    assert sexp(node) == '(run "echo \\xff\\xfe")'


def test_long_line_is_refused():
    with pytest.raises(DockerfileError, match="dockerfile line greater than max allowed size of 65535") as info:
        parse("FROM a\nLABEL x=" + "a" * 70000 + "\n")
    assert info.value.line == 2


def test_no_instructions():
    for text in ("", "\n\n", "# just a comment\n", "  \n\t\n"):
        with pytest.raises(DockerfileError, match="file with no instructions"):
            parse(text)


def test_error_carries_filename_and_line():
    with pytest.raises(DockerfileError) as info:
        parse("FROM a\n\nENV PATH\n", filename="build/Dockerfile.dev")
    e = info.value
    assert (e.line, e.filename, e.message) == (3, "build/Dockerfile.dev", "ENV must have two arguments")
    assert str(e) == "build/Dockerfile.dev:3: ENV must have two arguments"
    assert e.docker_message() == "dockerfile parse error on line 3: ENV must have two arguments"


# argument forms -----------------------------------------------------------------------------

def test_json_and_shell_forms():
    assert dumped('FROM a\nCMD ["a", "b c"]\nCMD a "b c"\nENTRYPOINT []\nRUN [ "x" ] trailing\n') == [
        '(from "a")', '(cmd "a" "b c")', '(cmd "a \\"b c\\"")', "(entrypoint)", '(run "[ \\"x\\" ] trailing")']
    r = parse('FROM a\nCMD ["a"]\nCMD a\n')
    assert r.ast.children[1].is_json and not r.ast.children[2].is_json


@pytest.mark.parametrize("text", ['CMD ["a", 1]', 'RUN ["a", ["b"]]', 'COPY ["a", null]', 'VOLUME [true]'])
def test_json_array_of_non_strings_is_an_error(text):
    with pytest.raises(DockerfileError, match="arrays must be comprised of strings only") as info:
        parse("FROM a\n" + text + "\n")
    assert info.value.line == 2


def test_json_edge_cases_fall_back_to_shell_form():
    assert dumped('CMD ["a", NaN]')[0] == '(cmd "[\\"a\\", NaN]")'
    assert dumped("CMD " + "[" * 5000)[0].startswith('(cmd "[[[')
    assert dumped('CMD {"a": "b"}')[0] == '(cmd "{\\"a\\": \\"b\\"}")'


def test_env_label_arg_forms():
    assert dumped('FROM a\nENV a=1 b="2 3" c=4\\ 5\nLABEL "x y"=z\nARG p q=1 r=\n') == [
        '(from "a")', '(env "a" "1" "=" "b" "\\"2 3\\"" "=" "c" "4\\\\ 5" "=")',
        '(label "\\"x y\\"" "z" "=")', '(arg "p" "q=1" "r=")']
    with pytest.raises(DockerfileError, match="can't find = in \"b\""):
        parse("FROM a\nENV a=1 b\n")


def test_flags_are_extracted_with_quotes_removed():
    node = parse('FROM a\nCOPY --from="my stage" --chown=1:1 --link -- --x /y\n').ast.children[1]
    assert node.flags == ["--from=my stage", "--chown=1:1", "--link"]
    assert node.args() == ["--x", "/y"]
    assert extract_builder_flags("--a=1 --b rest of line") == ("rest of line", ["--a=1", "--b"])
    assert extract_builder_flags("-- --x") == (" --x", [])
    assert extract_builder_flags("--a='x y'") == ("", ["--a=x y"])
    assert split_command("  RUN   --network=none  echo hi  ") == ("RUN", ["--network=none"], "echo hi")


def test_parse_words():
    assert parse_words("foo", "\\") == ["foo"]
    assert parse_words("foo bar", "\\") == ["foo", "bar"]
    assert parse_words("foo\\ bar", "\\") == ["foo\\ bar"]
    assert parse_words("foo bar 'abc xyz'", "\\") == ["foo", "bar", "'abc xyz'"]
    assert parse_words('föo bàr "âbc xÿz"', "\\") == ["föo", "bàr", '"âbc xÿz"']
    assert parse_words("a='' b", "\\") == ["a=''", "b"]


def test_onbuild_nests_its_trigger():
    r = parse("FROM a\nONBUILD RUN [\"x\"]\nONBUILD copy . /\nONBUILD\n")
    assert [sexp(c) for c in r.ast.children[1:]] == ['(onbuild (run "x"))', '(onbuild (copy "." "/"))', "(onbuild)"]
    assert r.ast.children[1].args() == ["RUN", "x"]


def test_unknown_instruction_parses_with_empty_argument():
    assert dumped("FORM a b")[0] == '(form "")'


def test_healthcheck_forms():
    assert dumped('FROM a\nHEALTHCHECK --retries=3 CMD ["x", "y"]\nHEALTHCHECK NONE\n')[1:] == [
        '(healthcheck ["--retries=3"] "CMD" "x" "y")', '(healthcheck "NONE")']


# heredocs ---------------------------------------------------------------------------------

def test_run_heredoc_body_and_lines():
    r = parse("FROM a\nRUN <<EOF\necho $A\n  two\nEOF\nRUN after\n")
    run = r.ast.children[1]
    assert [(h.name, h.content, h.expand, h.chomp) for h in run.heredocs] == [("EOF", "echo $A\n  two\n", True, False)]
    assert (run.start_line, run.end_line) == (2, 5)
    assert sexp(r.ast.children[2]) == '(run "after")'


def test_multiple_heredocs_on_one_line():
    r = parse("FROM a\nRUN <<A cat - && cat <<\"B\" 3<<-C\none\nA\ntwo $x\nB\n\t\tthree\n\tC\n")
    docs = r.ast.children[1].heredocs
    assert [(d.name, d.content, d.expand, d.chomp, d.file_descriptor) for d in docs] == [
        ("A", "one\n", True, False, 0), ("B", "two $x\n", False, False, 0), ("C", "\t\tthree\n", True, True, 3)]
    assert docs[2].data() == "three\n"


def test_quoted_delimiters_disable_expansion():
    for word, expand in (("<<EOF", True), ("<<'EOF'", False), ('<<"EOF"', False), ('<<E"O"F', False),
                         ("<<-EOF", True)):
        doc = parse_heredoc(word)
        assert doc.name == "EOF" and doc.expand is expand, word
    assert parse_heredoc("<<") is None
    assert parse_heredoc("<<a b") is None
    assert parse_heredoc("x<<EOF") is None


def test_heredoc_words_only_outside_quotes():
    assert [d.name for d in heredocs_from_line("RUN echo '<<NOT' \"<<NOT\" <<YES")] == ["YES"]
    assert heredocs_from_line("RUN echo 'unterminated <<X") == []


def test_copy_heredoc_and_onbuild_heredoc():
    r = parse("FROM a\nCOPY <<one <<two /dst/\n1\none\n2\ntwo\nONBUILD RUN <<X\nbody\nX\nRUN ok\n")
    assert [h.name for h in r.ast.children[1].heredocs] == ["one", "two"]
    assert r.ast.children[2].heredocs[0].content == "body\n"
    assert sexp(r.ast.children[3]) == '(run "ok")'


def test_no_heredocs_in_json_form_or_other_instructions():
    r = parse('FROM a\nRUN ["cat", "<<EOF"]\nLABEL x=<<EOF\nRUN echo\n')
    assert all(not c.heredocs for c in r.ast.children)
    assert len(r.ast.children) == 4


def test_chomp_strips_leading_tabs_only():
    assert chomp("\t\ta\n  b\n\tc\t\n") == "a\n  b\nc\t\n"


def test_unterminated_heredoc_names_its_lines():
    with pytest.raises(DockerfileError, match="unterminated heredoc") as info:
        parse("FROM a\nRUN <<EOF\nline\nEOFX\n")
    assert (info.value.line, info.value.end_line) == (2, 4)


# hostile input ----------------------------------------------------------------------------

def test_deep_nesting_is_a_clear_error():
    with pytest.raises(DockerfileError, match="instruction nested too deeply"):
        parse("ONBUILD " * 8000 + "RUN x\n")


def test_mutated_dockerfiles_fail_only_with_dockerfile_errors():
    """A seeded fuzz over BuildKit-style inputs: any failure must be a DockerfileError."""
    import random

    from dockyard.build import GlobalScope, StageScope, build_order, parse_dockerfile

    seeds = [b"FROM a AS b\nARG X=1\nENV A=$X B='q'\nRUN --mount=type=cache,target=/c echo $A\n"
             b"COPY --from=b <<EOF /x\nhi $A\nEOF\nHEALTHCHECK --interval=5s CMD true\nONBUILD RUN x\n",
             b"# escape=`\nFROM b\nRUN a `\n  b\nCMD [\"a\", \"b\"]\nEXPOSE 80 $P\nUSER u\nWORKDIR /w\n"]
    tokens = [b"\\", b"`", b"\n", b"<<EOF", b"<<-'X'", b"EOF\n", b"${", b"}", b"$", b'"', b"'", b"[", b"]",
              b"--mount=", b"--from=", b"ONBUILD ", b"FROM ", b"COPY ", b"ARG ", b"=", b"\t", b"\xff", b" AS ",
              b":-", b"#", b",", b"\r"]
    rnd = random.Random(7)
    for _ in range(1500):
        data = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 6)):
            pos = rnd.randint(0, len(data))
            if rnd.random() < 0.7:
                data[pos:pos] = rnd.choice(tokens)
            else:
                del data[pos:pos + rnd.randint(1, 4)]
        try:
            df = parse_dockerfile(bytes(data))
            g = GlobalScope(df, {"X": "2"})
            for info in build_order(df, g):
                scope = StageScope(g)
                for ins in info.stage.commands:
                    out = scope.step(ins)
                    if hasattr(out, "plan"):
                        out.plan()
        except DockerfileError:
            pass
