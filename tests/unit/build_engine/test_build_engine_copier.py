"""Writing COPY/ADD sources into a rootfs directory: Docker's destination rules, owners, modes,
archives, and destinations that symlinks in the image point elsewhere."""
import bz2
import gzip
import io
import lzma
import os
import tarfile

import pytest

from dockyard.build.engine import copier
from dockyard.build.engine.chown import resolve_chown
from dockyard.build.engine.copyplan import plan
from dockyard.build.engine.errors import CopyError
from dockyard.build.engine.sources import SourceTree

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="files are written owned by root, as dockerd does")


@pytest.fixture
def ctx(tmp_path):
    r = tmp_path / "ctx"
    (r / "dir" / "sub").mkdir(parents=True)
    (r / "dir" / "one.txt").write_text("one")
    (r / "dir" / "sub" / "two.txt").write_text("two")
    os.symlink("one.txt", r / "dir" / "ln")
    (r / "file.txt").write_text("file")
    os.chmod(r / "file.txt", 0o640)
    os.utime(r / "file.txt", (1500000000, 1500000000))
    return SourceTree(str(r), None)


@pytest.fixture
def rootfs(tmp_path):
    r = tmp_path / "rootfs"
    (r / "etc").mkdir(parents=True)
    (r / "existing").mkdir()
    (r / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
    (r / "etc" / "group").write_text("root:x:0:\nstaff:x:50:\napp:x:1001:\n")
    os.symlink("/existing", r / "linked")          # an absolute symlink inside the image
    os.symlink("/../../../../tmp", r / "escape")   # tries to leave the rootfs
    return str(r)


def do(ctx, rootfs, srcs, dest, workdir="/", **kw):
    sources = [s for name in srcs for s in ctx.resolve("COPY", name)]
    copier.apply(rootfs, plan("COPY", sources, dest, workdir), **kw)


@root_only
def test_file_rules(ctx, rootfs):
    do(ctx, rootfs, ["file.txt"], "/new/name")                  # a file path
    do(ctx, rootfs, ["file.txt"], "/existing")                  # an existing directory: inside it
    do(ctx, rootfs, ["file.txt"], "rel/", workdir="/w")         # a trailing slash: a directory
    assert open(os.path.join(rootfs, "new/name")).read() == "file"
    assert os.path.isfile(os.path.join(rootfs, "existing/file.txt"))
    st = os.stat(os.path.join(rootfs, "w/rel/file.txt"))
    assert st.st_mode & 0o777 == 0o640 and st.st_mtime == 1500000000 and (st.st_uid, st.st_gid) == (0, 0)
    assert os.stat(os.path.join(rootfs, "new")).st_mode & 0o777 == 0o755


@root_only
def test_directory_contents_are_copied_not_the_directory(ctx, rootfs):
    do(ctx, rootfs, ["dir"], "/existing/")
    assert sorted(os.listdir(os.path.join(rootfs, "existing"))) == ["ln", "one.txt", "sub"]
    assert os.readlink(os.path.join(rootfs, "existing/ln")) == "one.txt"
    assert open(os.path.join(rootfs, "existing/sub/two.txt")).read() == "two"


@root_only
def test_symlinks_in_the_image_are_followed_inside_it(ctx, rootfs, tmp_path):
    do(ctx, rootfs, ["file.txt"], "/linked/")
    assert os.path.isfile(os.path.join(rootfs, "existing/file.txt"))
    name = "dockyard-copy-test-" + os.urandom(4).hex()
    do(ctx, rootfs, ["file.txt"], "/escape/" + name)
    assert os.path.isfile(os.path.join(rootfs, "tmp", name)) and not os.path.exists("/tmp/" + name)


@root_only
def test_chown_and_chmod(ctx, rootfs):
    owner = resolve_chown(rootfs, "app")
    assert owner == (1000, 1001)
    do(ctx, rootfs, ["dir"], "/home/app/data/", owner=owner, chmod=0o700)
    for p in ("home/app", "home/app/data", "home/app/data/one.txt", "home/app/data/sub"):
        st = os.lstat(os.path.join(rootfs, p))
        assert (st.st_uid, st.st_gid) == (1000, 1001), p
    assert os.stat(os.path.join(rootfs, "home")).st_uid == 1000   # new parents get the owner (dockerd)
    assert os.stat(os.path.join(rootfs, "home/app/data/one.txt")).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(rootfs, "home/app/data/sub")).st_mode & 0o777 == 0o700


def test_chown_lookup_rules(rootfs):
    assert resolve_chown(rootfs, "1234") == (1234, 1234)
    assert resolve_chown(rootfs, "app:staff") == (1000, 50)
    assert resolve_chown(rootfs, "5:app") == (5, 1001)
    with pytest.raises(CopyError, match="can't find uid for user nobody: no such user: nobody"):
        resolve_chown(rootfs, "nobody")
    with pytest.raises(CopyError, match="can't find gid for group nogroup"):
        resolve_chown(rootfs, "app:nogroup")
    with pytest.raises(CopyError, match="invalid chown string format"):
        resolve_chown(rootfs, "a:b:c")


@root_only
def test_copy_onto_a_file_in_the_way_is_refused(ctx, rootfs):
    open(os.path.join(rootfs, "plain"), "w").close()
    with pytest.raises(CopyError, match="is not a directory"):
        do(ctx, rootfs, ["file.txt"], "/plain/x")


def _archive(kind: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"inside\n"
        ti = tarfile.TarInfo("pkg/readme")
        ti.size, ti.uid, ti.gid, ti.mode = len(data), 7, 8, 0o600
        tf.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    return {"tar": raw, "gz": gzip.compress(raw), "bz2": bz2.compress(raw), "xz": lzma.compress(raw)}[kind]


@pytest.mark.parametrize("kind", ["tar", "gz", "bz2", "xz"])
def test_archives_are_detected_by_content(tmp_path, kind):
    p = tmp_path / f"a.{kind}"
    p.write_bytes(_archive(kind))
    assert copier.is_archive(str(p))


def test_non_archives(tmp_path):
    for name, data in (("empty", b""), ("text", b"hello" * 200), ("gz-text", gzip.compress(b"just text" * 100))):
        (tmp_path / name).write_bytes(data)
        assert not copier.is_archive(str(tmp_path / name)), name


@root_only
@pytest.mark.parametrize("kind", ["gz", "xz"])
def test_add_unpacks_archives_with_their_owners(tmp_path, rootfs, kind):
    (tmp_path / "ctx2").mkdir()
    (tmp_path / "ctx2" / f"a.{kind}").write_bytes(_archive(kind))
    tree = SourceTree(str(tmp_path / "ctx2"), None)
    sources = tree.resolve("ADD", f"a.{kind}")
    copier.apply(rootfs, plan("ADD", sources, "/opt", "/", archives={0}))
    st = os.stat(os.path.join(rootfs, "opt/pkg/readme"))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (7, 8, 0o600)
