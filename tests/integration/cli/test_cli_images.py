"""Images against the daemon and a local registry: push, pull, run's pull, login/logout, save/load,
import/export, commit, tag/rmi, prune; compared with the Docker CLI where the output is the daemon's."""
from __future__ import annotations

import json
import os
import re

import pytest

from cli_registry import REGISTRY_BIN, Registry
from cli_helpers import normalize

needs_registry = pytest.mark.skipif(not os.path.exists(REGISTRY_BIN),
                                    reason="docker-registry is not installed (Debian package docker-registry)")


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    r = Registry(str(tmp_path_factory.mktemp("cli-registry")), users={"bob": "builder"})
    if not os.path.exists(REGISTRY_BIN):
        pytest.skip("docker-registry is not installed")
    r.start()
    try:
        yield r
    finally:
        r.stop()


def _digests(text: str) -> str:
    return re.sub(r"sha256:[0-9a-f]{64}", "sha256:<digest>", normalize(text))


@needs_registry
def test_login_push_pull_logout(dy, dk, registry, cli_config):
    host = registry.host
    a = dy("login", "-u", "bob", "-p", "wrong", host)
    b = dk("login", "-u", "bob", "-p", "wrong", host)
    assert a.rc == b.rc == 1
    assert normalize(a.err) == normalize(b.err), (a, b)

    r = dy("login", "-u", "bob", "--password-stdin", host, input="builder\n")
    assert (r.rc, r.out) == (0, "Login Succeeded\n"), r
    with open(os.path.join(cli_config, "config.json")) as f:
        assert host in json.load(f)["auths"]

    for runner, repo in ((dk, "dk"), (dy, "dy")):
        assert runner("tag", "busybox", f"{host}/cli/{repo}:1").rc == 0
    a, b = dy("push", f"{host}/cli/dy:1"), dk("push", f"{host}/cli/dk:1")
    assert a.rc == b.rc == 0, (a, b)
    # docker's push to the second repository mounts the layer the first push uploaded
    assert _digests(a.out).replace("/dy", "/X") == \
        _digests(b.out).replace("Mounted from cli/dy", "Pushed").replace("/dk", "/X"), (a.out, b.out)
    assert "Pushed" in a.out and a.out.rstrip().endswith("size: " + a.out.rstrip().split("size: ")[-1])

    a, b = dy("rmi", f"{host}/cli/dy:1"), dk("rmi", f"{host}/cli/dk:1")
    assert a.rc == b.rc == 0 and a.out.startswith(f"Untagged: {host}/cli/dy:1\n")
    assert _digests(a.out).replace("/dy", "/X") == _digests(b.out).replace("/dk", "/X")
    a, b = dy("pull", f"{host}/cli/dy:1"), dk("pull", f"{host}/cli/dk:1")
    assert a.rc == b.rc == 0, (a, b)
    assert _digests(a.out).replace("/dy", "/X") == _digests(b.out).replace("/dk", "/X")
    assert a.out.endswith(f"{host}/cli/dy:1\n")

    r = dy("pull", "-q", f"{host}/cli/dy")
    assert r.rc == 1 and "not found" in r.err or "manifest unknown" in r.err, r
    a, b = dy("pull", f"{host}/cli/nothing:1"), dk("pull", f"{host}/cli/nothing:1")
    assert (a.rc, normalize(a.err)) == (b.rc, normalize(b.err))

    # run pulls a missing image, with docker's message on stderr
    assert dy("rmi", f"{host}/cli/dy:1").rc == 0
    r = dy("run", "--rm", f"{host}/cli/dy:1", "echo", "pulled-and-ran")
    assert (r.rc, r.out) == (0, "pulled-and-ran\n"), r
    assert r.err.startswith(f"Unable to find image '{host}/cli/dy:1' locally\n")
    assert "1: Pulling from cli/dy" in r.err and r.err.rstrip().endswith(f"Downloaded newer image for {host}/cli/dy:1")
    assert dy("rmi", f"{host}/cli/dy:1").rc == 0
    r = dy("run", "--rm", "--pull", "never", f"{host}/cli/dy:1", "true")
    assert r.rc == 125 and "No such image" in r.err

    r = dy("logout", host)
    assert (r.rc, r.out) == (0, f"Removing login credentials for {host}\n")
    with open(os.path.join(cli_config, "config.json")) as f:
        assert host not in json.load(f).get("auths", {})
    r = dy("push", f"{host}/cli/dk:1")  # no credentials now
    assert r.rc == 1 and "no basic auth credentials" in r.err, r
    dk("rmi", f"{host}/cli/dk:1")


def test_save_load_roundtrip(dy, dk, tmp_path):
    out = tmp_path / "bb.tar"
    r = dy("save", "-o", str(out), "busybox")
    assert r.rc == 0 and out.stat().st_size > 1000
    r = dy("save", "busybox", binary=True)
    assert r.rc == 0 and r.out[:4096].find(b"manifest.json") >= 0 or len(r.out) > 1000
    a, b = dy("load", "-i", str(out)), dk("load", "-i", str(out))
    assert (a.rc, a.out, a.err) == (b.rc, b.out, b.err) == (0, "Loaded image: busybox:latest\n", "")
    with open(out, "rb") as f:
        r = dy("load", input=f.read(), binary=True)
    assert (r.rc, r.out) == (0, b"Loaded image: busybox:latest\n")
    r = dy("load", "-i", str(tmp_path / "nope.tar"))
    assert r.rc == 1 and "no such file or directory" in r.err
    a = dy("save", "-o", "/nonexistent-dir/x.tar", "busybox")
    assert a.rc == 1 and not os.path.exists("/nonexistent-dir")


