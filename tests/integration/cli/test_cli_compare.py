"""Our CLI and the Docker CLI against the same daemon: same exit codes, output and errors."""
from __future__ import annotations

import re

import pytest

from cli_helpers import json_lines, normalize


def same(dy, dk, *args, ids: bool = True, collapse: bool = False):
    a, b = dy(*args), dk(*args)
    out_a, out_b = normalize(a.out, ids), normalize(b.out, ids)
    err_a, err_b = normalize(a.err, ids), normalize(b.err, ids)
    if collapse:
        out_a, out_b = re.sub(r" {2,}", "  ", out_a), re.sub(r" {2,}", "  ", out_b)
    assert (a.rc, out_a, err_a) == (b.rc, out_b, err_b), f"dockyard {args}: {a}\ndocker: {b}"
    return a


@pytest.fixture(scope="module")
def sleeper(dk, daemon):
    r = dk("run", "-d", "--name", "cmp-sleeper", "-l", "app=web", "-l", "tier=1", "busybox", "sleep", "600")
    assert r.rc == 0, r
    r2 = dk("run", "--name", "cmp-exited", "busybox", "sh", "-c", "exit 3")
    assert r2.rc == 3, r2
    yield "cmp-sleeper"
    dk("rm", "-f", "cmp-sleeper", "cmp-exited")


@pytest.mark.parametrize("args", [
    ("ps", "--format", "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Ports}}\t{{.Names}}"),
    ("ps", "-a", "--format", "table {{.Names}}\t{{.Labels}}\t{{.State}}"),
    ("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Command}}"),
    ("ps", "-q"),
    ("ps", "-aq", "--filter", "status=exited"),
    ("ps", "-a", "--filter", "label=app=web", "--format", "{{.Names}} {{.Label \"tier\"}}"),
    ("ps", "-n", "1", "--format", "{{.Names}}"),
    ("ps", "-l", "--format", "table {{.Names}}\t{{upper .State}}\t{{json .Labels}}"),
    ("ps", "--format", "{{.Foo}}"),
    ("ps", "--format", "{{.Names"),
    ("ps", "--filter", "bogus=1"),
    ("ps", "-n", "x"),
    ("ps", "extra"),
    ("ps", "--bogus"),
    ("ps", "-x"),
])
def test_ps(dy, dk, sleeper, args):
    same(dy, dk, *args)


def test_ps_default_table(dy, dk, sleeper):
    same(dy, dk, "ps", "-a", collapse=True)
    same(dy, dk, "ps", "-s", collapse=True)


def test_ps_json(dy, dk, sleeper):
    a, b = dy("ps", "-a", "--format", "json"), dk("ps", "-a", "--format", "json")
    assert a.rc == b.rc == 0
    ja, jb = json_lines(a.out), json_lines(b.out)
    for x, y in zip(ja, jb):
        x.pop("RunningFor"), y.pop("RunningFor")
        x.pop("Status"), y.pop("Status")
    assert ja == jb


@pytest.mark.parametrize("args", [
    ("inspect", "cmp-sleeper"),
    ("inspect", "busybox"),
    ("inspect", "--format", "json", "cmp-sleeper", "busybox"),
    ("inspect", "-f", "{{.State.Status}} {{.Name}} {{.Config.Labels}}", "cmp-sleeper", "cmp-exited"),
    ("inspect", "-f", "{{json .Config.Cmd}}|{{.Config.Cmd}}|{{index .Config.Labels \"app\"}}", "cmp-sleeper"),
    ("inspect", "-f", "{{range .Config.Env}}{{.}};{{end}}|{{len .Config.Env}}", "cmp-sleeper"),
    ("inspect", "-f", "{{.State}}", "cmp-sleeper"),
    ("inspect", "-f", "{{.HostConfig.RestartPolicy}} {{.HostConfig.CapAdd}} {{.Config.Entrypoint}}", "cmp-sleeper"),
    ("inspect", "-f", "{{if eq .State.ExitCode 3}}three{{else}}other{{end}}", "cmp-exited"),
    ("inspect", "-f", "{{.NoSuch}}", "cmp-sleeper"),
    ("inspect", "-f", "{{.Bad", "cmp-sleeper"),
    ("inspect", "nope"),
    ("inspect", "-f", "{{.Name}}", "cmp-sleeper", "nope"),
    ("inspect", "--type", "image", "-f", "{{.Os}}/{{.Architecture}}", "busybox"),
    ("inspect", "--type", "container", "busybox"),
    ("inspect", "--type", "bogus", "x"),
    ("container", "inspect", "nope"),
    ("container", "inspect", "-f", "{{.Foo}}", "cmp-sleeper"),
    ("image", "inspect", "nope"),
    ("image", "inspect", "-f", "{{.RepoTags}}", "busybox"),
])
def test_inspect(dy, dk, sleeper, args):
    same(dy, dk, *args, ids=False)


