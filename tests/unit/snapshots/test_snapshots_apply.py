"""Applying ordinary layers onto a directory (copying-snapshotter whiteouts)."""
from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

from dockyard.snapshots.apply import LayerError, Limits, apply_layer, apply_stream
from snap_tarbuild import MTIME, compress, d, diff_id, f, hard, sym, tar, write_blob

ROOT = os.geteuid() == 0


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "root"
    r.mkdir()
    return r


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_apply_returns_diff_id_of_uncompressed_tar(root, compression):
    raw = tar(d("etc"), f("etc/hostname", b"box\n"))
    res = apply_layer(io.BytesIO(compress(raw, compression)), root)
    assert res.diff_id == diff_id(raw)
    assert res.size == len(raw)
    assert res.entries == 2
    assert (root / "etc" / "hostname").read_bytes() == b"box\n"


def test_diff_id_covers_trailing_padding(root):
    raw = tar(f("a", b"1")) + b"\0" * 4096  # bytes after the end marker still count
    assert apply_layer(io.BytesIO(raw), root).diff_id == diff_id(raw)


def test_multi_member_gzip(root):
    import gzip
    raw = tar(f("a", b"hello" * 1000))
    blob = gzip.compress(raw[:3000]) + gzip.compress(raw[3000:])
    assert apply_layer(io.BytesIO(blob), root).diff_id == diff_id(raw)
    assert (root / "a").read_bytes() == b"hello" * 1000


def test_blob_path_and_expected_diff_id(tmp_path, root):
    raw = tar(f("x", b"x"))
    path, did = write_blob(tmp_path / "blob", raw, "zstd")
    assert apply_layer(path, root, expected_diff_id=did).diff_id == did
    other = tmp_path / "root2"
    other.mkdir()
    with pytest.raises(LayerError, match="diff_id mismatch"):
        apply_layer(path, other, expected_diff_id="sha256:" + "0" * 64)
    assert not other.exists()


def test_files_dirs_modes_and_times(root):
    raw = tar(
        d("bin", mode=0o755, mtime=1000),
        f("bin/su", b"#!/bin/true\n", mode=0o4755, mtime=2000),
        f("bin/sg", b"x", mode=0o2711, mtime=2001),
        d("tmp", mode=0o1777, mtime=3000),
        f("etc/shadow", b"root:*:", mode=0o640, mtime=4000),  # parent not listed
        sym("bin/sh", "busybox", mtime=5000),
        f("bin/busybox", b"BB", mode=0o755, mtime=6000),
    )
    apply_layer(io.BytesIO(raw), root)
    st = os.lstat(root / "bin" / "su")
    assert stat.S_IMODE(st.st_mode) == 0o4755 and st.st_mtime == 2000
    assert stat.S_IMODE(os.lstat(root / "bin" / "sg").st_mode) == 0o2711
    st = os.lstat(root / "tmp")
    assert stat.S_IMODE(st.st_mode) == 0o1777 and st.st_mtime == 3000
    # directory times are set at the end, after the files inside were written
    assert os.lstat(root / "bin").st_mtime == 1000
    # an implicit parent gets 0755
    assert stat.S_IMODE(os.lstat(root / "etc").st_mode) == 0o755
    assert stat.S_IMODE(os.lstat(root / "etc" / "shadow").st_mode) == 0o640
    assert os.readlink(root / "bin" / "sh") == "busybox"
    assert os.lstat(root / "bin" / "sh").st_mtime == 5000  # symlink's own time


def test_fractional_pax_mtime_and_atime(root):
    ti, data = f("a", b"1")
    ti.pax_headers = {"mtime": "1600000000.123456789", "atime": "1700000000.5"}
    apply_layer(io.BytesIO(tar((ti, data))), root)
    st = os.lstat(root / "a")
    assert st.st_mtime_ns == 1600000000_123456789
    assert st.st_atime_ns == 1700000000_500000000


@pytest.mark.skipif(not ROOT, reason="setting owners needs root")
def test_numeric_owners_kept(root):
    raw = tar(d("home", uid=1000, gid=1000), f("home/f", b"x", uid=1234, gid=5678, uname="nobody-here"),
              sym("home/l", "f", uid=42, gid=43))
    apply_layer(io.BytesIO(raw), root)
    assert (os.lstat(root / "home").st_uid, os.lstat(root / "home").st_gid) == (1000, 1000)
    st = os.lstat(root / "home" / "f")
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    st = os.lstat(root / "home" / "l")
    assert (st.st_uid, st.st_gid) == (42, 43)


@pytest.mark.skipif(not ROOT, reason="setuid after chown needs root")
def test_setuid_survives_chown(root):
    apply_layer(io.BytesIO(tar(f("su", b"x", mode=0o6755, uid=1000, gid=1000))), root)
    assert stat.S_IMODE(os.lstat(root / "su").st_mode) == 0o6755


def test_hardlinks_within_layer(root):
    raw = tar(f("a/file", b"data", mode=0o700), hard("a/link", "a/file"), hard("b/link2", "/a/file"))
    apply_layer(io.BytesIO(raw), root)
    st = os.lstat(root / "a" / "file")
    assert st.st_nlink == 3
    assert os.lstat(root / "a" / "link").st_ino == st.st_ino
    assert os.lstat(root / "b" / "link2").st_ino == st.st_ino  # absolute name taken inside the root


