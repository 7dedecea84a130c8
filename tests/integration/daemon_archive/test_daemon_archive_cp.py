"""docker cp against a real dockyardd: both ways, volumes, stopped containers, dockerd's errors,
and the CVE-2018-15664 class (container-controlled symlinks, also swapped while we copy)."""
from __future__ import annotations

import io
import os
import tarfile
import threading
import time
import urllib.parse
import uuid

import pytest

from dockyard.daemon.containers.pathstat import HEADER, decode_header

pytestmark = pytest.mark.root


def name() -> str:
    return "cp" + uuid.uuid4().hex[:10]


def run(daemon, *args) -> str:
    n = name()
    daemon.docker("run", "-d", "--name", n, *args)
    return n


def tar_of(data: bytes) -> dict:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name: (tf.extractfile(m).read() if m.isreg() else m) for m in tf}


def q(path: str) -> str:
    return urllib.parse.quote(path, safe="")


def test_copy_files_and_directories_both_ways(daemon, tmp_path):
    c = run(daemon, "busybox", "sleep", "300")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "sub" / "b.txt").write_text("beta\n")
    os.symlink("a.txt", src / "link")
    daemon.docker("cp", str(src / "a.txt"), f"{c}:/tmp/")
    daemon.docker("cp", str(src), f"{c}:/srv")            # a new name: the directory becomes /srv
    daemon.docker("cp", f"{src}/.", f"{c}:/tmp/dotcopy")  # dir/. copies the contents
    ls = daemon.docker("exec", c, "sh", "-c", "cat /tmp/a.txt /srv/sub/b.txt /tmp/dotcopy/sub/b.txt; "
                                              "readlink /srv/link").stdout.decode()
    assert ls == "alpha\nbeta\nbeta\na.txt\n"
    out = tmp_path / "out"
    out.mkdir()
    daemon.docker("cp", f"{c}:/srv", str(out / "srv"))
    assert (out / "srv" / "sub" / "b.txt").read_text() == "beta\n" and os.readlink(out / "srv" / "link") == "a.txt"
    daemon.docker("cp", f"{c}:/etc/passwd", str(out))
    assert (out / "passwd").read_text().startswith("root:")
    members = tar_of(daemon.docker("cp", f"{c}:/srv/.", "-").stdout)
    assert set(members) == {".", "./a.txt", "./link", "./sub", "./sub/b.txt"}


def test_volumes_and_stopped_containers(daemon, tmp_path):
    c = run(daemon, "-v", f"{name()}:/data", "busybox", "sh", "-c", "echo vol > /data/v.txt; sleep 300")
    time.sleep(0.3)
    assert daemon.docker("cp", f"{c}:/data/v.txt", "-").stdout.find(b"vol\n") > 0
    (tmp_path / "in.txt").write_text("into the volume\n")
    daemon.docker("cp", str(tmp_path / "in.txt"), f"{c}:/data/")
    assert daemon.docker("exec", c, "cat", "/data/in.txt").stdout == b"into the volume\n"
    daemon.docker("stop", "-t", "1", c)
    cid = daemon.docker("inspect", "-f", "{{.Id}}", c).stdout.decode().strip()
    rootfs = os.path.join(daemon.exec_root, "containers", cid, "rootfs")
    # a stopped container: mounted for the copy, unmounted after
    daemon.docker("cp", str(tmp_path / "in.txt"), f"{c}:/root/")
    members = tar_of(daemon.docker("cp", f"{c}:/data", "-").stdout)
    assert members["data/in.txt"] == b"into the volume\n" and members["data/v.txt"] == b"vol\n"
    assert not os.path.ismount(rootfs)
    daemon.docker("start", c)
    assert daemon.docker("exec", c, "cat", "/root/in.txt").stdout == b"into the volume\n"


def test_never_started_container(daemon, tmp_path):
    c = name()
    daemon.docker("create", "--name", c, "busybox", "cat", "/seed.txt")
    (tmp_path / "seed.txt").write_text("seeded before start\n")
    daemon.docker("cp", str(tmp_path / "seed.txt"), f"{c}:/")
    daemon.docker("start", "-a", c)
    assert daemon.docker("logs", c).stdout == b"seeded before start\n"


def test_symlinks_pointing_out_resolve_inside_the_container(daemon, tmp_path):
    c = run(daemon, "busybox", "sh", "-c",
            "echo container-secret > /etc/shadow; ln -s / /evil; ln -s ../../../../etc /evil2; sleep 300")
    time.sleep(0.3)
    with open("/etc/shadow", "rb") as f:
        host_shadow = f.read()
    out = tmp_path / "out"
    out.mkdir()
    daemon.docker("cp", f"{c}:/evil/etc/shadow", str(out / "s1"))
    daemon.docker("cp", f"{c}:/evil2/shadow", str(out / "s2"))
    assert (out / "s1").read_bytes() == (out / "s2").read_bytes() == b"container-secret\n" != host_shadow
    marker = "dyarch-" + uuid.uuid4().hex
    (tmp_path / marker).write_text("written inside\n")
    daemon.docker("cp", str(tmp_path / marker), f"{c}:/evil/tmp/")
    daemon.docker("cp", str(tmp_path / marker), f"{c}:/evil2/")
    assert daemon.docker("exec", c, "cat", f"/tmp/{marker}", f"/etc/{marker}").stdout == b"written inside\n" * 2
    assert not os.path.exists(f"/tmp/{marker}") and not os.path.exists(f"/etc/{marker}")
    st = decode_header(daemon.request("HEAD", f"/containers/{c}/archive?path=/evil")[1][HEADER.lower()])
    assert (st["name"], st["linkTarget"], st["mode"]) == ("evil", "/", 134218239)


