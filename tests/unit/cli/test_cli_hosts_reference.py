"""Daemon discovery (-H, DOCKYARD_HOST, DOCKER_HOST, default) and image references."""
from __future__ import annotations

import pytest

from dockyard.cli.errors import CLIError
from dockyard.cli.hosts import DEFAULT_HOST, parse_host, resolve
from dockyard.cli.reference import RefError, parse


class Opts:
    tls = tlsverify = False
    tlscacert = tlscert = tlskey = ""


@pytest.mark.parametrize("flags,env,want", [
    ([], {}, DEFAULT_HOST),
    ([], {"DOCKER_HOST": "unix:///d.sock"}, "unix:///d.sock"),
    ([], {"DOCKER_HOST": "unix:///d.sock", "DOCKYARD_HOST": "unix:///y.sock"}, "unix:///y.sock"),
    (["unix:///h.sock"], {"DOCKER_HOST": "unix:///d.sock", "DOCKYARD_HOST": "unix:///y.sock"}, "unix:///h.sock"),
    (["tcp://10.0.0.1:2375"], {}, "tcp://10.0.0.1:2375"),
    (["10.0.0.1"], {}, "tcp://10.0.0.1:2375"),
    (["tcp://:4243"], {}, "tcp://localhost:4243"),
    (["unix://"], {}, DEFAULT_HOST),
])
def test_resolve(flags, env, want):
    assert resolve(flags, Opts(), env).url == want


def test_tls_defaults_and_errors(tmp_path):
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    ep = resolve(["tcp://h"], Opts(), {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path)})
    assert (ep.port, ep.tls.verify, ep.tls.ca, ep.tls.key) == (2376, True, str(tmp_path / "ca.pem"),
                                                             str(tmp_path / "key.pem"))
    assert ep.http_host == "h:2376" and parse_host("unix:///x").http_host == "api.moby.localhost"
    with pytest.raises(CLIError, match="Specify only one -H"):
        resolve(["a", "b"], Opts(), {})
    for bad in ("ssh://x", "tcp://h:port", "tcp://h:70000"):
        with pytest.raises(CLIError, match="Invalid bind address format"):
            parse_host(bad)


@pytest.mark.parametrize("s,full,familiar", [
    ("busybox", "docker.io/library/busybox", "busybox"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("user/app", "docker.io/user/app", "user/app"),
    ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t"),
    ("localhost/x", "localhost/x", "localhost/x"),
    ("index.docker.io/library/alpine", "docker.io/library/alpine", "alpine"),
    ("busybox@sha256:" + "a" * 64, "docker.io/library/busybox@sha256:" + "a" * 64, "busybox@sha256:" + "a" * 64),
])
def test_reference(s, full, familiar):
    r = parse(s)
    assert (r.full(), r.familiar()) == (full, familiar)


def test_reference_defaults_and_errors():
    r = parse("busybox").with_default_tag()
    assert (r.familiar(), r.familiar_name(), r.api_tag()) == ("busybox:latest", "busybox", "latest")
    for bad, msg in (("Bad:Name", "invalid reference format: repository name (library/Bad) must be lowercase"),
                     ("a b", "invalid reference format"), ("", "invalid reference format"),
                     ("a" * 64, f"invalid repository name ({'a' * 64}), cannot specify 64-byte hexadecimal strings")):
        with pytest.raises(RefError) as e:
            parse(bad)
        assert str(e.value) == msg
