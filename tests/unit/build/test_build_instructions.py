"""Typed instructions: every instruction's fields, flags and errors, and their expansion."""
from __future__ import annotations

import dataclasses

import pytest

from dockyard.build import (AddInstruction, ArgDef, ArgInstruction, CmdInstruction, CopyInstruction, DockerfileError,
                            EntrypointInstruction, EnvInstruction, ExposeInstruction, FromInstruction,
                            HealthcheckInstruction, KeyValue, LabelInstruction, Lex, MaintainerInstruction,
                            OnbuildInstruction, RunInstruction, ShellInstruction, StopSignalInstruction,
                            UserInstruction, VolumeInstruction, WorkdirInstruction, parse_dockerfile,
                            parse_onbuild_triggers)
from dockyard.build.commands import SourceContent
from dockyard.build.instructions import INSTRUCTION_NAMES


def one(text: str):
    """The single instruction after ``FROM scratch``."""
    df = parse_dockerfile("FROM scratch\n" + text + "\n")
    assert len(df.stages[0].commands) == 1
    return df.stages[0].commands[0]


def error(text: str) -> DockerfileError:
    with pytest.raises(DockerfileError) as info:
        parse_dockerfile("FROM scratch\n" + text + "\n")
    return info.value


def test_from_forms():
    df = parse_dockerfile("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\nFROM build\nFROM scratch\n")
    f = df.stages[0].from_
    assert isinstance(f, FromInstruction)
    assert (f.base_name, f.stage_name, f.platform, f.line) == ("golang:1.22", "build", "$BUILDPLATFORM", 1)
    assert f.original == "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build"
    assert [s.name for s in df.stages] == ["build", "", ""]
    assert df.stages[1].display_name() == "1"


@pytest.mark.parametrize("text,message", [
    ("FROM", "FROM requires either one or three arguments"),
    ("FROM a b c d", "FROM requires either one or three arguments"),
    ("FROM a to b", "FROM requires either one or three arguments"),
    ("FROM a AS b-c!", 'invalid name for build stage: "b-c!", name can\'t start with a number or contain symbols'),
    ("FROM --platfrom=x a", "Unknown flag: platfrom"),
    ("FROM --platform a", "Missing a value on flag: platform"),
    ("FROM a AS x\nFROM b AS X", 'duplicate stage name "x"'),
])
def test_from_errors(text, message):
    with pytest.raises(DockerfileError) as info:
        parse_dockerfile(text + "\n")
    assert info.value.message == message


def test_run_forms_and_flags():
    r = one("RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --network=none apt-get update")
    assert isinstance(r, RunInstruction)
    assert (r.command, r.prepend_shell, r.network, r.security) == (("apt-get update",), True, "none", "sandbox")
    assert r.mount_specs == ("type=cache,target=/var/cache/apt,sharing=locked",)
    assert r.flags_used == ("mount", "network")
    assert r.flags == ("--mount=type=cache,target=/var/cache/apt,sharing=locked", "--network=none")
    e = one('RUN ["echo", "a b"]')
    assert (e.command, e.prepend_shell) == (("echo", "a b"), False)
    assert e.plan().args == ("echo", "a b")
    assert one("RUN echo  hi").plan(["/bin/bash", "-c"]).args == ("/bin/bash", "-c", "echo  hi")


@pytest.mark.parametrize("text,message", [
    ("RUN --network=bridge x", 'unsupported network mode "bridge"'),
    ("RUN --security=root x", 'unsupported security mode "root"'),
    ("RUN --mount=type=cahce,target=/x x", 'unsupported mount type "cahce" (did you mean cache?)'),
    ("RUN --mount=type=cache,target=/x,sharing=all x", 'unsupported sharing value "all"'),
    ("RUN --mount=type=bind,mode=0700,target=/x x", 'mode not allowed for "bind" type mounts'),
    ("RUN --mount=type=cache,tagret=/x x", "unexpected key 'tagret' in 'tagret=/x' (did you mean target?)"),
    ("RUN --mount=from=$X,target=/x x", "'from' doesn't support variable expansion, define alias stage instead"),
    ("RUN --mount=type=cache x", "cache mount requires a target"),
    ("RUN --mount=bogus x", "invalid field 'bogus' must be a key=value pair"),
    ("RUN []", "RUN requires at least one argument"),
    ("RUN --mount x", "Missing a value on flag: mount"),
])
def test_run_errors(text, message):
    assert error(text).message == message


