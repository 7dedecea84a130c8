"""dockyard's network verbs print what docker's print, against the same daemon: ``network ls`` (table,
quiet, untruncated, JSON, filters), ``network inspect``, errors, ``network rm``/``prune``, ``port``."""
import pytest
from dn_support import cli, uniq

pytestmark = pytest.mark.root


def same(d, *args):
    a = cli(d, "docker", *args, check=False)
    b = cli(d, "dockyard", *args, check=False)
    assert (b.returncode, b.stdout, b.stderr) == (a.returncode, a.stdout, a.stderr), args
    return a


def test_network_verbs_print_like_docker(d):
    a, b = uniq("cmpa"), uniq("cmpb")
    d.docker("network", "create", "--label", "team=blue", "--subnet", "10.195.1.0/24", "--ip-range",
             "10.195.1.128/25", "--gateway", "10.195.1.254", "--internal", a)
    d.docker("network", "create", "-o", "com.docker.network.bridge.enable_icc=false", b)
    name = uniq("c")
    try:
        d.docker("run", "-d", "--name", name, "--network", a, "-p", "127.0.0.1::80", "--expose", "90", "busybox",
                 "sleep", "60")
        for args in (["network", "ls"], ["network", "ls", "-q"], ["network", "ls", "--no-trunc"],
                     ["network", "ls", "--format", "json"],
                     ["network", "ls", "--format", "table {{.Name}}\t{{.Internal}}\t{{.IPv6}}\t{{.Labels}}"],
                     ["network", "ls", "--format", "{{.Name}} {{.Label \"team\"}} {{.CreatedAt}}"],
                     ["network", "ls", "-f", "label=team=blue"], ["network", "ls", "-f", "type=builtin"],
                     ["network", "ls", "-f", "driver=null"], ["network", "ls", "-f", f"name={a[:6]}"],
                     ["network", "ls", "-f", "dangling=true", "-q"], ["network", "ls", "-f", "bogus=1"],
                     ["network", "inspect", a, b], ["network", "inspect", "-f", "{{.Name}} {{.Internal}}", a, "bridge"],
                     ["network", "inspect", "--format", "{{json .IPAM.Config}}", a],
                     ["network", "inspect", uniq("nope")], ["network", "rm", uniq("nope"), uniq("nope")],
                     ["network", "create", a], ["network", "create", "--subnet", "10.195.1.0/25", uniq("x")],
                     ["network", "connect", a, name], ["network", "disconnect", "bridge", name],
                     ["port", name], ["port", name, "80/tcp"], ["port", name, "90"]):
            same(d, *args)
    finally:
        d.docker("rm", "-f", name)
    # prune: dockyard's removes both (no container uses them) and says so as docker does
    out = cli(d, "dockyard", "network", "prune", "-f").stdout
    assert out.startswith("Deleted Networks:\n") and {a, b} <= set(out.split())
    assert cli(d, "docker", "network", "prune", "-f").stdout == ""