def test_symlink_swapped_while_copying(daemon):
    """CVE-2018-15664: the container keeps swapping /w between a directory and a symlink to "/"
    while the host reads /w/etc/shadow and writes into /w/tmp: only the container's files are
    ever read or written."""
    c = run(daemon, "busybox", "sh", "-c", "echo container-secret > /etc/shadow; "
                                           "while :; do rm -rf /w; mkdir /w; rm -rf /w; ln -s / /w; done")
    with open("/etc/shadow", "rb") as f:
        host_shadow = f.read()
    marker = "dyarch-race-" + uuid.uuid4().hex
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo(marker)
        ti.size = 2
        tf.addfile(ti, io.BytesIO(b"x\n"))
    seen, put_status = set(), set()
    deadline = time.monotonic() + 4
    reads = 0
    while time.monotonic() < deadline:
        status, _, body = daemon.request("GET", f"/containers/{c}/archive?path={q('/w/etc/shadow')}")
        reads += 1
        if status == 200:
            seen.add(tar_of(body)["shadow"])
        else:
            seen.add(status)
        status, _, _ = daemon.request("PUT", f"/containers/{c}/archive?path={q('/w/tmp')}", buf.getvalue())
        put_status.add(status)
    assert host_shadow not in seen
    assert b"container-secret\n" in seen, seen   # the race was really on
    assert not os.path.exists(f"/tmp/{marker}")
    assert put_status <= {200, 400, 404}
    assert reads > 20


def test_dockerd_errors_and_headers(daemon, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    c = run(daemon, "-v", f"{ro}:/ro:ro", "busybox", "sh", "-c", "ln -s /ro /tmp/to-ro; sleep 300")
    time.sleep(0.3)
    status, _, body = daemon.request("GET", f"/containers/{c}/archive?path=/nonexist")
    assert (status, body) == (404, b'{"message":"Could not find the file /nonexist in container ' + c.encode() + b'"}\n')
    status, _, body = daemon.request("GET", f"/containers/{c}/archive?path=")
    assert (status, body) == (400, b'{"message":"bad parameter: pathcannot be empty"}\n')
    status, hdrs, body = daemon.request("HEAD", f"/containers/{c}/archive?path=/tmp")
    st = decode_header(hdrs[HEADER.lower()])
    assert status == 200 and body == b"" and (st["name"], st["mode"], st["linkTarget"]) == ("tmp", 2148532735, "")
    one = io.BytesIO()
    with tarfile.open(fileobj=one, mode="w") as tf:
        tf.addfile(tarfile.TarInfo("empty"))
    for path, want in (("/etc/passwd", (400, "extraction point is not a directory")),
                       ("/nope", (404, f"Could not find the file /nope in container {c}")),
                       ("/tmp/to-ro", (400, "mounted volume is marked read-only")),
                       ("/ro", (400, "mounted volume is marked read-only"))):
        status, _, body = daemon.request("PUT", f"/containers/{c}/archive?path={q(path)}", one.getvalue())
        assert (status, body) == (want[0], f'{{"message":"{want[1]}"}}\n'.encode()), path
    status, _, body = daemon.request("PUT", f"/containers/{c}/archive?path=/tmp", os.urandom(2048))
    assert status == 400 and b"invalid tar" in body
    assert os.listdir(ro) == []
    r = run(daemon, "--read-only", "busybox", "sleep", "300")
    status, _, body = daemon.request("PUT", f"/containers/{r}/archive?path=/tmp", one.getvalue())
    assert (status, body) == (400, b'{"message":"container rootfs is marked read-only"}\n')


def test_copy_uid_gid(daemon, tmp_path):
    c = name()
    daemon.docker("create", "--name", c, "--user", "nobody", "busybox", "true")
    f = tmp_path / "owned.txt"
    f.write_text("x")
    os.chown(f, 1234, 1234)
    daemon.docker("cp", str(f), f"{c}:/tmp/")
    daemon.docker("cp", "-a", str(f), f"{c}:/root/")
    with tarfile.open(fileobj=io.BytesIO(daemon.docker("cp", f"{c}:/tmp/owned.txt", "-").stdout)) as tf:
        assert (tf.getmembers()[0].uid, tf.getmembers()[0].gid) == (1234, 1234)   # the archive's owner
    with tarfile.open(fileobj=io.BytesIO(daemon.docker("cp", f"{c}:/root/owned.txt", "-").stdout)) as tf:
        assert (tf.getmembers()[0].uid, tf.getmembers()[0].gid) == (65534, 65534)  # the container's "nobody"


def test_concurrent_copies_of_a_stopped_container(daemon):
    c = name()
    daemon.docker("create", "--name", c, "busybox", "true")
    results = []

    def get():
        results.append(daemon.request("GET", f"/containers/{c}/archive?path=/bin")[0])

    threads = [threading.Thread(target=get) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 6
    cid = daemon.docker("inspect", "-f", "{{.Id}}", c).stdout.decode().strip()
    assert not os.path.ismount(os.path.join(daemon.exec_root, "containers", cid, "rootfs"))