def test_run_mounts_are_expanded_and_defaulted():
    r = one("RUN --mount=type=cache,target=$HOME/.cache,id=c-$V,uid=1000,mode=0755 "
            "--mount=type=bind,from=build,source=/out,target=/in,rw "
            "--mount=type=secret,id=tok,required --mount=type=tmpfs,target=/t,size=64m make")
    assert r.mounts == ()
    x = r.expand({"HOME": "/root", "V": "1"})
    cache, bind, secret, tmpfs = x.mounts
    assert (cache.type, cache.target, cache.id, cache.uid, cache.mode, cache.readonly, cache.sharing) == \
        ("cache", "/root/.cache", "c-1", 1000, 0o755, False, "shared")
    assert (bind.from_, bind.source, bind.target, bind.readonly) == ("build", "/out", "/in", False)
    assert (secret.type, secret.id, secret.required, secret.readonly) == ("secret", "tok", True, True)
    assert (tmpfs.size_limit, tmpfs.readonly) == (64 << 20, False)
    assert r.expand({"HOME": "/h"}).mounts[0].cache_id == "c-"


def test_run_mount_values_with_variables_are_checked_on_expand():
    r = one("RUN --mount=type=$T,target=/x true")
    with pytest.raises(DockerfileError, match='unsupported mount type "nope"') as info:
        r.expand({"T": "nope"})
    assert info.value.line == 2


def test_run_heredoc_plans():
    simple = one("RUN <<EOF\necho $HOME\nEOF")
    assert simple.files[0].name == "EOF"
    assert simple.plan().args == ("/bin/sh", "-c", "echo $HOME\n")
    script = one("RUN <<-EOF\n\t#!/usr/bin/env python3\n\tprint(1)\n\tEOF")
    plan = script.plan()
    assert plan.args == ("/bin/sh", "-c", "/dev/pipes/EOF")
    assert plan.script.name == "EOF" and plan.script.data == "#!/usr/bin/env python3\nprint(1)\n"
    piped = one("RUN python3 <<EOF > /out\nprint(1)\nEOF")
    assert piped.plan().args == ("/bin/sh", "-c", "python3 <<EOF > /out\nprint(1)\nEOF")


def test_cmd_entrypoint_shell():
    c = one("CMD echo $HOME")
    assert isinstance(c, CmdInstruction)
    assert c.with_shell(["/bin/sh", "-c"]) == ["/bin/sh", "-c", "echo $HOME"]
    assert one('CMD ["a", "b"]').with_shell(["sh", "-c"]) == ["a", "b"]
    assert one("CMD []").command == ()
    ep = one("ENTRYPOINT []")
    assert isinstance(ep, EntrypointInstruction) and ep.command is None and ep.with_shell(["sh"]) is None
    assert one('ENTRYPOINT ["/bin/tini", "--"]').command == ("/bin/tini", "--")
    sh = one('SHELL ["/bin/bash", "-eo", "pipefail", "-c"]')
    assert isinstance(sh, ShellInstruction) and sh.shell == ("/bin/bash", "-eo", "pipefail", "-c")
    assert error("SHELL /bin/bash -c").message == "SHELL requires the arguments to be in JSON form"
    assert error("SHELL []").message == "SHELL requires at least one argument"
    assert error("CMD --x=1 a").message == "Unknown flag: x"


def test_env_and_label():
    e = one('ENV A=1 B="two words" C=${A}x')
    assert isinstance(e, EnvInstruction)
    assert e.pairs == (KeyValue("A", "1"), KeyValue("B", '"two words"'), KeyValue("C", "${A}x"))
    assert e.expand({"A": "0"}).pairs == (KeyValue("A", "1"), KeyValue("B", "two words"), KeyValue("C", "0x"))
    legacy = one("ENV PATH /usr/local/bin:$PATH")
    assert legacy.pairs == (KeyValue("PATH", "/usr/local/bin:$PATH", True),)
    assert legacy.expand({"PATH": "/bin"}).pairs[0].value == "/usr/local/bin:/bin"
    lab = one('LABEL "com.example.vendor"="ACME" version=1.0 description="a b"')
    assert isinstance(lab, LabelInstruction)
    assert [(p.key, p.value) for p in lab.expand({}).pairs] == [
        ("com.example.vendor", "ACME"), ("version", "1.0"), ("description", "a b")]
    assert error("ENV").message == "ENV requires at least one argument"
    assert error("LABEL").message == "LABEL requires at least one argument"
    assert error("ENV =x").message == "ENV names can not be blank"
    assert error("ENV A").message == "ENV must have two arguments"


