"""Go text/template semantics as docker's --format uses them (expected values are Go's)."""
from __future__ import annotations

import pytest

from dockyard.cli.gotypes import typed
from dockyard.cli.template import Template, TemplateError
from dockyard.cli.template.funcs import HEADER_FUNCS
from dockyard.cli.template.values import GoStruct, go_float

DATA = typed({
    "Name": "/c1",
    "State": {"Status": "running", "Running": True, "Pid": 20250, "ExitCode": 0},
    "Config": {"Labels": {"a": "b", "c": "d"}, "Env": ["A=1", "B=2"], "Cmd": ["sleep", "100"], "Entrypoint": None,
               "Volumes": None},
    "HostConfig": {"Memory": 1073741824, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "Dns": []},
})


@pytest.mark.parametrize("fmt,want", [
    ("{{.Name}}", "/c1"),
    ("{{.State.Status}} {{.State.Pid}}", "running 20250"),
    ("{{json .State}}", '{"Status":"running","Running":true,"Pid":20250,"ExitCode":0}'),
    ("{{.State}}", "{running true 20250 0 <nil>}"),  # Health is added as a nil pointer, like Go's struct
    ("{{.HostConfig.RestartPolicy}}", "{no 0}"),
    ("{{.Config.Labels}}", "map[a:b c:d]"),
    ("{{.Config.Cmd}}", "[sleep 100]"),
    ("{{.Config.Entrypoint}}|{{.Config.Volumes}}|{{.HostConfig.Dns}}", "[]|map[]|[]"),
    ("{{json .Config.Entrypoint}}", "null"),
    ("{{.Config.Labels.zz}}", "<no value>"),
    ("{{index .Config.Labels \"a\"}}|{{index .Config.Labels \"x\"}}", "b|"),
    ("{{range .Config.Env}}{{.}};{{end}}", "A=1;B=2;"),
    ("{{range $i, $e := .Config.Env}}{{$i}}={{$e}} {{end}}", "0=A=1 1=B=2 "),
    ("{{range $k, $v := .Config.Labels}}{{$k}}{{$v}}{{end}}", "abcd"),
    ("{{range .Config.Labels.nope}}x{{else}}empty{{end}}", "empty"),
    ("{{range .Config.Env}}{{if eq . \"A=1\"}}{{continue}}{{end}}{{.}}{{end}}", "B=2"),
    ("{{range .Config.Env}}{{.}}{{break}}{{end}}", "A=1"),
    ("{{if eq .State.Status \"running\"}}up{{else if .State.Running}}x{{else}}down{{end}}", "up"),
    ("{{if ne .State.ExitCode 0}}bad{{else}}ok{{end}}", "ok"),
    ("{{with .Config}}{{.Labels.a}}{{end}}", "b"),
    ("{{with .Config.Labels.nope}}x{{else}}none{{end}}", "none"),
    ("{{$x := 5}}{{$x}}{{$x = 6}}{{$x}}", "56"),
    ("{{len .Config.Env}} {{len .Name}} {{len .Config.Labels}}", "2 3 2"),
    ("{{printf \"%s-%05d|%q|%v|%x|%-4s|%5.2f\" .Name 42 \"a\\\"b\" .Config.Env 255 \"z\" 3.14159}}",
     '/c1-00042|"a\\"b"|[A=1 B=2]|ff|z   | 3.14'),
    ("{{printf \"%d %s\"}}", "%!d(MISSING) %!s(MISSING)"),
    ("{{printf \"%d\" \"x\" 3}}", "%!d(string=x)%!(EXTRA int=3)"),
    ("{{print 1 2 \"a\" 3}}", "1 2a3"),
    ("{{println 1 \"a\"}}", "1 a\n"),
    ("{{.Name | printf \"%s!\"}}", "/c1!"),
    ("{{join (split \"a,b\" \",\") \"-\"}}", "a-b"),
    ("{{upper \"ab\"}} {{lower \"AB\"}} {{title \"hello world\"}} [{{pad \"x\" 1 2}}] [{{pad \"\" 1 2}}]",
     "AB ab Hello World [ x  ] []"),
    ("{{truncate \"abcdef\" 3}} {{truncate \"ab\" 3}}", "abc ab"),
    ("{{and 1 0}} {{or 0 \"\" \"x\"}} {{not 1}} {{and 1 \"y\"}}", "0 x false y"),
    ("{{lt 1 2}} {{ge \"b\" \"a\"}} {{eq 1 2 1}}", "true true true"),
    ("{{slice \"abc\" 1}} {{slice .Config.Env 1 2}}", "bc [B=2]"),
    ("{{html \"<a&b>\"}} {{js \"it's\"}}", "&lt;a&amp;b&gt; it\\'s"),
    ("{{- .Name -}}  {{/* a comment */}} x", "/c1 x"),
    ("a {{- /* c */ -}} b", "ab"),
    ("{{(index .Config.Env 1)}}", "B=2"),
    ("{{.HostConfig.Memory}}", "1073741824"),
    ("{{`raw\\n`}}", "raw\\n"),
    ("{{'a'}} {{0x10}} {{1e3}}", "97 16 1000"),
])
def test_execute(fmt, want):
    assert Template(fmt).execute(DATA) == want


