"""ARG scoping: the global scope and FROM, per-stage declaration, build-arg overrides, ENV/ARG
interplay, stage inheritance, proxy args, automatic platform args."""
from __future__ import annotations

import pytest

from dockyard.build import DockerfileError, GlobalScope, StageScope, parse_dockerfile, platform_args


def run_stage(text: str, build_args=None, index=0, base_env=(), automatic=None):
    """Step through one stage's instructions; returns (scope, expanded instructions)."""
    df = parse_dockerfile(text)
    g = GlobalScope(df, build_args, automatic)
    sc = StageScope(g, base_env)
    return sc, [sc.step(ins) for ins in df.stages[index].commands]


def test_global_args_are_visible_to_from_only():
    text = "ARG IMAGE=busybox\nARG TAG=1.36\nFROM ${IMAGE}:${TAG}\nRUN echo\nWORKDIR /$IMAGE\n"
    df = parse_dockerfile(text)
    g = GlobalScope(df)
    assert g.expand_from(df.stages[0]).base_name == "busybox:1.36"
    sc = StageScope(g)
    run, workdir = [sc.step(i) for i in df.stages[0].commands]
    assert workdir.path == "/"
    assert "IMAGE" not in sc.env()


def test_redeclared_global_arg_inherits_its_value():
    sc, (arg, wd) = run_stage("ARG V=2\nFROM a\nARG V\nWORKDIR /v$V\n")
    assert arg.args[0].value == "2"
    assert wd.path == "/v2"
    assert sc.run_args() == [("V", "2")]


def test_build_args_override_defaults_everywhere():
    text = "ARG V=1\nFROM img:$V\nARG V\nARG W=default\nENV X=$V-$W\n"
    df = parse_dockerfile(text)
    g = GlobalScope(df, {"V": "9", "W": "cli"})
    assert g.expand_from(df.stages[0]).base_name == "img:9"
    sc = StageScope(g)
    env = [sc.step(i) for i in df.stages[0].commands][-1]
    assert env.pairs[0].value == "9-cli"
    assert sc.config_env_list() == ["X=9-cli"]


def test_global_defaults_expand_in_order():
    df = parse_dockerfile("ARG A=x\nARG B=${A}y\nARG C=$B$UNSET\nFROM $C\n")
    g = GlobalScope(df, {"A": "q"})
    assert g.values == {"A": "q", "B": "qy", "C": "qy"}
    assert g.expand_from(df.stages[0]).base_name == "qy"


def test_undefined_arg_in_from():
    df = parse_dockerfile("FROM alpine:${TAG}\nFROM ${NOPE}\nFROM ${NOPE:-busybox}\n")
    g = GlobalScope(df)
    assert g.expand_from(df.stages[0]).base_name == "alpine:"
    assert any("undefined ARG 'TAG'" in w for w in g.warnings)
    with pytest.raises(DockerfileError, match=r"base name \(\$\{NOPE\}\) should not be blank") as info:
        g.expand_from(df.stages[1])
    assert info.value.line == 2
    assert g.expand_from(df.stages[2]).base_name == "busybox"
    df = parse_dockerfile("ARG TAG\nFROM alpine:${TAG:-3.20}\n")
    assert GlobalScope(df).expand_from(df.stages[0]).base_name == "alpine:3.20"


def test_arg_without_value_is_declared_but_unset():
    sc, (_, wd, env) = run_stage("FROM a\nARG NOVALUE\nWORKDIR /${NOVALUE-unset}\nENV E=${NOVALUE+set}\n")
    assert wd.path == "/unset"
    assert env.pairs[0].value == ""
    assert sc.run_args() == []


def test_args_on_one_line_see_the_ones_before():
    sc, (arg,) = run_stage("FROM a\nARG A=1 B=${A}2 C\n")
    assert [(a.key, a.value) for a in arg.args] == [("A", "1"), ("B", "12"), ("C", None)]


def test_arg_default_uses_env_and_quotes_are_removed():
    sc, (_, arg) = run_stage('FROM a\nENV P=/opt\nARG DIR="$P/my app"\n')
    assert arg.args[0].value == "/opt/my app"


def test_env_and_arg_later_declaration_wins_for_expansion_only_env_in_config():
    sc, _ = run_stage("FROM a\nARG V=arg\nENV V=env\nENV W=$V\n")
    assert sc.env()["W"] == "env"
    sc, _ = run_stage("FROM a\nENV V=env\nARG V=arg\nENV W=$V\n")
    assert sc.env()["W"] == "arg"
    assert sc.config_env_list() == ["V=env", "W=arg"]