@pytest.mark.parametrize("args", [
    ("images",),
    ("images", "--no-trunc"),
    ("images", "-q"),
    ("images", "--digests"),
    ("images", "busybox"),
    ("images", "--format", "table {{.Repository}}:{{.Tag}}\t{{.Size}}\t{{.VirtualSize}}"),
    ("image", "ls", "--format", "{{.ID}} {{.Containers}} {{.SharedSize}}"),
    ("history", "busybox"),
    ("history", "--no-trunc", "busybox"),
    ("history", "-q", "busybox"),
    ("history", "--format", "{{.CreatedBy}}|{{.Size}}", "busybox"),
    ("rmi", "nope"),
    ("tag", "nope", "x"),
])
def test_images(dy, dk, daemon, args):
    same(dy, dk, *args, ids=False)


def test_images_json(dy, dk, daemon):
    a, b = dy("images", "--format", "json"), dk("images", "--format", "json")
    assert a.rc == b.rc == 0 and json_lines(a.out) == json_lines(b.out)


@pytest.mark.parametrize("args", [
    ("rm", "nope"), ("stop", "nope"), ("kill", "nope"), ("start", "nope"), ("pause", "nope"),
    ("restart", "nope"), ("wait", "nope"), ("top", "nope"), ("port", "nope"), ("diff", "nope"),
    ("logs", "nope"), ("rename", "nope", "x"), ("exec", "nope", "true"), ("attach", "nope"),
    ("rm",), ("logs",), ("port",), ("port", "a", "b", "c"), ("rename", "a"), ("exec", "x"), ("load", "x"),
    ("events", "x"), ("cp", "a"), ("commit",), ("tag", "a"),
    ("run",), ("run", "--bogus", "busybox"), ("run", "-x", "busybox"), ("run", "-m", "x", "busybox"),
    ("run", "--cpus", "1.0000000001", "busybox"), ("run", "--health-interval", "x", "busybox"),
    ("stop", "-t", "x", "c"), ("bogus",), ("container", "bogus"), ("cp", "a", "b"), ("cp", "x:/a", "y:/b"),
    ("create", "--rm", "--restart", "always", "busybox"), ("create", "--no-healthcheck", "--health-cmd", "x", "busybox"),
    ("create", "--health-interval", "-1s", "busybox"), ("create", "--mount", "type=bind", "busybox"),
    ("create", "--mount", "target=/x,foo", "busybox"), ("create", "--ulimit", "nofile", "busybox"),
    ("create", "--device", "a:b:c:d", "busybox"), ("create", "-v", ":/x", "busybox"),
    ("create", "--security-opt", "foo", "busybox"), ("create", "-p", "1.2.3.4:80", "busybox"),
    ("create", "-p", "70000", "busybox"), ("create", "-e", "=x", "busybox"), ("create", "-a", "bogus", "busybox"),
    ("create", "--restart", "on-failure:x", "busybox"), ("create", "--network-alias", "x", "busybox"),
    ("create", "--pull", "sometimes", "busybox"),
])
def test_errors(dy, dk, daemon, args):
    same(dy, dk, *args)


def _lifecycle(runner, cleanup) -> list:
    cleanup.append("lc")
    first = runner("run", "-d", "--name", "lc", "busybox", "sleep", "600")
    assert first.rc == 0, first
    seen = [first.rc]
    for verb in (("pause",), ("unpause",), ("kill", "-s", "USR1"), ("restart", "-t", "0"), ("stop", "-t", "0"),
                 ("wait",), ("start",), ("top",), ("port",), ("diff",), ("logs",)):
        r = runner(*verb, "lc", *(["nope"] if verb[0] in ("pause", "unpause", "kill", "restart", "stop") else []))
        seen.append((verb, r.rc, normalize(r.out), normalize(r.err)))
    runner("stop", "-t", "0", "lc")
    for verb in (("rename", "lc", "lc2"), ("rm", "-f", "lc2", "nope"), ("rm", "nope")):
        r = runner(*verb)
        seen.append((verb, r.rc, r.out, normalize(r.err)))
    return seen


def test_lifecycle_outputs(dy, dk, cleanup):
    expected = _lifecycle(dk, cleanup)
    got = _lifecycle(dy, cleanup)
    for e, g in zip(expected, got):
        if e and isinstance(e, tuple) and e[0] == ("top",):
            # ps columns of a live process: compare the header and the command only
            assert g[1] == e[1] and g[2].splitlines()[0] == e[2].splitlines()[0], (g, e)
            assert g[2].split()[-2:] == e[2].split()[-2:], (g, e)
            continue
        assert g == e


def test_volumes(dy, dk, daemon):
    for runner, name in ((dy, "vol-dy"), (dk, "vol-dk")):
        r = runner("volume", "create", "--label", "k=v", name)
        assert (r.rc, r.out) == (0, name + "\n")
    same(dy, dk, "volume", "ls", "--filter", "label=k=v")
    same(dy, dk, "volume", "ls", "-q", "--filter", "label=k")
    same(dy, dk, "volume", "ls", "--format", "{{.Name}} {{.Driver}} {{.Labels}} {{.Label \"k\"}}",
         "--filter", "label=k")
    same(dy, dk, "volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels}}", "vol-dy", "vol-dk")
    same(dy, dk, "volume", "inspect", "nope")
    same(dy, dk, "volume", "rm", "nope")
    assert dy("volume", "rm", "vol-dy").out == "vol-dy\n"
    assert dk("volume", "rm", "vol-dk").out == "vol-dk\n"