@pytest.mark.parametrize("fmt,err", [
    ("{{.Bad", "template: :1: unclosed action"),
    ("{{foo}}", 'template: :1: function "foo" not defined'),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{if 1}}", "template: :1: unexpected EOF"),
    ("{{break}}", "template: :1: {{break}} outside {{range}}"),
    ("{{$u}}", 'template: :1: undefined variable "$u"'),
    ("{{\"abc}}", "template: :1: unterminated quoted string"),
])
def test_parse_errors(fmt, err):
    with pytest.raises(TemplateError) as e:
        Template(fmt)
    assert str(e.value) == err


@pytest.mark.parametrize("fmt,err", [
    ("{{.NoSuch}}", 'template: :1:2: executing "" at <.NoSuch>: map has no entry for key "NoSuch"'),
    ("{{.State.Nope}}", 'template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope"'),
    ("{{index .Config.Env 5}}", 'template: :1:2: executing "" at <index>: error calling index: index out of range: 5'),
    ("{{eq 1 \"a\"}}", 'template: :1:2: executing "" at <eq>: error calling eq: incompatible types for comparison'),
    ("{{.Name 1}}", 'template: :1:2: executing "" at <.Name>: Name is not a method but has arguments'),
    ("{{len 3}}", 'template: :1:2: executing "" at <len>: error calling len: len of type int'),
    ("{{json}}", 'template: :1:2: executing "" at <json>: wrong number of args for json: want 1 got 0'),
    ("{{range .Config.Env}}{{.X}}{{end}}",
     'template: :1:23: executing "" at <.X>: can\'t evaluate field X in type string'),
    ("{{nil}}", 'template: :1:2: executing "" at <nil>: nil is not a command'),
    ("x\n{{.Name.Y}}", 'template: :2:7: executing "" at <.Name.Y>: can\'t evaluate field Y in type string'),
])
def test_exec_errors(fmt, err):
    with pytest.raises(TemplateError) as e:
        Template(fmt).execute(DATA)
    assert str(e.value) == err


def test_missing_key_in_plain_map_and_nil_receiver():
    t = Template("{{.A.B}}|{{.Z}}")
    assert t.execute({"A": {"B": 1}}) == "1|<no value>"
    with pytest.raises(TemplateError, match="nil pointer evaluating interface {}.B"):
        Template("{{.A.B}}").execute({"A": None})


class Ctx:
    GO_TYPE = "*formatter.Thing"

    def ID(self):
        return "abc"

    def Label(self, name):
        return {"x": "1"}.get(name, "")

    def private(self):  # not exported: templates cannot see it
        return "secret"


def test_methods_on_contexts():
    assert Template('{{.ID}} {{.Label "x"}}').execute(Ctx()) == "abc 1"
    with pytest.raises(TemplateError, match="can't evaluate field private in type"):
        Template("{{.private}}").execute(Ctx())
    with pytest.raises(TemplateError, match=r"can't evaluate field Nope in type \*formatter.Thing"):
        Template("{{.Nope}}").execute(Ctx())


def test_header_functions_keep_column_names():
    t = Template("{{json .Labels}}\t{{upper .State}}\t{{truncate .ID 3}}")
    assert t.execute({"Labels": "LABELS", "State": "STATE", "ID": "CONTAINER ID"}, HEADER_FUNCS) == \
        "LABELS\tSTATE\tCONTAINER ID"


@pytest.mark.parametrize("f,want", [(1073741824.0, "1.073741824e+09"), (21925.0, "21925"), (1e6, "1e+06"),
                                    (123456.0, "123456"), (0.5, "0.5"), (0.0001, "0.0001"), (0.00001, "1e-05"),
                                    (-2.5, "-2.5"), (0.0, "0"), (float("inf"), "+Inf")])
def test_go_float(f, want):
    assert go_float(f) == want


def test_struct_fields_printed_in_order():
    assert Template("{{.}}").execute(GoStruct([("B", 1), ("A", "x"), ("C", [1, 2])])) == "{1 x [1 2]}"
