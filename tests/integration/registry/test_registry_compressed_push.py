"""Pushing plain layers compressed on the way (zstd, gzip), and following layers while pulling,
against a real docker-registry."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import threading

import pytest

from dockyard.registry.growing import PullObserver
from dockyard.registry.pull import pull
from dockyard.registry.push import push
from dockyard.spec import image as spec


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def plain_image(store, tars: list[bytes], docker: bool = False, extra_layers=()):
    """An image with uncompressed layers (as local images are stored); ``extra_layers`` are
    (descriptor, diff_id) of layers already compressed."""
    layers, diff_ids = [], []
    for t in tars:
        store.put_bytes(t)
        layers.append({"mediaType": spec.DOCKER_LAYER if docker else spec.OCI_LAYER, "size": len(t), "digest": sha(t)})
        diff_ids.append(sha(t))
    for d, diff_id in extra_layers:
        layers.append(d)
        diff_ids.append(diff_id)
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                      "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    store.put_bytes(cfg)
    man = {"schemaVersion": 2, "mediaType": spec.DOCKER_MANIFEST if docker else spec.OCI_MANIFEST,
           "config": {"mediaType": spec.DOCKER_CONFIG if docker else spec.OCI_CONFIG, "size": len(cfg),
                      "digest": sha(cfg)}, "layers": layers}
    data = json.dumps(man).encode()
    return store.put_bytes(data), diff_ids


def decompress(blob: bytes) -> bytes:
    if blob.startswith(b"\x1f\x8b"):
        return gzip.decompress(blob)
    import zstandard
    return zstandard.ZstdDecompressor().stream_reader(blob).read()


@pytest.mark.parametrize("compression,docker,layer_type,manifest_type", [
    ("zstd", False, spec.OCI_LAYER_ZSTD, spec.OCI_MANIFEST),
    ("gzip", False, spec.OCI_LAYER_GZIP, spec.OCI_MANIFEST),
    ("zstd", True, spec.OCI_LAYER_ZSTD, spec.OCI_MANIFEST),
    ("gzip", True, spec.DOCKER_LAYER_GZIP, spec.DOCKER_MANIFEST),
])
def test_plain_layers_are_pushed_compressed(registry, store, new_store, images, compression, docker, layer_type,
                                            manifest_type):
    tars = [images.tar({"etc/motd": b"hello\n" * 2000, "big": os.urandom(3 << 20)}), images.tar({"x": b"y"})]
    mdigest, diff_ids = plain_image(store, tars, docker)
    stored, events = [], []
    ref = f"{registry.host}/dy/compressed-{compression}-{int(docker)}:1"
    got = push(ref, store, mdigest, compression=compression, on_stored=stored.append, progress=events.append,
               chunk_threshold=1 << 20)
    assert got != mdigest and got in stored
    m = spec.Manifest.from_json(store.read(got))
    assert m.content_type == manifest_type
    assert [x.media_type for x in m.layers] == [layer_type, layer_type]
    assert {x.digest for x in m.layers} <= set(stored)
    for x, diff_id in zip(m.layers, diff_ids):
        blob = store.read(x.digest)  # kept in the store as it passed
        assert len(blob) == x.size and sha(blob) == x.digest
        assert sha(decompress(blob)) == diff_id
    # progress counts the plain bytes, as dockerd does
    pushing = [e for e in events if e.get("status") == "Pushing"]
    assert pushing and max(e["progressDetail"]["current"] for e in pushing) == len(tars[0])
    assert [e["status"] for e in events if e.get("id")].count("Pushed") == 2
    # the registry serves it; a fresh store pulls it and every blob checks out
    other = new_store()
    res = pull(ref, other)
    assert res.manifest_digest == got
    assert [sha(decompress(other.read(x.digest))) for x in res.layers] == diff_ids
    # pushing the stored compressed manifest again finds its blobs there
    events = []
    assert push(ref, store, got, compression=compression, progress=events.append) == got
    assert [e["status"] for e in events if e.get("id")].count("Layer already exists") == 2


def test_only_plain_layers_are_compressed(registry, store, images):
    gz = gzip.compress(images.tar({"a": b"1"}))
    store.put_bytes(gz)
    already = ({"mediaType": spec.OCI_LAYER_GZIP, "size": len(gz), "digest": sha(gz)}, sha(gzip.decompress(gz)))
    mdigest, _ = plain_image(store, [images.tar({"b": b"2"})], extra_layers=[already])
    got = push(f"{registry.host}/dy/mixed:1", store, mdigest, compression="zstd")
    m = spec.Manifest.from_json(store.read(got))
    assert [x.media_type for x in m.layers] == [spec.OCI_LAYER_ZSTD, spec.OCI_LAYER_GZIP]
    assert m.layers[1].digest == sha(gz)


def test_without_compression_the_stored_manifest_is_pushed(registry, store, images):
    mdigest, _ = plain_image(store, [images.tar({"c": b"3"})])
    assert push(f"{registry.host}/dy/plain:1", store, mdigest) == mdigest
    with pytest.raises(ValueError, match="unsupported layer compression 'lz4'"):
        push(f"{registry.host}/dy/plain:1", store, mdigest, compression="lz4")


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
def test_skopeo_reads_the_zstd_push(registry, store, images, tmp_path):
    mdigest, diff_ids = plain_image(store, [images.tar({"etc/hostname": b"dockyard\n"})])
    ref = f"{registry.host}/dy/skopeo-zstd:1"
    push(ref, store, mdigest, compression="zstd")
    out = subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}", f"oci:{tmp_path}/o"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    idx = json.loads((tmp_path / "o" / "index.json").read_text())
    man = json.loads((tmp_path / "o" / "blobs" / "sha256" / idx["manifests"][0]["digest"].split(":")[1]).read_text())
    assert man["layers"][0]["mediaType"] == spec.OCI_LAYER_ZSTD


class Recorder(PullObserver):
    """Follows every layer from another thread while it downloads."""

    def __init__(self):
        self.manifests, self.blobs, self.read, self.threads = [], [], {}, []

    def manifest(self, m):
        self.manifests.append(m)

    def layer(self, desc, growing):
        r = growing.reader()

        def follow():
            out = []
            while True:
                b = r.read(5000)
                if not b:
                    break
                out.append(b)
            r.close()
            self.read[desc.digest] = b"".join(out)

        t = threading.Thread(target=follow)
        t.start()
        self.threads.append(t)

    def blob(self, digest):
        self.blobs.append(digest)


def test_a_pull_observer_follows_layers_as_they_download(registry, store, new_store, images):
    img = images.image(store, [{"a": os.urandom(2 << 20)}, {"b": b"small"}])
    ref = f"{registry.host}/dy/observed:1"
    push(ref, store, img.manifest_digest)
    rec = Recorder()
    other = new_store()
    res = pull(ref, other, observer=rec)
    for t in rec.threads:
        t.join(10)
    assert [m.config.digest for m in rec.manifests] == [img.config_digest]
    assert set(rec.blobs) == {img.config_digest, *img.layers}
    assert rec.read == {d: other.read(d) for d in img.layers}
    # blobs already there are told too (without being followed)
    rec2 = Recorder()
    pull(ref, other, observer=rec2)
    assert set(rec2.blobs) == {img.config_digest, *img.layers} and rec2.read == {}
    assert res.manifest_digest == img.manifest_digest