def test_env_expansion_uses_values_before_the_instruction():
    sc, (_, env) = run_stage("FROM a\nENV abc=hello\nENV abc=bye def=$abc\n")
    assert [(p.key, p.value) for p in env.pairs] == [("abc", "bye"), ("def", "hello")]


def test_base_image_env_is_visible():
    sc, (wd,) = run_stage("FROM a\nWORKDIR $HOME/x\n", base_env=["HOME=/root", "PATH=/bin"])
    assert wd.path == "/root/x"
    assert sc.config_env_list() == ["HOME=/root", "PATH=/bin"]


def test_args_do_not_leak_into_sibling_stages_but_are_inherited_by_children():
    df = parse_dockerfile("FROM a AS base\nARG NAME=joe\nENV E=1\nFROM base AS child\nRUN x\nFROM a\nRUN y\n")
    g = GlobalScope(df)
    base = StageScope(g)
    for ins in df.stages[0].commands:
        base.step(ins)
    child = StageScope(g, parent=base)
    assert child.env()["NAME"] == "joe" and child.env()["E"] == "1"
    assert child.config_env_list() == ["E=1"]
    assert child.run_args() == [("NAME", "joe")]
    sibling = StageScope(g)
    assert "NAME" not in sibling.env()


def test_proxy_args_reach_run_without_declaration_and_are_not_recorded():
    df = parse_dockerfile("FROM a\nRUN wget x\nWORKDIR /$HTTP_PROXY\n")
    g = GlobalScope(df, {"HTTP_PROXY": "http://proxy:3128", "no_proxy": "localhost", "UNUSED": "1"})
    sc = StageScope(g, ["PATH=/bin"])
    cmds = [sc.step(i) for i in df.stages[0].commands]
    assert sc.run_env() == ["PATH=/bin", "HTTP_PROXY=http://proxy:3128", "no_proxy=localhost"]
    assert cmds[1].path == "/"
    assert sc.run_args() == []
    assert g.unused_build_args() == ["UNUSED"]


def test_declared_proxy_arg_behaves_like_an_arg_but_is_not_in_history():
    sc, _ = run_stage("FROM a\nARG HTTP_PROXY\nARG OTHER=1\n", {"HTTP_PROXY": "http://p"})
    assert sc.env()["HTTP_PROXY"] == "http://p"
    assert sc.run_args() == [("OTHER", "1")]


def test_consumed_build_args():
    df = parse_dockerfile("ARG G\nFROM a\nARG S\n")
    g = GlobalScope(df, {"G": "1", "S": "2", "T": "3"})
    StageScope(g).step(df.stages[0].commands[0])
    assert g.unused_build_args() == ["T"]


def test_automatic_platform_args():
    auto = platform_args("linux/arm64/v8", "linux/amd64")
    assert auto == {"BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "BUILDVARIANT": "",
                    "TARGETPLATFORM": "linux/arm64/v8", "TARGETOS": "linux", "TARGETARCH": "arm64",
                    "TARGETVARIANT": "v8"}
    text = "FROM --platform=$BUILDPLATFORM golang AS build\nARG TARGETARCH\nENV GOARCH=$TARGETARCH\n"
    df = parse_dockerfile(text)
    g = GlobalScope(df, automatic=auto)
    assert g.expand_from(df.stages[0]).platform == "linux/amd64"
    sc = StageScope(g)
    for ins in df.stages[0].commands:
        sc.step(ins)
    assert sc.config_env_list() == ["GOARCH=arm64"]
    with pytest.raises(ValueError):
        platform_args("linux")


def test_expansion_error_names_file_and_line():
    df = parse_dockerfile("FROM a\nARG X=${Y:?required}\n", filename="Dockerfile.x")
    with pytest.raises(DockerfileError) as info:
        StageScope(GlobalScope(df)).step(df.stages[0].commands[0])
    assert (info.value.filename, info.value.line) == ("Dockerfile.x", 2)
    assert "Y: required" in info.value.message


def test_build_arg_without_value_counts_as_not_given():
    df = parse_dockerfile("ARG A=default\nFROM img:$A\n")
    assert GlobalScope(df, {"A": None}).expand_from(df.stages[0]).base_name == "img:default"
