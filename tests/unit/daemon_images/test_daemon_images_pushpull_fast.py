"""Pushes compress local layers (zstd by default, gzip or none on request) and keep the result for
the next push; pulls unpack layers while they download and record the layer sizes as they go."""
from __future__ import annotations

import io
import threading

import pytest

from dockyard.daemon.images import pulling
from dockyard.daemon.images.streamunpack import StreamUnpack
from dockyard.images.base import make_busybox
from dockyard.images.errors import InvalidArgument
from dockyard.registry.growing import FollowBroken, Growing
from dockyard.registry.pull import pull as regpull
from dockyard.spec import image as spec
from dockyard.snapshots.snapshotter import Kind


def remote_layer_types(svc, ref) -> list[str]:
    m = spec.Manifest.from_json(svc.content.read(regpull(ref, svc.content).manifest_digest))
    return [x.media_type for x in m.layers]


def blobs(svc) -> set[str]:
    return set(svc.content.walk())


def test_local_layers_are_pushed_as_zstd_and_kept_for_the_next_push(make_service, registry, monkeypatch):
    monkeypatch.delenv("DOCKYARD_PUSH_COMPRESSION", raising=False)
    svc = make_service()
    img = make_busybox(svc.store, f"{registry.host}/fast/bb:1")
    plain = img.manifest.digest
    res = svc.push(f"{registry.host}/fast/bb:1")
    digest = res[0]["Digest"]
    assert digest != plain
    after = svc.get(img.id)
    assert after.id == img.id and after.size == img.size and after.diff_ids == img.diff_ids
    assert {m.digest for m in after.manifests} == {plain, digest}
    assert f"{registry.host}/fast/bb@{digest}" in after.repo_digests
    assert remote_layer_types(make_service("probe"), f"{registry.host}/fast/bb:1") == [spec.OCI_LAYER_ZSTD]
    # the next push (another repository) sends the kept zstd blobs: nothing is compressed again
    before = blobs(svc)
    svc.tag(img.id, f"{registry.host}/fast/copy:2")
    msgs = []
    res2 = svc.push(f"{registry.host}/fast/copy:2", progress=msgs.append)
    assert res2[0]["Digest"] == digest and blobs(svc) == before
    assert any(m.get("status", "").startswith("Mounted from") for m in msgs)
    # save still writes plain layers (the zstd manifest is now the image's first)
    out = io.BytesIO()
    svc.save([f"{registry.host}/fast/copy:2"], out)
    other = make_service("other")
    other.load(io.BytesIO(out.getvalue()))
    assert other.get(f"{registry.host}/fast/copy:2").id == img.id


def test_gzip_and_none_on_request(make_service, registry, monkeypatch):
    svc = make_service()
    img = make_busybox(svc.store, f"{registry.host}/fast/gz:1")
    monkeypatch.setenv("DOCKYARD_PUSH_COMPRESSION", "gzip")
    gz = svc.push(f"{registry.host}/fast/gz:1")[0]["Digest"]
    assert remote_layer_types(make_service("probe"), f"{registry.host}/fast/gz:1") == [spec.OCI_LAYER_GZIP]
    # asking for zstd next compresses the plain layers again (not the gzip ones)
    monkeypatch.setenv("DOCKYARD_PUSH_COMPRESSION", "zstd")
    svc.tag(img.id, f"{registry.host}/fast/zs:1")
    zs = svc.push(f"{registry.host}/fast/zs:1")[0]["Digest"]
    assert len({gz, zs, img.manifest.digest}) == 3
    # and gzip again picks the kept gzip manifest
    monkeypatch.setenv("DOCKYARD_PUSH_COMPRESSION", "gzip")
    svc.tag(img.id, f"{registry.host}/fast/gz2:1")
    assert svc.push(f"{registry.host}/fast/gz2:1")[0]["Digest"] == gz
    monkeypatch.setenv("DOCKYARD_PUSH_COMPRESSION", "none")
    plain = make_service("plain")
    img2 = make_busybox(plain.store, f"{registry.host}/fast/plain:1")
    assert plain.push(f"{registry.host}/fast/plain:1")[0]["Digest"] == img2.manifest.digest
    monkeypatch.setenv("DOCKYARD_PUSH_COMPRESSION", "brotli")
    with pytest.raises(InvalidArgument, match="push compression 'brotli' is not supported"):
        plain.push(f"{registry.host}/fast/plain:1")


def test_a_pull_unpacks_while_downloading_and_records_layer_sizes(make_service, remote_busybox, monkeypatch):
    ref, image_id = remote_busybox
    made = []

    class Recording(StreamUnpack):
        def __init__(self, svc):
            super().__init__(svc)
            made.append(self)

    monkeypatch.setattr(pulling, "StreamUnpack", Recording)
    svc = make_service()
    svc.pull(ref)
    img = svc.get(ref)
    assert img.id == image_id and svc.unpacker.applied == 1
    assert made and made[0].error is None and made[0].new == img.chain_ids
    with svc.store.db.read() as c:
        row = c.execute("SELECT diff_id, unpacked_size FROM layers WHERE digest=?", (img.layers[0].digest,)).fetchone()
    assert row["diff_id"] == img.diff_ids[0] and row["unpacked_size"] == img.size > 0


def test_a_download_that_breaks_leaves_the_unpacking_to_the_pull(make_service, registry, regh):
    """The streamer stops at a broken download without leaving a snapshot; the pull's own unpack
    then does the layer from the stored blob."""
    seed = make_service("seed")
    im = regh.make_image(seed.content, [{"etc/a": b"x" * 300_000}])
    svc = make_service()
    m = spec.Manifest.from_json(seed.content.read(im.manifest_digest))
    svc.content.put_bytes(seed.content.read(im.config_digest))
    layer = m.layers[0]
    data = seed.content.read(layer.digest)
    path = svc.content.root / "partial"
    path.write_bytes(data[:1000])
    g = Growing(layer.digest, path)
    g.grew(1000)
    s = StreamUnpack(svc)
    s.manifest(m)
    s.blob(m.config.digest)
    s.layer(layer, g)
    threading.Timer(0.1, g.broken).start()
    for _ in range(100):
        if s.error is not None:
            break
        threading.Event().wait(0.05)
    assert isinstance(s.error, FollowBroken)
    assert s.new == [] and list(svc.snapshotter.walk()) == []
    s.finish(ok=False)
    # with the blob stored, unpacking works as ever
    svc.content.put_bytes(data)
    assert svc.unpacker.unpack([(svc.content.path(layer.digest), im.diff_ids[0])]) == im.diff_ids[0]
    assert svc.snapshotter.stat(im.diff_ids[0]).kind == Kind.COMMITTED


def test_the_streamer_stops_waiting_when_the_pull_is_over(make_service, registry, regh):
    seed = make_service("seed")
    im = regh.make_image(seed.content, [{"a": b"1"}])
    m = spec.Manifest.from_json(seed.content.read(im.manifest_digest))
    s = StreamUnpack(make_service())
    s.manifest(m)  # the config never comes (say, a mirror failed after its manifest)
    s.finish(ok=True)  # returns: nothing more will come
    assert s.error is None and s.new == []
