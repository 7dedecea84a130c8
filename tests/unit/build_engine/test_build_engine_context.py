"""The context tar unpacked into a private directory: names kept inside, symlinks never followed,
contents hashed for the cache."""
import bz2
import gzip
import hashlib
import io
import os
import tarfile

import pytest

from dockyard.build.engine.context import BuildContext
from dockyard.build.engine.errors import ContextError


def make_tar(entries, compress=None) -> io.BytesIO:
    """entries: (name, kind, data/linkname, mode)"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, data, mode in entries:
            ti = tarfile.TarInfo(name)
            ti.mode = mode
            ti.mtime = 1600000000
            if kind == "file":
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "link": tarfile.LNKTYPE,
                       "fifo": tarfile.FIFOTYPE}[kind]
            if kind in ("symlink", "link"):
                ti.linkname = data
            tf.addfile(ti)
    raw = buf.getvalue()
    if compress == "gzip":
        raw = gzip.compress(raw)
    elif compress == "bzip2":
        raw = bz2.compress(raw)
    return io.BytesIO(raw)


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / "ctx")


@pytest.mark.parametrize("compress", [None, "gzip", "bzip2"])
def test_unpacks_and_hashes(root, compress):
    tar = make_tar([("Dockerfile", "file", b"FROM scratch\n", 0o644), ("src", "dir", None, 0o750),
                    ("src/a.sh", "file", b"echo a\n", 0o755), ("src/link", "symlink", "a.sh", 0o777),
                    ("src/hard", "link", "src/a.sh", 0o755), ("pipe", "fifo", None, 0o644)], compress)
    ctx = BuildContext.receive(tar, root)
    try:
        assert open(os.path.join(root, "src/a.sh")).read() == "echo a\n"
        assert os.stat(os.path.join(root, "src/a.sh")).st_mode & 0o777 == 0o755
        assert os.stat(os.path.join(root, "src")).st_mode & 0o777 == 0o750
        assert os.stat(os.path.join(root, "src/a.sh")).st_mtime == 1600000000
        assert os.readlink(os.path.join(root, "src/link")) == "a.sh"
        assert os.stat(os.path.join(root, "src/hard")).st_ino == os.stat(os.path.join(root, "src/a.sh")).st_ino
        assert not os.path.exists(os.path.join(root, "pipe"))
        info = ctx.files["src/a.sh"]
        assert info.kind == "file" and info.digest == "sha256:" + hashlib.sha256(b"echo a\n").hexdigest()
        assert ctx.files["src/link"].kind == "symlink" and ctx.files["src/hard"] == info
        assert ctx.dockerfile("Dockerfile") == ("Dockerfile", b"FROM scratch\n")
    finally:
        ctx.close()
    assert not os.path.exists(root)


@pytest.mark.parametrize("entries,needle", [
    ([("../evil", "file", b"x", 0o644)], "is outside of"),
    ([("a/../../evil", "file", b"x", 0o644)], "is outside of"),
    ([("link", "symlink", "/etc", 0o777), ("link/passwd", "file", b"x", 0o644)], "link is not a directory"),
    ([("h", "link", "/etc/passwd", 0o644)], "which is not a file the archive holds"),
])
def test_hostile_entries_are_refused_and_nothing_is_left(root, tmp_path, entries, needle):
    with pytest.raises(ContextError) as e:
        BuildContext.receive(make_tar(entries), root)
    assert needle in str(e.value)
    assert not os.path.exists(root)
    assert not os.path.exists(str(tmp_path / "evil"))


def test_absolute_names_land_inside(root):
    ctx = BuildContext.receive(make_tar([("/abs/x", "file", b"x", 0o644)]), root)
    try:
        assert os.path.isfile(os.path.join(root, "abs/x"))
    finally:
        ctx.close()


def test_corrupt_stream(root):
    with pytest.raises(ContextError) as e:
        BuildContext.receive(io.BytesIO(b"x" * 700), root)
    assert "the tar stream is corrupt" in str(e.value)


def test_dockerfile_lookup(root):
    tar = make_tar([("dockerfile", "file", b"FROM a\n", 0o644), ("sub", "dir", None, 0o755),
                    ("sub/Dockerfile.dev", "file", b"FROM b\n", 0o644), ("lnk", "symlink", "/etc/passwd", 0o777)])
    ctx = BuildContext.receive(tar, root)
    try:
        assert ctx.dockerfile("Dockerfile") == ("dockerfile", b"FROM a\n")   # dockerd's fallback
        assert ctx.dockerfile("./sub//Dockerfile.dev") == ("sub/Dockerfile.dev", b"FROM b\n")
        with pytest.raises(ContextError, match="Cannot locate specified Dockerfile: nope"):
            ctx.dockerfile("nope")
        with pytest.raises(ContextError, match="Cannot locate specified Dockerfile: lnk"):
            ctx.dockerfile("lnk")   # resolved inside the context: the host's /etc/passwd is never read
        with pytest.raises(ContextError):
            ctx.dockerfile("../x")
    finally:
        ctx.close()


def test_ignored_build_files_are_dropped(root):
    tar = make_tar([(".dockerignore", "file", b"Dockerfile\n.dockerignore\n*.log\n", 0o644),
                    ("Dockerfile", "file", b"FROM a\n", 0o644), ("keep.txt", "file", b"k", 0o644)])
    ctx = BuildContext.receive(tar, root)
    try:
        ctx.dockerfile("Dockerfile")
        ctx.drop_build_files("Dockerfile")
        assert sorted(os.listdir(root)) == ["keep.txt"] and "Dockerfile" not in ctx.files
    finally:
        ctx.close()


def test_a_stream_ending_right_after_file_data_is_complete(root, tmp_path):
    """The Docker CLI's -f outside the context sends a tar without the last padding and end blocks
    (Go's tar reader takes it); a stream cut inside file data is still refused."""
    raw = make_tar([("a", "file", b"x" * 600, 0o644), ("b", "file", b"y" * 47, 0o644)]).getvalue()
    cut = raw[:512 + 1024 + 512 + 47]   # header, data (2 blocks), header, 47 bytes: no padding, no end
    ctx = BuildContext.receive(io.BytesIO(cut), root)
    try:
        assert open(os.path.join(root, "b")).read() == "y" * 47 and ctx.files["a"].size == 600
    finally:
        ctx.close()
    with pytest.raises(ContextError, match="truncated"):
        BuildContext.receive(io.BytesIO(cut[:-10]), str(tmp_path / "other"))
