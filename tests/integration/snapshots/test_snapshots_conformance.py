"""One conformance suite, run against every snapshotter (like containerd's
snapshots/testsuite). Tests that mount need root; the others run anywhere."""
from __future__ import annotations

import errno
import io
import json
import os
import shutil
import stat

import pytest

from dockyard.snapshots.apply import apply_layer
from dockyard.snapshots.detect import open_snapshotter, supports_overlay
from dockyard.snapshots.diff import changes, write_diff
from dockyard.snapshots.mount import PAGE_SIZE
from dockyard.snapshots.snapshotter import AlreadyExists, InvalidState, Kind, NotFound, SnapshotError
from dockyard.snapshots.unpack import unpack
from snap_tarbuild import d, f, opq, sym, tar, tree, wh, write_blob

ROOT = os.geteuid() == 0


def committed(sn, name, files=()):
    """A committed snapshot named name holding files {path: bytes}."""
    sn.prepare(name + "-tmp")
    up = sn.layers(name + "-tmp").upper
    for p, data in dict(files).items():
        os.makedirs(os.path.dirname(os.path.join(up, p)), exist_ok=True)
        with open(os.path.join(up, p), "wb") as fh:
            fh.write(data)
    sn.commit(name, name + "-tmp")
    return name


# -- lifecycle (no mounts) -----------------------------------------------------

def test_prepare_commit_stat_walk(sn):
    mounts = sn.prepare("a")
    assert mounts and mounts == sn.mounts("a")
    info = sn.stat("a")
    assert (info.name, info.kind, info.parent) == ("a", Kind.ACTIVE, None)
    sn.commit("base", "a", labels={"k": "v"})
    with pytest.raises(NotFound, match="snapshot 'a' not found"):
        sn.stat("a")
    base = sn.stat("base")
    assert base.kind == Kind.COMMITTED and base.labels == {"k": "v"} and base.updated >= base.created
    sn.prepare("child", "base")
    sn.view("v", "base")
    assert [(i.name, i.kind) for i in sn.walk()] == [
        ("base", Kind.COMMITTED), ("child", Kind.ACTIVE), ("v", Kind.VIEW)]
    assert [i.name for i in sn.walk(kind="committed")] == ["base"]
    assert [i.name for i in sn.walk(parent="base")] == ["child", "v"]


def test_keys_and_names_share_one_space(sn):
    committed(sn, "base")
    sn.prepare("x")
    with pytest.raises(AlreadyExists, match="snapshot 'x' already exists"):
        sn.prepare("x")
    with pytest.raises(AlreadyExists):
        sn.view("base")
    with pytest.raises(AlreadyExists, match="'base' already exists"):
        sn.commit("base", "x")
    assert sn.stat("x").kind == Kind.ACTIVE  # a refused commit leaves the key as it was


def test_parent_must_exist_and_be_committed(sn):
    sn.prepare("active")
    with pytest.raises(NotFound, match="parent snapshot 'missing' not found"):
        sn.prepare("c", "missing")
    with pytest.raises(InvalidState, match="parent snapshot 'active' is active, not committed"):
        sn.prepare("c", "active")
    with pytest.raises(InvalidState):
        sn.view("c", "active")
    assert [i.name for i in sn.walk()] == ["active"]
    assert sorted(os.listdir(sn.root / "snapshots")) == ["1"]  # nothing half-made


def test_only_active_snapshots_commit(sn):
    committed(sn, "base")
    sn.view("v", "base")
    with pytest.raises(InvalidState, match="'v' is view"):
        sn.commit("n", "v")
    with pytest.raises(InvalidState, match="'base' is committed"):
        sn.commit("n", "base")
    with pytest.raises(NotFound):
        sn.commit("n", "nope")


def test_remove_refuses_snapshots_with_children(sn):
    committed(sn, "base", {"f": b"1"})
    committed_child = sn.prepare("mid-tmp", "base") and sn.commit("mid", "mid-tmp")
    assert committed_child is None
    sn.view("v", "mid")
    with pytest.raises(InvalidState, match="snapshot 'base' has 1 child snapshot"):
        sn.remove("base")
    with pytest.raises(InvalidState, match="'mid' has 1 child"):
        sn.remove("mid")
    sn.remove("v")
    sn.remove("mid")
    sn.remove("base")
    assert list(sn.walk()) == [] and os.listdir(sn.root / "snapshots") == []
    with pytest.raises(NotFound):
        sn.remove("base")


def test_mounts_only_for_active_and_views(sn):
    committed(sn, "base")
    with pytest.raises(InvalidState, match="'base' is committed"):
        sn.mounts("base")
    sn.view("v", "base")
    assert all("ro" in m.options for m in sn.mounts("v"))
    with pytest.raises(InvalidState, match="is a view"):
        sn.layers("v")


