"""Extraction into a container (tarin): dockerd's Untar rules, confined to the container."""
import bz2
import gzip
import io
import lzma
import os
import tarfile

import pytest

from dockyard.daemon.containers import tarin
from dockyard.daemon.containers.securefs import ContainerFS

NOT_ROOT = {"same_owner": False}


def tar(*entries, fmt=tarfile.PAX_FORMAT) -> bytes:
    """entries: (name, kind, payload) with kind "f" (bytes), "d", "l" (symlink target), "h" (hard
    link target), "p" (fifo)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, kind, payload in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1_600_000_000
            if kind == "f":
                ti.size, ti.mode = len(payload), 0o640
                tf.addfile(ti, io.BytesIO(payload))
                continue
            ti.type, ti.mode = {"d": (tarfile.DIRTYPE, 0o750), "l": (tarfile.SYMTYPE, 0o777),
                                "h": (tarfile.LNKTYPE, 0o644), "p": (tarfile.FIFOTYPE, 0o600)}[kind]
            if kind in "lh":
                ti.linkname = payload
            tf.addfile(ti)
    return buf.getvalue()


@pytest.fixture
def root(tmp_path):
    host = tmp_path / "host"
    (host / "etc").mkdir(parents=True)
    (host / "etc" / "passwd").write_text("host passwd")
    r = host / "rootfs"
    (r / "tmp").mkdir(parents=True)
    (r / "etc").mkdir()
    (r / "etc" / "passwd").write_text("container passwd")
    return r


def put(root, dest, data, mounts=(), rootfs_writable=True, **opts):
    with ContainerFS(str(root), mounts, rootfs_writable=rootfs_writable) as fs:
        return tarin.extract(fs, dest, io.BytesIO(data), tarin.Options(**{**NOT_ROOT, **opts}))


def test_files_dirs_links_and_metadata(root):
    data = tar(("dd", "d", None), ("dd/f", "f", b"hello"), ("dd/l", "l", "f"), ("dd/h", "h", "dd/f"),
               ("dd/p", "p", None))
    assert put(root, "/tmp", data) == 5
    d = root / "tmp" / "dd"
    assert (d / "f").read_bytes() == b"hello" and os.stat(d / "f").st_mode & 0o777 == 0o640
    assert os.readlink(d / "l") == "f"
    assert os.path.samestat(os.stat(d / "h"), os.stat(d / "f"))
    assert os.path.stat.S_ISFIFO(os.lstat(d / "p").st_mode)
    assert os.stat(d).st_mode & 0o777 == 0o750
    assert os.stat(d).st_mtime == 1_600_000_000   # directory times are set last
    assert os.stat(d / "f").st_mtime == 1_600_000_000
    assert not [n for n in os.listdir(d) if n.startswith(".dockyard-cp-")]


@pytest.mark.parametrize("compress", [lambda b: b, gzip.compress, bz2.compress, lzma.compress])
def test_compressed_streams(root, compress):
    put(root, "/tmp", compress(tar(("a.txt", "f", b"A" * 5000))))
    assert (root / "tmp" / "a.txt").read_bytes() == b"A" * 5000


def test_names_cannot_leave_the_destination(root):
    for name in ("../x", "a/../../x", ".."):
        with pytest.raises(tarin.ExtractError, match="is outside of"):
            put(root, "/tmp", tar((name, "f", b"x")))
    put(root, "/tmp", tar(("/abs.txt", "f", b"abs"), ("./rel/../r.txt", "f", b"r")))
    assert (root / "tmp" / "abs.txt").read_bytes() == b"abs"   # absolute names land below the destination
    assert (root / "tmp" / "r.txt").read_bytes() == b"r"
    with pytest.raises(tarin.ExtractError, match="invalid hardlink"):
        put(root, "/tmp", tar(("h", "h", "../etc/passwd")))


def test_symlinks_in_the_archive_resolve_inside_the_container(root):
    """An archive that makes ``x -> /`` then writes ``x/etc/passwd`` writes the container's file
    (as dockerd's chrooted Untar does), never the host's."""
    put(root, "/tmp", tar(("x", "l", "/"), ("x/etc/passwd", "f", b"replaced"),
                          ("y", "l", "../../../../../etc"), ("y/new", "f", b"new")))
    assert (root / "etc" / "passwd").read_bytes() == b"replaced"
    assert (root / "etc" / "new").read_bytes() == b"new"
    assert (root.parent / "etc" / "passwd").read_text() == "host passwd"
    assert not (root.parent / "etc" / "new").exists()


def test_existing_symlink_destination_planted_by_the_container(root):
    os.symlink(str(root.parent / "etc"), root / "tmp" / "trap")   # a host path: inside it does not exist
    put(root, "/tmp", tar(("trap/f", "f", b"inside")))
    inside = root / str(root.parent / "etc").lstrip("/") / "f"
    assert inside.read_bytes() == b"inside"
    assert not (root.parent / "etc" / "f").exists()


def test_replacing_and_no_overwrite_dir_nondir(root):
    (root / "tmp" / "dir").mkdir()
    (root / "tmp" / "dir" / "inner").write_text("x")
    (root / "tmp" / "file").write_text("x")
    with pytest.raises(tarin.ExtractError, match="cannot overwrite directory"):
        put(root, "/tmp", tar(("dir", "f", b"f")), no_overwrite_dir_nondir=True)
    with pytest.raises(tarin.ExtractError, match="cannot overwrite non-directory"):
        put(root, "/tmp", tar(("file", "d", None)), no_overwrite_dir_nondir=True)
    put(root, "/tmp", tar(("dir", "f", b"now a file"), ("file", "d", None), ("file/in", "f", b"in")))
    assert (root / "tmp" / "dir").read_bytes() == b"now a file"
    assert (root / "tmp" / "file" / "in").read_bytes() == b"in"
    put(root, "/tmp", tar((".", "d", None), ("file", "d", None), ("file/in2", "f", b"merged")))
    assert sorted(os.listdir(root / "tmp" / "file")) == ["in", "in2"]   # directories merge
    with pytest.raises(tarin.ExtractError, match="cannot overwrite directory"):
        put(root, "/tmp", tar((".", "f", b"x")))


def test_a_truncated_stream_leaves_no_partial_file(root):
    data = tar(("ok.txt", "f", b"complete"), ("big.bin", "f", os.urandom(20000)))
    with pytest.raises(tarin.ExtractError, match="truncated"):
        put(root, "/tmp", data[:512 * 3 + 5000])
    assert (root / "tmp" / "ok.txt").read_bytes() == b"complete"
    assert sorted(os.listdir(root / "tmp")) == ["ok.txt"]


def test_garbage_is_a_clear_error(root):
    with pytest.raises(tarin.ExtractError, match="invalid tar"):
        put(root, "/tmp", os.urandom(3000))
    assert put(root, "/tmp", b"") == 0


def test_read_only_volume_and_rootfs_are_refused_whatever_the_path(root, tmp_path):
    ro = tmp_path / "ro-src"
    ro.mkdir()
    rw = tmp_path / "rw-src"
    rw.mkdir()
    (root / "ro").mkdir()
    (root / "rw").mkdir()
    os.symlink("/ro", root / "tmp" / "to-ro")   # planted by the container
    mounts = [("/ro", str(ro), False), ("/rw", str(rw), True)]
    for name in ("to-ro/f", "to-ro/newdir/f"):   # not even a parent directory is made in it
        with pytest.raises(tarin.ReadOnlyError, match="mounted volume is marked read-only"):
            put(root, "/tmp", tar((name, "f", b"x")), mounts)
    assert os.listdir(ro) == []
    put(root, "/rw", tar(("ok", "f", b"y")), mounts, rootfs_writable=False)
    assert (rw / "ok").read_bytes() == b"y"
    with pytest.raises(tarin.ReadOnlyError, match="container rootfs is marked read-only"):
        put(root, "/rw", tar(("sub", "l", "/tmp"), ("sub/f", "f", b"x")), mounts, rootfs_writable=False)
    assert not (root / "tmp" / "f").exists()


def test_a_file_mount_is_not_a_directory_to_extract_into(root, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "hosts").write_text("127.0.0.1 localhost\n")
    (root / "etc" / "hosts").write_text("")
    mounts = [("/etc/hosts", str(files / "hosts"), True)]
    for name in ("etc/hosts/x", "etc/hosts/sub/x"):
        with pytest.raises(tarin.ExtractError, match="not a directory"):
            put(root, "/", tar((name, "f", b"x")), mounts)
    assert os.listdir(files) == ["hosts"]   # nothing written beside the mount's source


def test_hard_link_across_mounts_is_refused(root, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "v").write_text("v")
    (root / "data").mkdir()
    with pytest.raises(OSError) as e:
        put(root, "/", tar(("tmp/h", "h", "data/v")), [("/data", str(vol), True)])
    assert e.value.errno == 18   # EXDEV, as between two mounts in the container
    assert not (root / "tmp" / "h").exists()


def test_entry_on_a_mount_point(root, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    (root / "data").mkdir()
    mounts = [("/data", str(vol), True)]
    put(root, "/", tar(("data", "d", None), ("data/x", "f", b"in volume")), mounts)
    assert (vol / "x").read_bytes() == b"in volume" and os.stat(vol).st_mode & 0o777 == 0o750
    with pytest.raises(OSError, match="busy"):
        put(root, "/", tar(("data", "f", b"replace the mount point")), mounts)
    (root / "outer" / "inner").mkdir(parents=True)
    with pytest.raises(OSError, match="mount point is below"):
        put(root, "/", tar(("outer", "f", b"x")), [("/outer/inner", str(vol), True)])
    assert (root / "outer" / "inner").is_dir()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_owners_from_the_archive_or_the_container_user(root):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("owned")
        ti.uid, ti.gid, ti.size = 1234, 5678, 1
        tf.addfile(ti, io.BytesIO(b"x"))
    with ContainerFS(str(root)) as fs:
        tarin.extract(fs, "/tmp", io.BytesIO(buf.getvalue()))
        st = os.stat(root / "tmp" / "owned")
        assert (st.st_uid, st.st_gid) == (1234, 5678)
        tarin.extract(fs, "/tmp", io.BytesIO(buf.getvalue()), tarin.Options(chown=(42, 43)))
        st = os.stat(root / "tmp" / "owned")
        assert (st.st_uid, st.st_gid) == (42, 43)
