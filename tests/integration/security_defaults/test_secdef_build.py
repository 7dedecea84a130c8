"""Hostile builds through the daemon's classic builder: build containers are as confined as any
other, a Dockerfile cannot reach outside its context (by path or by symlink), a crafted context
tar writes nothing outside, and garbage Dockerfiles get an error."""
import io
import json
import os
import shutil
import subprocess
import tarfile
import uuid

import pytest

from secdef_images import entry, layer
from secdef_support import parse_probe, request

pytestmark = pytest.mark.root
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="module", autouse=True)
def builder_present():
    if not os.path.isdir(os.path.join(REPO, "dockyard", "build", "engine")):
        pytest.skip("the builder (dockyard/build/engine) is not there yet")


def build(d, ctx, *args, timeout=90):
    """The Docker CLI's classic builder against the daemon."""
    return subprocess.run(["docker", "build", "--no-cache", *args, str(ctx)], env=dict(d.env, DOCKER_BUILDKIT="0"),
                          capture_output=True, text=True, timeout=timeout)


def test_build_containers_are_confined(d, probe, tmp_path):
    shutil.copy(probe, tmp_path / "probe")
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY probe /probe\nRUN /probe battery\n")
    out = build(d, tmp_path, "-t", "secdef-build-battery")
    assert out.returncode == 0, out.stderr
    res = parse_probe(out.stdout)
    for attack in ("mount-tmpfs", "init_module", "open_by_handle_at", "unshare-user", "keyctl", "bpf",
                   "settimeofday", "sethostname", "open-dev-mem", "socket-alg"):
        assert res.get(attack) == "EPERM", (attack, res.get(attack))
    assert res["kill-outside"] == "ESRCH"


def test_copy_outside_the_context_refused(d, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (tmp_path / "outside").write_text("secret\n")
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY ../outside /x\n")
    out = build(d, ctx, "-t", "secdef-build-outside")
    assert out.returncode != 0 and "Traceback" not in out.stderr + out.stdout
    assert d.ping()


def test_context_symlinks_never_reach_the_host(d, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    os.symlink("/etc/shadow", ctx / "leak")
    os.symlink("/etc", ctx / "leakdir")
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY leak /x\nCOPY leakdir/ /y/\n")
    out = build(d, ctx, "-t", "secdef-build-symlink")
    with open("/etc/shadow") as f:
        shadow = f.read()
    if out.returncode == 0:
        got = d.docker("run", "--rm", "secdef-build-symlink", "sh", "-c", "cat /x /y/shadow 2>/dev/null; true").stdout
        assert shadow.splitlines()[0] not in got
    else:
        assert "Traceback" not in out.stderr + out.stdout and shadow.splitlines()[0] not in out.stdout + out.stderr


def test_crafted_context_tar_writes_nothing_outside(d):
    marker = "dy-escape-" + uuid.uuid4().hex[:12]
    ctx = layer(entry("Dockerfile", data=b"FROM busybox\nCOPY . /c\n"),
                entry(f"../../../../../../tmp/{marker}", data=b"x"),
                entry(f"/tmp/{marker}-abs", data=b"x"),
                entry("up", type=tarfile.SYMTYPE, linkname="../../../../../../tmp"),
                entry(f"up/{marker}-via-link", data=b"x"))
    status, _, body = request(d.sock, "POST", "/build?t=secdef-build-tar&nocache=1", ctx, "application/x-tar",
                              timeout=60)
    assert status < 500 or json.loads(body).get("message")
    leaked = [p for p in (f"/tmp/{marker}", f"/tmp/{marker}-abs", f"/tmp/{marker}-via-link") if os.path.lexists(p)]
    for p in leaked:
        os.unlink(p)
    assert not leaked
    assert d.ping()


@pytest.mark.parametrize("dockerfile", [
    os.urandom(2000),
    b"FROM busybox\nRUN " + b"x" * (2 << 20) + b"\n",
    b"FROM busybox\nNOTANINSTRUCTION foo\n",
    b"FROM\n",
    b"\x00\x00\x00",
    b"FROM busybox\nARG " + b"A=${A}" * 20000 + b"\n",
    b"FROM busybox\n" + b"LABEL a=b\n" * 300,
])
def test_garbage_dockerfiles_get_an_error(d, dockerfile):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("Dockerfile")
        ti.size = len(dockerfile)
        tf.addfile(ti, io.BytesIO(dockerfile))
    status, _, body = request(d.sock, "POST", "/build?t=secdef-build-garbage&nocache=1", buf.getvalue(),
                              "application/x-tar", timeout=60)
    assert status < 500, body[:300]
    if status == 200:  # the error, if any, is in the JSON message stream
        for line in body.splitlines():
            if line.strip():
                doc = json.loads(line)
                assert "Traceback" not in json.dumps(doc)
    assert d.ping()