def test_metadata_survives_reopen_and_crash_leftovers_go(sn):
    committed(sn, "base", {"f": b"1"})
    sn.prepare("ctr", "base")
    (sn.root / "snapshots" / "999").mkdir()  # a crash after building, before the metadata
    (sn.root / "snapshots" / "tmp-999999999-abc").mkdir()
    again = type(sn)(sn.root)
    assert [(i.name, i.parent) for i in again.walk()] == [("base", None), ("ctr", "base")]
    assert sorted(os.listdir(sn.root / "snapshots")) == ["1", "2"]
    doc = json.loads((sn.root / "metadata.json").read_text())
    assert doc["version"] == 1 and set(doc["snapshots"]) == {"base", "ctr"}
    assert not [n for n in os.listdir(sn.root) if n.endswith(".tmp")]


def test_usage_counts_the_snapshot_itself(sn):
    committed(sn, "base", {"big": b"x" * 200_000})
    sn.prepare("ctr", "base")
    with open(os.path.join(sn.layers("ctr").upper, "small"), "wb") as fh:
        fh.write(b"y" * 10_000)
    base, ctr = sn.usage("base"), sn.usage("ctr")
    assert base.size >= 200_000 and base.inodes == 2
    assert ctr.size >= 10_000
    if sn.driver == "overlay":
        assert ctr.size < 200_000 and ctr.inodes == 2  # layers are shared, not copied
    else:
        assert ctr.size >= 210_000 and ctr.inodes == 3  # the copy is the snapshot's own


def test_invalid_keys(sn):
    for bad in ("", "a\0b", "x" * 2000):
        with pytest.raises(SnapshotError, match="invalid snapshot key"):
            sn.prepare(bad)


# -- merged views (mounting needs root) -----------------------------------------

LAYERS = [
    tar(d("etc"), f("etc/passwd", b"p1"), f("etc/group", b"g1"),
        d("usr"), d("usr/bin"), f("usr/bin/a", b"a"), f("usr/bin/b", b"b"),
        d("usr/share"), d("usr/share/doc"), f("usr/share/doc/readme", b"r"), f("usr/share/keep", b"k"),
        sym("bin", "usr/bin"), d("opt", mode=0o700, uid=1000, gid=1000), f("opt/tool", b"t"),
        d("var"), d("var/log"), f("var/log/old", b"o")),
    tar(wh("etc/group"), f("etc/passwd", b"p2"), d("usr/share"), opq("usr/share"), f("usr/share/new", b"n"),
        wh("var/log"), f("var/log2", b"l2"), f("srv/www/index", b"i"), f("opt/tool2", b"t2")),
    tar(wh("var"), d("var"), f("var/new", b"v"), f("usr/bin/a", b"a3"), wh("usr/bin/b"),
        f("usr/share/doc2", b"d2")),
]

MERGED = {
    "bin": "usr/bin", "etc": None, "etc/passwd": b"p2", "opt": None, "opt/tool": b"t", "opt/tool2": b"t2",
    "srv": None, "srv/www": None, "srv/www/index": b"i", "usr": None, "usr/bin": None, "usr/bin/a": b"a3",
    "usr/share": None, "usr/share/doc2": b"d2", "usr/share/new": b"n", "var": None, "var/new": b"v",
}


def simple(t: dict) -> dict:
    return {k: (v[1] if v[0] in ("f", "l") else None) for k, v in t.items()}


@pytest.fixture
def image(tmp_path):
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    return [write_blob(blobs / f"l{i}", raw, "gzip") for i, raw in enumerate(LAYERS)]


@pytest.fixture
def oracle(tmp_path):
    """The same layers applied one after the other into one plain directory."""
    o = tmp_path / "oracle"
    o.mkdir()
    for raw in LAYERS:
        apply_layer(io.BytesIO(raw), o)
    return tree(o)


@pytest.mark.root
def test_three_layer_stack_mounts_to_the_merged_view(sn, image, oracle, mnt):
    top = unpack(sn, image)
    assert simple(oracle) == MERGED
    view = mnt(sn.view("v", top), "view")
    assert tree(view) == oracle  # contents, modes and owners (opt keeps 0700 uid 1000)
    with pytest.raises(OSError) as ei:
        (view / "etc" / "new").write_bytes(b"x")
    assert ei.value.errno == errno.EROFS
    ctr = mnt(sn.prepare("ctr", top), "ctr")
    assert tree(ctr) == oracle


@pytest.mark.root
def test_intermediate_views(sn, image, mnt):
    unpack(sn, image[:2])
    from dockyard.snapshots.unpack import chain_ids
    c = chain_ids([did for _, did in image])
    v1 = simple(tree(mnt(sn.view("v1", c[0]), "v1")))
    assert "etc/group" in v1 and "usr/share/doc/readme" in v1
    v2 = simple(tree(mnt(sn.view("v2", c[1]), "v2")))
    assert "etc/group" not in v2 and "usr/share/doc" not in v2 and v2["usr/share/new"] == b"n"
    assert v2["var/log2"] == b"l2" and "var/log" not in v2


