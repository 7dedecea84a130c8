"""cp in both directions, with docker's path rules; each case is run by both CLIs and the results
(file trees in the container or on the host) must be the same."""
from __future__ import annotations

import io
import os
import tarfile

import pytest

from cli_helpers import normalize


def _err(text: str) -> str:
    """stderr without the Docker CLI's occasional logrus noise ("Can't add file … to tar: … closed pipe")."""
    return "".join(line for line in normalize(text).splitlines(True) if not line.startswith('time="'))


def tree(root: str) -> list[tuple]:
    out = []
    for dirpath, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            link = os.readlink(p) if os.path.islink(p) else ""
            out.append((rel, oct(st.st_mode), st.st_size if os.path.isfile(p) and not link else 0, link))
    return sorted(out)


def ctr_tree(dk, ctr: str, path: str) -> list[tuple]:
    """What is at ``path`` in the container, read with the Docker CLI (independent of ours)."""
    r = dk("cp", f"{ctr}:{path}", "-", binary=True)
    if r.rc != 0:
        return [("<error>", r.rc)]
    with tarfile.open(fileobj=io.BytesIO(r.out)) as tf:
        return sorted((m.name.split("/", 1)[1] if "/" in m.name else "", m.type, m.mode, m.size, m.linkname)
                      for m in tf.getmembers())


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    d = tmp_path_factory.mktemp("cp-src")
    s = d / "src"
    (s / "sub").mkdir(parents=True)
    (s / "a.txt").write_text("hello\n")
    (s / "sub" / "b.bin").write_bytes(os.urandom(70000))
    os.chmod(s / "sub" / "b.bin", 0o640)
    os.symlink("a.txt", s / "lnk")
    os.symlink("/etc/passwd", s / "abs-lnk")
    return s


@pytest.fixture(scope="module")
def ctrs(dk, daemon):
    names = ["cp-dk", "cp-dy"]
    for n in names:
        assert dk("run", "-d", "--name", n, "busybox", "sleep", "600").rc == 0
    yield dict(zip(("docker", "dockyard"), names))
    dk("rm", "-f", *names)


TO_CONTAINER = [
    ("{src}", "/tmp/"), ("{src}", "/tmp/newdir"), ("{src}/.", "/tmp/dotdst"), ("{src}/a.txt", "/tmp/f.txt"),
    ("{src}/a.txt", "/tmp/"), ("{src}/a.txt", "/tmp/nodir/"), ("{src}", "/etc/hostname"),
    ("{src}/lnk", "/tmp/lnk-copy"), ("{src}/nope", "/tmp/"), ("{src}/a.txt", "/nodir/x"),
]


@pytest.mark.parametrize("source,dest", TO_CONTAINER)
def test_cp_to_container(dy, dk, ctrs, src, source, dest):
    results = []
    for which, runner in (("docker", dk), ("dockyard", dy)):
        ctr = ctrs[which]
        dk("exec", ctr, "rm", "-rf", "/tmp/src", "/tmp/newdir", "/tmp/dotdst", "/tmp/f.txt", "/tmp/a.txt",
           "/tmp/lnk-copy")
        r = runner("cp", source.format(src=src), f"{ctr}:{dest}")
        results.append((r.rc, _err(r.err.replace(ctr, "CTR")), ctr_tree(dk, ctr, "/tmp")))
    assert results[1] == results[0]


FROM_CONTAINER = [
    ("/etc", "existing"), ("/etc", "new"), ("/etc/.", "new2"), ("/etc/passwd", "file"),
    ("/etc/passwd", "existing"), ("/etc", "existing/file-in/"), ("/nope", "x"), ("/bin/sh", "sh"),
]


@pytest.mark.parametrize("follow", [False, True])
@pytest.mark.parametrize("source,dest", FROM_CONTAINER)
def test_cp_from_container(dy, dk, ctrs, tmp_path, source, dest, follow):
    results = []
    for which, runner in (("docker", dk), ("dockyard", dy)):
        base = tmp_path / which
        (base / "existing").mkdir(parents=True)
        flags = ["-L"] if follow else []
        r = runner("cp", *flags, f"{ctrs[which]}:{source}", str(base / dest))
        results.append((r.rc, _err(r.err.replace(ctrs[which], "CTR").replace(str(base), "BASE")), tree(base)))
    assert results[1] == results[0]


def test_cp_streams(dy, dk, ctrs, src, tmp_path):
    r = dy("cp", f"{ctrs['dockyard']}:/etc/passwd", "-", binary=True)
    with tarfile.open(fileobj=io.BytesIO(r.out)) as tf:
        assert [m.name for m in tf.getmembers()] == ["passwd"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"from stdin\n"
        ti = tarfile.TarInfo("streamed.txt")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    r = dy("cp", "-", f"{ctrs['dockyard']}:/tmp", input=buf.getvalue(), binary=True)
    assert r.rc == 0, r
    assert dk("exec", ctrs["dockyard"], "cat", "/tmp/streamed.txt").out == "from stdin\n"
    a = dy("cp", "-", f"{ctrs['dockyard']}:/etc/passwd", input=buf.getvalue(), binary=True)
    b = dk("cp", "-", f"{ctrs['docker']}:/etc/passwd", input=buf.getvalue(), binary=True)
    assert a.rc == b.rc == 1
    assert a.err.replace(b"cp-dy", b"X").replace(b"dockyard", b"docker") == b.err.replace(b"cp-dk", b"X")
