"""docker's (pflag's) flag syntax and its error messages."""
from __future__ import annotations

import pytest

from dockyard.cli.errors import FlagError
from dockyard.cli.flags import FlagSet, HelpRequested
from dockyard.cli.opts.container import add_flags


def fs(interspersed=True):
    f = FlagSet(interspersed)
    f.add("detach", "d", "bool")
    f.add("interactive", "i", "bool")
    f.add("tty", "t", "bool")
    f.add("env", "e", "list")
    f.add("name", None, "string")
    f.add("last", "n", "int", -1)
    f.add("memory", "m", "bytes")
    f.add("time", None, "duration")
    f.add("sig-proxy", None, "bool", True)
    return f


@pytest.mark.parametrize("argv,check", [
    (["-it", "img"], lambda o, a: o.interactive and o.tty and a == ["img"]),
    (["-dit", "img", "-x"], lambda o, a: o.detach and a == ["img", "-x"]),
    (["-eA=1", "-e", "B=2", "-e=C=3", "--env", "D=4", "--env=E=5", "img"],
     lambda o, a: o.env == ["A=1", "B=2", "C=3", "D=4", "E=5"]),
    (["-ie", "X=1", "img"], lambda o, a: o.interactive and o.env == ["X=1"]),
    (["--name=x", "img"], lambda o, a: o.name == "x"),
    (["--name", "--weird", "img"], lambda o, a: o.name == "--weird"),
    (["-n", "0x10"], lambda o, a: o.last == 16),
    (["-n5"], lambda o, a: o.last == 5),
    (["-m", "1.5g"], lambda o, a: o.memory == 1610612736),
    (["--time", "1m30s"], lambda o, a: o.time == 90.0),
    (["--sig-proxy=false", "img"], lambda o, a: o.sig_proxy is False and o.is_set("sig-proxy")),
    (["-d=false", "img"], lambda o, a: o.detach is False),
    (["img", "--", "-d"], lambda o, a: a == ["img", "--", "-d"]),
    (["--", "-d"], lambda o, a: a == ["-d"] and not o.detach),
    (["-", "x"], lambda o, a: a == ["-", "x"]),
])
def test_parse(argv, check):
    opts, args = fs(interspersed=False).parse(argv)
    assert check(opts, args), (opts, args)


def test_interspersed_flags_after_positionals():
    opts, args = fs(interspersed=True).parse(["a", "-d", "b", "--name", "x"])
    assert args == ["a", "b"] and opts.detach and opts.name == "x"
    opts, args = fs(interspersed=False).parse(["a", "-d"])
    assert args == ["a", "-d"] and not opts.detach


@pytest.mark.parametrize("argv,msg", [
    (["--bogus"], "unknown flag: --bogus"),
    (["-x"], "unknown shorthand flag: 'x' in -x"),
    (["-ix"], "unknown shorthand flag: 'x' in -ix"),
    (["--name"], "flag needs an argument: --name"),
    (["-e"], "flag needs an argument: 'e' in -e"),
    (["-n", "x"], 'invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax'),
    (["-m", "x"], "invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'"),
    (["--time", "x"], 'invalid argument "x" for "--time" flag: time: invalid duration "x"'),
    (["--sig-proxy=maybe"], 'invalid argument "maybe" for "--sig-proxy" flag: strconv.ParseBool: parsing "maybe": invalid syntax'),
])
def test_errors(argv, msg):
    with pytest.raises(FlagError) as e:
        fs().parse(argv)
    assert e.value.message == msg and e.value.status == 125


def test_help_and_defaults():
    with pytest.raises(HelpRequested):
        fs().parse(["-h"])
    opts, _ = fs().parse([])
    assert (opts.last, opts.env, opts.sig_proxy, opts.changed) == (-1, [], True, set())
    a, _ = fs().parse(["-e", "x"])
    b, _ = fs().parse([])
    assert b.env == []  # list defaults are not shared between parses


@pytest.mark.parametrize("argv,msg", [
    (["-a", "bogus"], 'invalid argument "bogus" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR'),
    (["-e", "=x"], 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x'),
    (["--mount", "type=bind"], 'invalid argument "type=bind" for "--mount" flag: target is required'),
    (["--ulimit", "nofile"], 'invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile'),
    (["--cpus", "1.0000000001"], 'invalid argument "1.0000000001" for "--cpus" flag: value is too precise'),
    (["--dns", "x"], 'invalid argument "x" for "--dns" flag: IP address is not correctly formatted: x'),
    (["--add-host", "h:x"], 'invalid argument "h:x" for "--add-host" flag: invalid IP address in add-host: "x"'),
    (["--sysctl", "kernel.foo=1"], "invalid argument \"kernel.foo=1\" for \"--sysctl\" flag: sysctl 'kernel.foo=1' is not allowed"),
])
def test_container_flag_validation(argv, msg):
    f = FlagSet(False)
    add_flags(f, run=True)
    with pytest.raises(FlagError) as e:
        f.parse(argv + ["img"])
    assert e.value.message == msg


def test_aliases():
    f = FlagSet(False)
    add_flags(f, run=True)
    opts, _ = f.parse(["--net", "host", "--net-alias", "a", "img"])
    assert opts.network == "host" and opts.network_alias == ["a"] and opts.is_set("network")
