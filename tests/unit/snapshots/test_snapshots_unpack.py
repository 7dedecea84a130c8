"""Chain IDs and unpacking an image's layers into the (copying) snapshotter."""
from __future__ import annotations

import hashlib
import os

import pytest

from dockyard.images.digest import DigestError
from dockyard.snapshots.apply import LayerError
from dockyard.snapshots.native import NativeSnapshotter
from dockyard.snapshots.snapshotter import Kind
from dockyard.snapshots.unpack import chain_id, chain_ids, unpack
from snap_tarbuild import d, f, opq, tar, tree, wh, write_blob

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


def test_chain_id_definition():
    ab = "sha256:" + hashlib.sha256(f"{A} {B}".encode()).hexdigest()
    abc = "sha256:" + hashlib.sha256(f"{ab} {C}".encode()).hexdigest()
    assert chain_ids([A]) == [A]
    assert chain_ids([A, B, C]) == [A, ab, abc]
    assert chain_id([A, B, C]) == abc
    assert chain_id([A, B]) != chain_id([B, A])


def test_chain_id_rejects_bad_digests():
    with pytest.raises(DigestError):
        chain_ids([A, "sha256:xyz"])
    with pytest.raises(ValueError):
        chain_id([])


@pytest.fixture
def image(tmp_path):
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    layers = [
        tar(d("etc"), f("etc/os-release", b"v1"), d("usr"), d("usr/lib"), f("usr/lib/a", b"a"), f("usr/lib/b", b"b")),
        tar(wh("usr/lib/a"), f("etc/os-release", b"v2"), d("srv"), f("srv/x", b"x")),
        tar(d("usr/lib"), opq("usr/lib"), f("usr/lib/c", b"c"), wh("srv")),
    ]
    comps = ["gzip", "zstd", None]
    return [write_blob(blobs / f"l{i}", raw, comps[i]) for i, raw in enumerate(layers)]


@pytest.fixture
def sn(tmp_path):
    return NativeSnapshotter(tmp_path / "native")


def snapshot_dirs(sn):
    return sorted(os.listdir(sn.root / "snapshots"))


def test_unpack_commits_each_layer_under_its_chain_id(sn, image):
    top = unpack(sn, image)
    chains = chain_ids([did for _, did in image])
    assert top == chains[-1]
    infos = {i.name: i for i in sn.walk()}
    assert set(infos) == set(chains)
    assert all(i.kind == Kind.COMMITTED for i in infos.values())
    assert [infos[c].parent for c in chains] == [None, chains[0], chains[1]]
    fs = sn.layers(top).upper
    assert {k: v[:2] if v[0] == "f" else v[:1] for k, v in tree(fs).items()} == {
        "etc": ("d",), "etc/os-release": ("f", b"v2"),
        "usr": ("d",), "usr/lib": ("d",), "usr/lib/c": ("f", b"c"),
    }


def test_layers_are_applied_only_once(sn, image, tmp_path):
    unpack(sn, image)
    for path, _ in image:
        os.unlink(path)  # nothing needs reading again
    assert unpack(sn, image) == chain_ids([did for _, did in image])[-1]
    assert len(list(sn.walk())) == 3


def test_images_share_base_layers(sn, image, tmp_path):
    unpack(sn, image)
    other = write_blob(tmp_path / "blobs" / "other", tar(f("other", b"o")))
    os.unlink(image[1][0])
    os.unlink(image[2][0])
    top = unpack(sn, [image[0], other])
    assert len(list(sn.walk())) == 4
    assert sn.stat(top).parent == image[0][1]


def test_diff_id_mismatch_leaves_nothing_partial(sn, image):
    bad = [image[0], (image[1][0], "sha256:" + "0" * 64), image[2]]
    with pytest.raises(LayerError, match=r"^unpacking layer sha256:0{64}: .*diff_id mismatch: got sha256:"):
        unpack(sn, bad)
    assert [i.name for i in sn.walk()] == [image[0][1]]  # the good base layer stays
    assert len(snapshot_dirs(sn)) == 1


def test_hostile_layer_leaves_nothing_partial(sn, image, tmp_path):
    evil = write_blob(tmp_path / "evil", tar(f("ok", b"1"), f("../../escape", b"x")))
    with pytest.raises(LayerError, match="path escapes the layer"):
        unpack(sn, [image[0], evil])
    assert [i.name for i in sn.walk()] == [image[0][1]]
    assert len(snapshot_dirs(sn)) == 1
    assert not (tmp_path / "escape").exists()


def test_missing_blob(sn, tmp_path):
    with pytest.raises(LayerError, match=r"layer '.*/nope': No such file or directory"):
        unpack(sn, [(str(tmp_path / "nope"), A)])
    assert list(sn.walk()) == [] and snapshot_dirs(sn) == []
