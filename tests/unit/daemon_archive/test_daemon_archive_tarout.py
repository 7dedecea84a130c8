"""Archives of container paths (tarout): dockerd's layout for a file, a directory, ``dir/.``, a
symlink, the root and an export; mounts, hard links, FIFOs and sockets."""
import io
import os
import socket
import tarfile

import pytest

from dockyard.daemon.containers import pathstat, tarout
from dockyard.daemon.containers.securefs import ContainerFS


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "rootfs"
    (r / "d" / "sub").mkdir(parents=True)
    (r / "d" / "f").write_text("hi\n")
    (r / "d" / "b").write_text("bee")
    (r / "d" / "sub" / "x").write_text("x")
    (r / "etc").mkdir()
    (r / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    os.symlink("/", r / "evil")
    os.symlink("../../../../etc", r / "evil2")
    return r


def archive(fs, path):
    """The members of GET archive?path=path: [(name, type, extra)]."""
    req = pathstat.parse_path(path)
    src = tarout.open_source(fs, pathstat.resolve_request(fs, req), req.rebase)
    data = b"".join(src.chunks())
    assert len(data) % 512 == 0 and data.endswith(b"\0" * 1024)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        out = []
        for m in tf:
            extra = tf.extractfile(m).read() if m.isreg() else m.linkname
            out.append((m.name, m.type, extra))
        return out


def raw_names(fs, path):
    req = pathstat.parse_path(path)
    data = b"".join(tarout.open_source(fs, pathstat.resolve_request(fs, req), req.rebase).chunks())
    names = []
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        for m in tf.getmembers():
            names.append(data[m.offset:m.offset + 100].split(b"\0")[0].decode())
    return names


def test_directory_file_and_dot(root):
    with ContainerFS(str(root)) as fs:
        assert archive(fs, "/d") == [("d", tarfile.DIRTYPE, ""), ("d/b", tarfile.REGTYPE, b"bee"),
                                     ("d/f", tarfile.REGTYPE, b"hi\n"), ("d/sub", tarfile.DIRTYPE, ""),
                                     ("d/sub/x", tarfile.REGTYPE, b"x")]
        assert archive(fs, "/d/") == archive(fs, "/d")
        assert raw_names(fs, "/d")[:2] == ["d/", "d/b"]   # directories end with "/", as dockerd's
        assert raw_names(fs, "/d/.") == ["./", "./b", "./f", "./sub/", "./sub/x"]
        assert archive(fs, "/etc/passwd") == [("passwd", tarfile.REGTYPE, b"root:x:0:0::/root:/bin/sh\n")]


def test_symlinks_are_archived_as_symlinks_unless_followed(root):
    with ContainerFS(str(root)) as fs:
        assert archive(fs, "/evil") == [("evil", tarfile.SYMTYPE, "/")]
        names = [n for n, _, _ in archive(fs, "/evil2/")]   # followed (trailing slash): the container's /etc
        assert names == ["evil2", "evil2/passwd"]
        assert archive(fs, "/evil/etc/passwd")[0][2] == b"root:x:0:0::/root:/bin/sh\n"


def test_root_entries_start_with_a_slash(root):
    with ContainerFS(str(root)) as fs:
        names = raw_names(fs, "/")
    assert names[:3] == ["/", "/d/", "/d/b"]
    assert "/evil" in names and "/etc/passwd" in names


def test_export_has_no_top_entry_and_relative_names(root):
    with ContainerFS(str(root)) as fs:
        src = tarout.open_source(fs, fs.resolve("/", follow_last=True), None, cross_mounts=False)
        with tarfile.open(fileobj=io.BytesIO(b"".join(src.chunks()))) as tf:
            names = tf.getnames()
    assert names == ["d", "d/b", "d/f", "d/sub", "d/sub/x", "etc", "etc/passwd", "evil", "evil2"]


def test_walk_order_is_bytewise_depth_first(tmp_path):
    r = tmp_path / "r"
    (r / "a").mkdir(parents=True)
    (r / "a" / "z").write_text("")
    (r / "a.txt").write_text("")
    (r / "B").write_text("")
    with ContainerFS(str(r)) as fs:
        src = tarout.open_source(fs, fs.resolve("/", follow_last=True), None)
        with tarfile.open(fileobj=io.BytesIO(b"".join(src.chunks()))) as tf:
            assert tf.getnames() == ["B", "a", "a/z", "a.txt"]   # Go's filepath.Walk order


def test_hard_links_fifos_and_sockets(root):
    os.link(root / "d" / "f", root / "d" / "hard")
    os.mkfifo(root / "d" / "fifo")
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(root / "d" / "sock"))
    try:
        with ContainerFS(str(root)) as fs:
            members = {n: (t, x) for n, t, x in archive(fs, "/d")}
    finally:
        s.close()
    assert members["d/f"] == (tarfile.REGTYPE, b"hi\n")
    assert members["d/hard"] == (tarfile.LNKTYPE, "d/f")   # the first name met carries the data
    assert members["d/fifo"][0] == tarfile.FIFOTYPE   # archived without ever being opened
    assert "d/sock" not in members