def mutate(root):
    (root / "usr/bin/c").write_bytes(b"new")
    os.link(root / "usr/bin/c", root / "usr/bin/c2")
    (root / "etc/passwd").write_bytes(b"changed")
    os.unlink(root / "usr/bin/a")
    shutil.rmtree(root / "srv")
    shutil.rmtree(root / "usr/share")
    (root / "usr/share").mkdir()
    (root / "usr/share/fresh").write_bytes(b"f")
    os.chmod(root / "opt", 0o750)
    os.symlink("/etc/passwd", root / "lnk")
    os.rename(root / "opt/tool", root / "opt/tool-renamed")
    os.mkfifo(root / "fifo")


@pytest.mark.root
def test_container_diff_applied_on_parent_reproduces_the_container(sn, image, mnt):
    top = unpack(sn, image)
    ctr = mnt(sn.prepare("ctr", top), "ctr")
    mutate(ctr)
    expected = tree(ctr)
    mnt.release(ctr)
    got = changes(sn.layers("ctr"))
    for c in [("A", "/usr/bin/c"), ("A", "/usr/bin/c2"), ("C", "/etc/passwd"), ("D", "/usr/bin/a"),
              ("D", "/srv"), ("C", "/opt"), ("A", "/lnk"), ("A", "/opt/tool-renamed"), ("D", "/opt/tool"),
              ("A", "/usr/share/fresh"), ("D", "/usr/share/new"), ("A", "/fifo")]:
        assert c in got
    out = io.BytesIO()
    res = write_diff(sn.layers("ctr"), out, compression="gzip")
    sn.prepare("check", top)
    target = sn.layers("check")
    applied = apply_layer(io.BytesIO(out.getvalue()), target.upper, whiteouts=target.whiteouts,
                          lowers=target.lowers)
    assert applied.diff_id == res.diff_id
    check = mnt(sn.mounts("check"), "check")
    assert tree(check) == expected
    # and committing the container gives a layer others can stack on
    sn.commit("img2", "ctr")
    assert tree(mnt(sn.view("v2", "img2"), "v2")) == expected


@pytest.mark.root
def test_snapshot_without_parent_is_a_plain_directory(sn, mnt):
    m = mnt(sn.prepare("empty"), "empty")
    (m / "hello").write_bytes(b"hi")
    mnt.release(m)
    assert os.listdir(sn.layers("empty").upper) == ["hello"]
    assert stat.S_IMODE(os.stat(sn.layers("empty").upper).st_mode) == 0o755


@pytest.mark.root
def test_long_lowerdir_list(sn, tmp_path, mnt):
    if sn.driver != "overlay":
        pytest.skip("only overlay stacks lower directories")
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    layers = [write_blob(blobs / f"l{i}", tar(f(f"f{i:03d}", b"%d" % i)), None) for i in range(70)]
    top = unpack(sn, layers)
    mounts = sn.prepare("ctr", top)
    assert len(",".join(mounts[0].options)) > PAGE_SIZE
    m = mnt(mounts, "ctr")
    assert sorted(os.listdir(m)) == [f"f{i:03d}" for i in range(70)]
    (m / "f000").write_bytes(b"changed")
    mnt.release(m)
    assert (open(os.path.join(sn.layers("ctr").upper, "f000"), "rb").read()) == b"changed"
    v = mnt(sn.view("v", top), "v")
    assert len(os.listdir(v)) == 70


@pytest.mark.root
def test_detect_and_open(tmp_path):
    assert supports_overlay(tmp_path / "state")
    assert os.listdir(tmp_path / "state") == []  # the probe cleans up after itself
    assert open_snapshotter(tmp_path / "state").driver == "overlay"
    assert open_snapshotter(tmp_path / "state", "native").driver == "native"
    with pytest.raises(SnapshotError, match="unknown snapshotter 'zfs'"):
        open_snapshotter(tmp_path / "state", "zfs")


@pytest.mark.root
def test_remove_refuses_while_something_is_mounted_inside(sn, tmp_path):
    from dockyard.snapshots.mount import Mount, mount_all, mountpoints, unmount
    sn.prepare("a")
    inside = sn.layers("a").upper
    src = tmp_path / "src"
    src.mkdir()
    (src / "precious").write_bytes(b"keep me")
    mount_all([Mount("bind", str(src), ("rbind",))], inside)
    try:
        with pytest.raises(InvalidState, match="snapshot 'a' has a mount inside it"):
            sn.remove("a")
    finally:
        unmount(inside)
    assert mountpoints(tmp_path) == []
    sn.remove("a")
    assert (src / "precious").read_bytes() == b"keep me"
