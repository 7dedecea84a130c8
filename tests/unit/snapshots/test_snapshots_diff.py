"""Diffs of the copying snapshotter: change lists, deterministic tars, round trips."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile

import pytest

from dockyard.snapshots.apply import apply_layer
from dockyard.snapshots.diff import changes, write_diff
from dockyard.snapshots.native import NativeSnapshotter
from dockyard.snapshots.unpack import unpack
from snap_tarbuild import MTIME, d, f, sym, tar, tree, write_blob


@pytest.fixture
def setup(tmp_path):
    sn = NativeSnapshotter(tmp_path / "native")
    blob = write_blob(tmp_path / "base", tar(
        d("etc"), f("etc/conf", b"AAAA"), f("etc/same", b"same"), f("etc/gone", b"g"),
        d("var"), d("var/cache"), f("var/cache/x", b"x"), f("file-to-dir", b"f"), sym("link", "etc/conf"),
    ))
    top = unpack(sn, [blob])
    sn.prepare("ctr", top)
    return sn, top, sn.layers("ctr").upper


def mutate(fs):
    # same size, and the whole-second mtime restored: only the bytes differ
    with open(os.path.join(fs, "etc/conf"), "r+b") as fh:
        fh.write(b"BBBB")
    os.utime(os.path.join(fs, "etc/conf"), (MTIME, MTIME))
    os.unlink(os.path.join(fs, "etc/gone"))
    os.chmod(os.path.join(fs, "var"), 0o700)
    import shutil
    shutil.rmtree(os.path.join(fs, "var/cache"))
    os.unlink(os.path.join(fs, "file-to-dir"))
    os.mkdir(os.path.join(fs, "file-to-dir"))
    with open(os.path.join(fs, "file-to-dir/in"), "wb") as fh:
        fh.write(b"in")
    os.makedirs(os.path.join(fs, "new/deeper"))
    with open(os.path.join(fs, "new/deeper/h1"), "wb") as fh:
        fh.write(b"hard")
    os.link(os.path.join(fs, "new/deeper/h1"), os.path.join(fs, "new/h2"))
    os.unlink(os.path.join(fs, "link"))
    os.symlink("/elsewhere", os.path.join(fs, "link"))


def test_changes_list(setup):
    sn, top, fs = setup
    mutate(fs)
    assert changes(sn.layers("ctr")) == [
        ("C", "/etc"), ("C", "/etc/conf"), ("D", "/etc/gone"),
        ("C", "/file-to-dir"), ("A", "/file-to-dir/in"),
        ("C", "/link"),
        ("A", "/new"), ("A", "/new/deeper"), ("A", "/new/deeper/h1"), ("A", "/new/h2"),
        ("C", "/var"), ("D", "/var/cache"),
    ]


def test_no_changes(setup):
    sn, top, fs = setup
    assert changes(sn.layers("ctr")) == []
    out = io.BytesIO()
    res = write_diff(sn.layers("ctr"), out)
    assert out.getvalue() == b"\0" * 1024
    assert res.diff_id == "sha256:" + hashlib.sha256(b"\0" * 1024).hexdigest()


def test_diff_applied_on_parent_reproduces_the_container(setup, tmp_path):
    sn, top, fs = setup
    mutate(fs)
    out = io.BytesIO()
    res = write_diff(sn.layers("ctr"), out)
    sn.prepare("check", top)
    check = sn.layers("check").upper
    assert apply_layer(io.BytesIO(out.getvalue()), check).diff_id == res.diff_id
    assert tree(check) == tree(fs)
    st1, st2 = os.lstat(os.path.join(check, "new/deeper/h1")), os.lstat(os.path.join(check, "new/h2"))
    assert st1.st_ino == st2.st_ino  # hard link kept


def test_tar_is_deterministic_and_sorted(setup):
    sn, top, fs = setup
    mutate(fs)
    a, b = io.BytesIO(), io.BytesIO()
    ra, rb = write_diff(sn.layers("ctr"), a), write_diff(sn.layers("ctr"), b)
    assert a.getvalue() == b.getvalue() and ra == rb
    with tarfile.open(fileobj=io.BytesIO(a.getvalue())) as t:
        members = t.getmembers()
    names = [m.name for m in members]
    assert names == ["etc", "etc/conf", "etc/.wh.gone", "file-to-dir", "file-to-dir/in", "link",
                     "new", "new/deeper", "new/deeper/h1", "new/h2", "var", "var/.wh.cache"]
    h2 = members[names.index("new/h2")]
    assert h2.islnk() and h2.linkname == "new/deeper/h1"
    assert all(m.uname == "" and m.gname == "" for m in members)
    assert members[names.index("etc/.wh.gone")].mtime == 0


def test_gzip_and_clamped_times(setup):
    sn, top, fs = setup
    mutate(fs)
    out = io.BytesIO()
    res = write_diff(sn.layers("ctr"), out, compression="gzip", clamp_mtime=1000)
    blob = out.getvalue()
    assert res.digest == "sha256:" + hashlib.sha256(blob).hexdigest() != res.diff_id
    assert res.size == len(blob) and res.compression == "gzip"
    raw = gzip.decompress(blob)
    assert res.diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:
        assert max(m.mtime for m in t.getmembers()) <= 1000
    again = io.BytesIO()
    write_diff(sn.layers("ctr"), again, compression="gzip", clamp_mtime=1000)
    assert again.getvalue() == blob  # reproducible, gzip header included


def test_user_xattr_changes_are_seen(setup):
    sn, top, fs = setup
    try:
        os.setxattr(os.path.join(fs, "etc/same"), "user.tag", b"v")
    except OSError:
        pytest.skip("file system without user xattrs")
    assert changes(sn.layers("ctr")) == [("C", "/etc"), ("C", "/etc/same")]
    out = io.BytesIO()
    write_diff(sn.layers("ctr"), out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as t:
        m = t.getmember("etc/same")
    assert m.pax_headers.get("SCHILY.xattr.user.tag") == "v"


def test_diff_of_a_base_snapshot_is_everything(setup):
    sn, top, fs = setup
    got = [c for c in changes(sn.layers(top))]
    assert all(k == "A" for k, _ in got) and ("A", "/etc/conf") in got