def test_hardlink_to_symlink_links_the_symlink(root):
    raw = tar(sym("s", "/nonexistent"), hard("h", "s"))
    apply_layer(io.BytesIO(raw), root)
    assert os.path.islink(root / "h") and os.readlink(root / "h") == "/nonexistent"


def test_duplicates_later_wins(root):
    raw = tar(f("x", b"first"), f("x", b"second"), d("y"), f("y/inner", b"i"), f("y", b"now a file"),
              f("z", b"file"), d("z"), f("z/inner", b"in dir"), d("m", mode=0o700), d("m", mode=0o711))
    apply_layer(io.BytesIO(raw), root)
    assert (root / "x").read_bytes() == b"second"
    assert (root / "y").read_bytes() == b"now a file"
    assert (root / "z" / "inner").read_bytes() == b"in dir"
    assert stat.S_IMODE(os.lstat(root / "m").st_mode) == 0o711


def test_existing_symlink_is_replaced_not_followed(tmp_path, root):
    outside = tmp_path / "outside"
    outside.write_bytes(b"keep")
    os.symlink(outside, root / "x")
    apply_layer(io.BytesIO(tar(f("x", b"new"))), root)
    assert outside.read_bytes() == b"keep"
    assert not os.path.islink(root / "x") and (root / "x").read_bytes() == b"new"


def test_dir_merges_with_existing_dir(root):
    (root / "etc").mkdir()
    (root / "etc" / "old").write_bytes(b"o")
    apply_layer(io.BytesIO(tar(d("etc", mode=0o700), f("etc/new", b"n"))), root)
    assert sorted(os.listdir(root / "etc")) == ["new", "old"]
    assert stat.S_IMODE(os.lstat(root / "etc").st_mode) == 0o700


def test_root_entry_is_ignored(root):
    os.chmod(root, 0o751)
    apply_layer(io.BytesIO(tar(d("./", mode=0o700), f("./a", b"1"))), root)
    assert stat.S_IMODE(os.lstat(root).st_mode) == 0o751
    assert (root / "a").read_bytes() == b"1"


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_long_names_in_every_format(root, fmt):
    name = "/".join(["directory-%02d" % i for i in range(8)]) + "/file"
    ustar = fmt == tarfile.USTAR_FORMAT  # ustar: names split in prefix/name, link targets <= 100
    link, target = ("l", "x") if ustar else ("l" * 150, name)
    apply_layer(io.BytesIO(tar(f(name, b"deep"), sym(link, target), fmt=fmt)), root)
    assert (root / name).read_bytes() == b"deep"
    assert os.readlink(root / link) == target


def test_non_utf8_names_round_trip(root):
    name = b"caf\xe9".decode("utf-8", "surrogateescape")
    ti, data = f(name, b"x")
    apply_layer(io.BytesIO(tar((ti, data), fmt=tarfile.GNU_FORMAT)), root)
    assert os.listdir(os.fsencode(root)) == [b"caf\xe9"]


def test_user_xattr_from_pax(root):
    probe = root / "probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.test", b"1")
    except OSError:
        pytest.skip("file system without user xattrs")
    probe.unlink()
    ti, data = f("a", b"1")
    ti.pax_headers = {"SCHILY.xattr.user.mime": "text/plain", "SCHILY.xattr.trusted.overlay.opaque": "y"}
    apply_layer(io.BytesIO(tar((ti, data))), root)
    assert os.getxattr(root / "a", "user.mime") == b"text/plain"
    if ROOT:  # overlay state never comes from a tar's xattrs
        assert "trusted.overlay.opaque" not in os.listxattr(root / "a")


def test_fifo(root):
    apply_layer(io.BytesIO(tar(entry_fifo("p"))), root)
    assert stat.S_ISFIFO(os.lstat(root / "p").st_mode)
    assert stat.S_IMODE(os.lstat(root / "p").st_mode) == 0o620


def entry_fifo(name):
    from snap_tarbuild import entry
    return entry(name, tarfile.FIFOTYPE, mode=0o620)


def test_apply_stream_keeps_directory_on_failure(root):
    (root / "pre").write_bytes(b"p")
    with pytest.raises(LayerError):
        apply_stream(io.BytesIO(tar(f("a", b"1"), f("../b", b"2"))), str(root))
    assert (root / "pre").exists() and (root / "a").exists()


def test_global_pax_header_ignored(root):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "hi"}) as t:
        ti, _ = f("a", b"1")
        t.addfile(ti, io.BytesIO(b"1"))
    assert apply_layer(io.BytesIO(buf.getvalue()), root).entries == 1
    assert (root / "a").read_bytes() == b"1"


def test_entry_limit_counts_entries_only(root):
    raw = tar(*[f(f"f{i}", b"") for i in range(10)])
    assert apply_layer(io.BytesIO(raw), root, limits=Limits(max_entries=10)).entries == 10


def test_mtime_of_file_written_before_utime(root):
    apply_layer(io.BytesIO(tar(f("a", b"x" * 100000))), root)
    assert os.lstat(root / "a").st_mtime == MTIME
