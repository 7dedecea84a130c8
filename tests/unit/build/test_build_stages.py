"""--target resolution and the stages a build needs, in dependency order."""
from __future__ import annotations

import pytest

from dockyard.build import DockerfileError, GlobalScope, build_order, find_stage, parse_dockerfile, stage_ref
from dockyard.build import target_stage

MULTI = """\
ARG BASE=debian
FROM ${BASE} AS base
RUN setup
FROM base AS deps
RUN deps
FROM golang AS tools
RUN tools
FROM base AS build
COPY --from=deps /deps /deps
RUN --mount=type=bind,from=tools,source=/go/bin,target=/tools make
FROM scratch AS unused
FROM alpine
COPY --from=build /out /app
COPY --from=2 /x /x
"""


def order(text: str, target=None, build_args=None):
    df = parse_dockerfile(text)
    return [(i.stage.display_name(), i.from_.base_name) for i in build_order(df, GlobalScope(df, build_args), target)]


def test_default_target_builds_only_needed_stages_dependencies_first():
    assert order(MULTI) == [("base", "debian"), ("deps", "base"), ("tools", "golang"), ("build", "base"),
                            ("5", "alpine")]


def test_named_target_case_insensitive():
    assert order(MULTI, "DEPS") == [("base", "debian"), ("deps", "base")]
    assert order(MULTI, "unused") == [("unused", "scratch")]
    assert order(MULTI, "deps", {"BASE": "ubuntu"})[0] == ("base", "ubuntu")


def test_unknown_target():
    df = parse_dockerfile(MULTI)
    with pytest.raises(DockerfileError, match="target stage 'nope' could not be found"):
        target_stage(df, "nope")
    assert target_stage(df, None).index == 5


def test_stage_info_details():
    df = parse_dockerfile(MULTI)
    infos = {i.stage.display_name(): i for i in build_order(df, GlobalScope(df))}
    assert infos["deps"].base_stage.name == "base"
    assert infos["tools"].base_stage is None
    assert [d.name for d in infos["build"].depends_on] == ["base", "deps", "tools"]
    assert [d.display_name() for d in infos["5"].depends_on] == ["build", "tools"]
    unused = build_order(df, GlobalScope(df), "unused")[0]
    assert unused.base_is_scratch


def test_stage_references():
    df = parse_dockerfile(MULTI)
    assert find_stage(df, "Build").index == 3
    assert find_stage(df, "build", before=3) is None
    assert stage_ref(df, "1").name == "deps"
    assert stage_ref(df, "busybox:latest") is None
    with pytest.raises(DockerfileError, match="invalid stage index '9'"):
        stage_ref(df, "9")


def test_from_a_later_stage_name_is_an_image():
    assert order("FROM later AS first\nFROM alpine AS later\n", "first") == [("first", "later")]


def test_copy_from_arg_expands_with_global_args():
    text = "ARG SRC=one\nFROM a AS one\nFROM b\nCOPY --from=$SRC /x /x\n"
    assert order(text) == [("one", "a"), ("1", "b")]


def test_cycles_are_refused():
    with pytest.raises(DockerfileError, match="circular dependency detected on stage: a"):
        order("FROM x AS a\nCOPY --from=b / /\nFROM x AS b\nCOPY --from=a / /\n", "a")
    with pytest.raises(DockerfileError, match="circular dependency detected on stage: self"):
        order("FROM x AS self\nCOPY --from=self / /\n")