def test_arg_forms():
    a = one('ARG A B=1 C="x y" D=')
    assert isinstance(a, ArgInstruction)
    assert a.args == (ArgDef("A"), ArgDef("B", "1"), ArgDef("C", '"x y"'), ArgDef("D", ""))
    assert a.expand({}).args[2].value == "x y"
    assert error("ARG").message == "ARG requires at least one argument"
    assert error("ARG =1").message == "ARG names can not be blank"
    commented = parse_dockerfile("# VERSION the version to build\nARG VERSION=1\nFROM a\n").meta_args[0]
    assert commented.args[0].comment == "the version to build"


def test_copy_and_add():
    c = one("COPY --from=build --chown=app:app --chmod=0644 --link --parents --exclude=*.md --exclude=.git "
            "a b/ /dst/")
    assert isinstance(c, CopyInstruction)
    assert (c.from_, c.chown, c.chmod, c.link, c.parents, c.excludes) == \
        ("build", "app:app", "0644", True, True, ("*.md", ".git"))
    assert (c.sources, c.dest, c.contents) == (("a", "b/"), "/dst/", ())
    assert c.chmod_mode() == 0o644
    j = one('COPY ["a b", "/c d/"]')
    assert (j.sources, j.dest) == (("a b",), "/c d/")
    ad = one("ADD --checksum=sha256:abc --keep-git-dir=true --chown=1 https://x/y.tgz /opt/")
    assert isinstance(ad, AddInstruction)
    assert (ad.checksum, ad.keep_git_dir, ad.chown, ad.sources, ad.dest) == \
        ("sha256:abc", True, "1", ("https://x/y.tgz",), "/opt/")
    x = one("COPY --chown=$U:$U --from=$S ${SRC}/* $DST").expand({"U": "1", "S": "b", "SRC": "s", "DST": "/d"})
    assert (x.chown, x.from_, x.sources, x.dest) == ("1:1", "b", ("s/*",), "/d")