def test_export_import_commit_diff(dy, dk, tmp_path, cleanup):
    cleanup += ["exp", "exp2"]
    assert dy("run", "--name", "exp", "busybox", "sh", "-c", "echo data > /marker; rm /bin/vi").rc == 0
    a, b = dy("diff", "exp"), dk("diff", "exp")
    assert (a.rc, sorted(a.out.splitlines())) == (b.rc, sorted(b.out.splitlines())) and "A /marker" in a.out
    tar = tmp_path / "fs.tar"
    assert dy("export", "-o", str(tar), "exp").rc == 0 and tar.stat().st_size > 1000
    r = dy("import", str(tar), "cli/imported:1")
    assert r.rc == 0 and re.fullmatch(r"sha256:[0-9a-f]{64}\n", r.out), r
    with open(tar, "rb") as f:
        r = dy("import", "-c", "CMD [\"cat\", \"/marker\"]", "-", "cli/imported:2", input=f.read(), binary=True)
    assert r.rc == 0, r
    assert dy("run", "--rm", "cli/imported:1", "cat", "/marker").out == "data\n"
    assert dy("run", "--rm", "cli/imported:2").out == "data\n"
    r = dy("commit", "-m", "msg", "-c", "ENV FOO=bar", "exp", "cli/committed:1")
    assert r.rc == 0 and r.out.startswith("sha256:"), r
    assert dy("run", "--rm", "cli/committed:1", "sh", "-c", "cat /marker; echo $FOO").out == "data\nbar\n"
    for img in ("cli/imported:1", "cli/imported:2", "cli/committed:1"):
        r = dy("rmi", img)
        assert r.rc == 0 and r.out.startswith(f"Untagged: {img}\n") and "Deleted: sha256:" in r.out, r


def test_tag_rmi_prune(dy, dk):
    for runner, tag in ((dk, "cli/tagged:dk"), (dy, "cli/tagged:dy")):
        assert runner("tag", "busybox", tag).rc == 0
    a, b = dy("images", "cli/tagged"), dk("images", "cli/tagged")
    assert (a.rc, a.out) == (b.rc, b.out)
    assert len(a.out.splitlines()) == 3
    a, b = dy("rmi", "cli/tagged:dy"), dk("rmi", "cli/tagged:dk")
    assert (a.out.replace(":dy", ":X"), a.rc) == (b.out.replace(":dk", ":X"), b.rc) == ("Untagged: cli/tagged:X\n", 0)
    a, b = dy("tag", "busybox", "Bad:Name"), dk("tag", "busybox", "Bad:Name")
    assert (a.rc, normalize(a.err)) == (b.rc, normalize(b.err)), (a, b)
    for args in (("image", "prune", "-f"), ("container", "prune", "-f"), ("volume", "prune", "-f")):
        # the daemon is shared by the whole session: clear what earlier tests left, then compare
        dy(*args), dk(*args)
        a, b = dy(*args), dk(*args)
        assert (a.rc, a.out, a.err) == (b.rc, b.out, b.err), args
    r = dy("image", "prune", input="n\n")
    assert r.out == "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] "


def test_system_commands(dy, dk, cleanup):
    cleanup.append("sysc")
    assert dy("run", "-d", "--name", "sysc", "busybox", "sleep", "600").rc == 0
    for args in (("system", "df"), ("info", "--format", "{{.ServerVersion}} {{.Containers}} {{.Driver}}"),
                 ("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}"),
                 ("stats", "--no-stream", "--format", "table {{.Name}}\t{{.PIDs}}\t{{.Container}}", "sysc"),
                 ("system", "info", "--format", "{{.RegistryConfig.InsecureRegistryCIDRs}} {{.OSType}}")):
        a, b = dy(*args), dk(*args)
        assert (a.rc, a.out, a.err) == (b.rc, b.out, b.err), (args, a, b)
    a, b = dy("info"), dk("info")
    assert a.rc == b.rc == 0
    def server(text):
        # dockerd lists its runtimes from a Go map: the order changes from one request to the next
        lines = text.split("Server:", 1)[1].split("\n")
        return "\n".join(" ".join(sorted(ln.split())) if ln.strip().startswith("Runtimes:") else ln for ln in lines)
    assert server(a.out) == server(b.out)
    a, b = dy("version"), dk("version")
    assert a.rc == b.rc == 0 and "Client: Dockyard" in a.out
    assert a.out.split("\nServer:", 1)[1] == b.out.split("\nServer:", 1)[1]
    r = dy("events", "--since", "5m", "--until", "0s", "--filter", "container=sysc",
           "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
    assert r.rc == 0 and "container start sysc" in r.out.splitlines(), r
    a = dy("events", "--since", "5m", "--until", "0s", "--filter", "container=sysc")
    b = dk("events", "--since", "5m", "--until", "0s", "--filter", "container=sysc")
    assert (a.rc, a.out) == (b.rc, b.out)
