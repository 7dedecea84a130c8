"""Whiteouts and opaque directories applied by deletion (copying snapshotter)."""
from __future__ import annotations

import io
import os

import pytest

from dockyard.snapshots.apply import apply_layer
from snap_tarbuild import d, f, opq, tar, wh


@pytest.fixture
def lower(tmp_path):
    """A directory holding the parent's content, as the native snapshotter copies it."""
    r = tmp_path / "root"
    apply_layer(io.BytesIO(tar(
        d("etc"), f("etc/passwd", b"p"), f("etc/group", b"g"),
        d("var"), d("var/lib"), f("var/lib/a", b"a"), d("var/lib/sub"), f("var/lib/sub/deep", b"x"),
        d("opt"), d("opt/app"), f("opt/app/old", b"o"), f("opt/keep", b"k"),
    )), _mk(r))
    return r


def _mk(p):
    p.mkdir()
    return p


def listing(root):
    out = []
    for dirpath, dirnames, files in os.walk(root):
        for n in dirnames + files:
            out.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(out)


def test_whiteout_deletes_file_and_tree(lower):
    apply_layer(io.BytesIO(tar(wh("etc/group"), wh("var/lib"))), lower)
    assert not (lower / "etc" / "group").exists()
    assert (lower / "etc" / "passwd").exists()
    assert not (lower / "var" / "lib").exists()
    assert (lower / "var").is_dir()


def test_whiteout_of_missing_path_is_harmless(lower):
    before = listing(lower)
    apply_layer(io.BytesIO(tar(wh("nothere"), wh("no/such/dir/file"))), lower)
    assert listing(lower) == before  # no parents invented for a whiteout


def test_whiteout_then_recreate_in_same_layer(lower):
    apply_layer(io.BytesIO(tar(wh("var/lib"), d("var/lib"), f("var/lib/new", b"n"))), lower)
    assert sorted(os.listdir(lower / "var" / "lib")) == ["new"]


def test_opaque_keeps_only_this_layers_entries(lower):
    # entries of this layer before and after the marker both survive
    apply_layer(io.BytesIO(tar(d("opt"), f("opt/before", b"b"), opq("opt"), f("opt/after", b"a"))), lower)
    assert sorted(os.listdir(lower / "opt")) == ["after", "before"]


def test_opaque_is_recursive_below_kept_dirs(lower):
    # opt/app is rewritten by this layer, but its old content from below is hidden
    apply_layer(io.BytesIO(tar(f("opt/app/new", b"n"), opq("opt"))), lower)
    assert listing(lower / "opt") == ["app", "app/new"]


def test_opaque_creates_missing_dir(lower):
    apply_layer(io.BytesIO(tar(opq("srv/www"))), lower)
    assert (lower / "srv" / "www").is_dir() and os.listdir(lower / "srv" / "www") == []


def test_opaque_at_root(lower):
    apply_layer(io.BytesIO(tar(f("only", b"1"), opq(""))), lower)
    assert listing(lower) == ["only"]


def test_aufs_metadata_names_are_ignored(lower):
    before = listing(lower)
    apply_layer(io.BytesIO(tar(f(".wh..wh.plnk"), f("etc/.wh..wh.aufs"))), lower)
    assert listing(lower) == before


def test_whiteout_removes_what_this_layer_wrote_earlier(lower):
    apply_layer(io.BytesIO(tar(f("tmpfile", b"t"), wh("tmpfile"))), lower)
    assert not (lower / "tmpfile").exists()