@pytest.mark.parametrize("text,message", [
    ("COPY a", "COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
    ("ADD a", "ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
    ("COPY --from a b", "Missing a value on flag: from"),
    ("COPY --link=maybe a b", "Expecting boolean value for flag link, not: maybe"),
    ("COPY --link= a b", "Missing a value on flag: link"),
    ("COPY --from=a --from=b c d", "Duplicate flag specified: from"),
    ("ADD --from=a b c", "Unknown flag: from"),
    ("COPY --checksum=x a b", "Unknown flag: checksum"),
    ("COPY a <<EOF\nx\nEOF", "COPY cannot accept a heredoc as a destination"),
])
def test_copy_errors(text, message):
    assert error(text).message == message


def test_copy_chmod_must_be_octal():
    with pytest.raises(DockerfileError, match="invalid chmod parameter"):
        one("COPY --chmod=u+x a b").chmod_mode()
    with pytest.raises(DockerfileError, match="invalid chmod parameter"):
        one("COPY --chmod=0789 a b").chmod_mode()
    assert one("COPY a b").chmod_mode() is None


def test_copy_heredocs_become_contents():
    c = one("COPY <<one <<-'two' ./file /dst/\nhello $NAME\none\n\t\tquoted $NAME\n\ttwo")
    assert c.sources == ("./file",)
    assert c.contents == (SourceContent("one", "hello $NAME\n", True), SourceContent("two", "quoted $NAME\n", False))
    x = c.expand({"NAME": "world"})
    assert x.contents == (SourceContent("one", "hello world\n", True), SourceContent("two", "quoted $NAME\n", False))
    q = one("COPY <<EOF /f\nsay \"$A\" 'B'\nEOF").expand({"A": "a"})
    assert q.contents[0].data == "say \"a\" 'B'\n"  # quotes are kept in heredoc bodies


def test_healthcheck():
    h = one("HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=500ms --retries=3 "
            "CMD curl -f http://localhost/ || exit 1")
    assert isinstance(h, HealthcheckInstruction)
    assert h.test == ("CMD-SHELL", "curl -f http://localhost/ || exit 1")
    assert (h.interval, h.timeout, h.start_period, h.start_interval, h.retries) == \
        (30 * 10**9, 90 * 10**9, 1_500_000_000, 500_000_000, 3)
    assert one('HEALTHCHECK CMD ["/check", "-q"]').test == ("CMD", "/check", "-q")
    assert one("HEALTHCHECK none").test == ("NONE",)
    assert one("HEALTHCHECK --interval=0s CMD x").interval == 0


@pytest.mark.parametrize("text,message", [
    ("HEALTHCHECK", "HEALTHCHECK requires at least one argument"),
    ("HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"),
    ("HEALTHCHECK CMD", "Missing command after HEALTHCHECK CMD"),
    ("HEALTHCHECK CONNECT TCP 7000", 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)'),
    ("HEALTHCHECK --interval=5 CMD x", 'time: missing unit in duration "5"'),
    ("HEALTHCHECK --timeout=fast CMD x", 'time: invalid duration "fast"'),
    ("HEALTHCHECK --timeout=3y CMD x", 'time: unknown unit "y" in duration "3y"'),
    ("HEALTHCHECK --interval=10us CMD x", 'Interval "interval" cannot be less than 1ms'),
    ("HEALTHCHECK --retries=-1 CMD x", "--retries cannot be negative (-1)"),
    ("HEALTHCHECK --retries=x CMD x", 'strconv.ParseInt: parsing "x": invalid syntax'),
    ("HEALTHCHECK --retry=1 CMD x", "Unknown flag: retry"),
])
def test_healthcheck_errors(text, message):
    assert error(text).message == message


def test_expose_user_volume_workdir_stopsignal_maintainer():
    ex = one("EXPOSE 8080/tcp $PORTS 53/udp")
    assert isinstance(ex, ExposeInstruction)
    assert ex.ports == ("$PORTS", "53/udp", "8080/tcp")
    assert ex.expand({"PORTS": "80 443"}).ports == ("80", "443", "53/udp", "8080/tcp")
    u = one("USER ${APP_USER:-app}:staff")
    assert isinstance(u, UserInstruction) and u.expand({}).user == "app:staff"
    v = one("VOLUME /data $LOGS")
    assert isinstance(v, VolumeInstruction) and v.expand({"LOGS": "/logs"}).volumes == ("/data", "/logs")
    assert one('VOLUME ["/a b", "/c"]').volumes == ("/a b", "/c")
    w = one('WORKDIR "$HOME/my app"')
    assert isinstance(w, WorkdirInstruction) and w.expand({"HOME": "/root"}).path == "/root/my app"
    s = one("STOPSIGNAL $SIG")
    assert isinstance(s, StopSignalInstruction) and s.expand({"SIG": "SIGQUIT"}).signal == "SIGQUIT"
    m = one("MAINTAINER Jane Doe <jane@example.com>")
    assert isinstance(m, MaintainerInstruction) and m.maintainer == "Jane Doe <jane@example.com>"
    assert m.expand({"x": "y"}) is m
    assert error("EXPOSE").message == "EXPOSE requires at least one argument"
    assert error("USER").message == "USER requires exactly one argument"
    assert error("WORKDIR").message == "WORKDIR requires exactly one argument"
    assert error("STOPSIGNAL").message == "STOPSIGNAL requires exactly one argument"
    assert error("MAINTAINER").message == "MAINTAINER requires exactly one argument"
    assert error('VOLUME ["/a", " "]').message == "VOLUME specified can not be an empty string"
    assert error("VOLUME []").message == "VOLUME requires at least one argument"


def test_onbuild():
    o = one("ONBUILD  RUN echo hi")
    assert isinstance(o, OnbuildInstruction) and o.expression == "RUN echo hi"
    h = one("onbuild COPY <<EOF /x\nbody\nEOF")
    assert h.expression == "COPY <<EOF /x\nbody\nEOF"
    assert error("ONBUILD ONBUILD RUN x").message == "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    assert error("ONBUILD FROM x").message == "FROM isn't allowed as an ONBUILD trigger"
    assert error("ONBUILD maintainer x").message == "MAINTAINER isn't allowed as an ONBUILD trigger"
    assert error("ONBUILD").message == "ONBUILD requires at least one argument"
    triggers = parse_onbuild_triggers([o.expression, h.expression, "ENV A=1"])
    assert [t.name for t in triggers] == ["run", "copy", "env"]
    assert triggers[1].contents[0].data == "body\n"
    with pytest.raises(DockerfileError, match="unknown instruction: BOGUS"):
        parse_onbuild_triggers(["BOGUS x"])


def test_unknown_instruction_suggests_the_closest():
    e = error("FORM x")
    assert (e.message, e.line) == ("unknown instruction: FORM (did you mean FROM?)", 2)
    assert e.docker_message() == "dockerfile parse error on line 2: unknown instruction: FORM (did you mean FROM?)"
    assert error("workdri /x").message == "unknown instruction: workdri (did you mean workdir?)"
    assert error("FLIBBERTIGIBBET x").message == "unknown instruction: FLIBBERTIGIBBET"


def test_stages_and_meta_args():
    df = parse_dockerfile("ARG A=1\nARG B\nFROM a AS one\nRUN x\nFROM one\nCOPY --from=one / /\n")
    assert [a.args for a in df.meta_args] == [(ArgDef("A", "1"),), (ArgDef("B"),)]
    assert [[c.name for c in s.commands] for s in df.stages] == [["run"], ["copy"]]
    assert [i.line for i in df.instructions()] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(DockerfileError, match="no build stage in current context"):
        parse_dockerfile("ENV A=1\nFROM a\n")
    with pytest.raises(DockerfileError, match="dockerfile contains no stages to build"):
        parse_dockerfile("ARG A\n")


def test_instruction_errors_are_located_and_named():
    with pytest.raises(DockerfileError) as info:
        parse_dockerfile("FROM a\nRUN echo \\\n  --bad \\\n  x\nCOPY \\\n  onlyone\n", filename="ctx/Dockerfile.ci")
    e = info.value
    assert (e.filename, e.line, e.end_line) == ("ctx/Dockerfile.ci", 5, 6)
    assert str(e).startswith("ctx/Dockerfile.ci:5: COPY requires at least two arguments")


def test_expansion_errors_are_located():
    w = parse_dockerfile("FROM a\n\nWORKDIR ${X:?must be set}\n").stages[0].commands[0]
    with pytest.raises(DockerfileError) as info:
        w.expand({})
    assert info.value.line == 3 and "X: must be set" in info.value.message


def test_backtick_escape_dockerfile():
    df = parse_dockerfile("# escape=`\nFROM windows\nCOPY c:\\src `\n  c:\\dst\nWORKDIR c:\\a`$b\n")
    copy, workdir = df.stages[0].commands
    assert copy.sources == ("c:\\src",) and copy.dest == "c:\\dst"
    assert workdir.expand({"b": "x"}, Lex(df.escape_token)).path == "c:\\a$b"
    assert df.lex().escape_token == "`"


def test_which_instructions_expand():
    from dockyard.build.commands import EXPANDING_INSTRUCTIONS
    df = parse_dockerfile("FROM $V\nADD $V /\nARG A=$V\nCOPY $V /\nENV E=$V\nEXPOSE $V\nLABEL l=$V\n"
                          "RUN echo $V\nSTOPSIGNAL $V\nUSER $V\nVOLUME $V\nWORKDIR $V\nCMD echo $V\n"
                          "ENTRYPOINT echo $V\nSHELL [\"$V\"]\nHEALTHCHECK CMD $V\nMAINTAINER $V\nONBUILD RUN $V\n")
    seen = set()
    for ins in [df.stages[0].from_] + df.stages[0].commands:
        seen.add(ins.name)
        out = ins.expand({"V": "1"})
        if ins.name in EXPANDING_INSTRUCTIONS:
            assert out is not ins, ins.name
            if ins.name != "run":
                assert "$V" not in repr(dataclasses.replace(out, original="")), ins.name
        else:
            assert out is ins, ins.name
    assert seen == {n.lower() for n in INSTRUCTION_NAMES}