def test_mounts_are_archived_from_their_sources(root, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "v.txt").write_text("volume")
    hosts = tmp_path / "hosts-file"
    hosts.write_text("127.0.0.1 localhost\n")
    (root / "data").mkdir()
    (root / "data" / "hidden").write_text("under the mount")
    (root / "etc" / "hosts").write_text("")
    with ContainerFS(str(root), [("/data", str(vol), True), ("/etc/hosts", str(hosts), True)]) as fs:
        members = {n: x for n, _, x in archive(fs, "/")}
        assert members["/data/v.txt"] == b"volume" and "/data/hidden" not in members
        assert members["/etc/hosts"] == b"127.0.0.1 localhost\n"
        assert archive(fs, "/data/.") == [(".", tarfile.DIRTYPE, ""), ("./v.txt", tarfile.REGTYPE, b"volume")]
        assert archive(fs, "/etc/hosts") == [("hosts", tarfile.REGTYPE, b"127.0.0.1 localhost\n")]
        src = tarout.open_source(fs, fs.resolve("/", follow_last=True), None, cross_mounts=False)   # export
        with tarfile.open(fileobj=io.BytesIO(b"".join(src.chunks()))) as tf:
            assert tf.extractfile("data/hidden").read() == b"under the mount"


def test_large_file_streams_in_chunks(root):
    big = os.urandom(3 * tarout.CHUNK + 123)
    (root / "big").write_bytes(big)
    with ContainerFS(str(root)) as fs:
        req = pathstat.parse_path("/big")
        chunks = list(tarout.open_source(fs, pathstat.resolve_request(fs, req), req.rebase).chunks())
    assert len(chunks) > 3 and max(len(c) for c in chunks) <= tarout.CHUNK + 1024
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tf:
        assert tf.extractfile("big").read() == big


def test_closing_early_releases_descriptors(root):
    for i in range(50):
        (root / "d" / f"n{i}").write_bytes(os.urandom(tarout.CHUNK // 8))
    before = len(os.listdir("/proc/self/fd"))
    with ContainerFS(str(root)) as fs:
        req = pathstat.parse_path("/d")
        gen = tarout.open_source(fs, pathstat.resolve_request(fs, req), req.rebase).chunks()
        next(gen)
        gen.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_header_keeps_security_capability_and_long_names():
    st = os.stat("/")
    raw = tarout.header("x" * 150, st, xattrs={"security.capability": b"\x01\x00"})
    with tarfile.open(fileobj=io.BytesIO(raw + b"\0" * 1024)) as tf:
        m = tf.getmembers()[0]
    assert m.name == "x" * 150 and m.pax_headers["SCHILY.xattr.security.capability"] == "\x01\x00"
