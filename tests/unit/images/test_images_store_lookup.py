"""Image store: adding images, Docker's lookup rules, tag and untag."""
from __future__ import annotations

import gzip
import io
import json

import pytest
from images_testlib import add_image, layer_tar

from dockyard.images import compose, digest
from dockyard.images.errors import AmbiguousImage, ImageNotFound, InvalidArgument, InvalidImage
from dockyard.images.store import ImageStore
from dockyard.spec import image as spec


def test_add_records_image_by_config_digest(store, make_image):
    img = make_image(tags=["busybox"])
    assert img.id == digest.of_bytes(store.content.read(img.id))
    assert img.repo_tags == ["busybox:latest"]
    assert img.os == "linux" and img.architecture == "amd64"
    assert img.created_unix == 1704164645
    assert len(img.layers) == 1 and img.layers[0].diff_id == img.diff_ids[0]
    # a reopened store sees the same image (persisted)
    again = ImageStore(store.root)
    assert again.get("busybox").id == img.id
    again.close()


@pytest.mark.parametrize("name", ["busybox", "busybox:latest", "docker.io/library/busybox",
                                  "docker.io/library/busybox:latest", "index.docker.io/library/busybox"])
def test_lookup_familiar_and_full_references(store, make_image, name):
    img = make_image(tags=["busybox:latest"])
    assert store.resolve(name) == img.id


def test_lookup_by_full_id_short_id_and_prefix(store, make_image):
    img = make_image()
    hexid = img.id.split(":")[1]
    assert store.resolve(img.id) == img.id
    assert store.resolve(hexid) == img.id
    assert store.resolve(hexid[:12]) == img.id
    assert store.resolve(hexid[:1]) == img.id  # unique with only one image
    assert store.resolve("sha256:" + hexid[:5]) == img.id


def test_ambiguous_prefix_is_an_error(store, make_image):
    seen: dict[str, str] = {}
    while True:  # at most 17 images until two share the first hex digit
        img = make_image()
        first = img.id[7]
        if first in seen:
            break
        seen[first] = img.id
    with pytest.raises(AmbiguousImage, match="ambiguous image ID prefix"):
        store.resolve(first)
    # a longer prefix that tells them apart works
    a = img.id.split(":")[1]
    b = seen[first].split(":")[1]
    n = next(i for i in range(64) if a[i] != b[i]) + 1
    assert store.resolve(a[:n]) == img.id


def test_not_found_messages_match_docker(store, make_image):
    make_image(tags=["busybox"])
    with pytest.raises(ImageNotFound, match=r"^No such image: alpine:latest$"):
        store.get("alpine")
    with pytest.raises(ImageNotFound, match=r"^No such image: busybox:1.0$"):
        store.get("busybox:1.0")
    missing = "sha256:" + "f" * 64
    with pytest.raises(ImageNotFound, match=f"^No such image: {missing}$"):
        store.get(missing)
    with pytest.raises(InvalidArgument):
        store.get("Upper")


def test_tag_moves_between_images_and_untag(store, make_image):
    a = make_image(tags=["app:1"])
    b = make_image()
    assert store.tag(b.id, "app:1") == "docker.io/library/app:1"
    assert store.get("app:1").id == b.id
    assert store.get(a.id).repo_tags == []  # a is now dangling
    assert store.tag("app:1", "localhost:5000/app") == "localhost:5000/app:latest"
    assert store.get(b.id).repo_tags == ["app:1", "localhost:5000/app:latest"]
    assert store.get(b.id).last_tag_time.endswith("Z")
    assert store.untag("localhost:5000/app") == "localhost:5000/app:latest"
    with pytest.raises(ImageNotFound):
        store.untag("localhost:5000/app")
    with pytest.raises(ImageNotFound):
        store.tag("nothing", "x")


def test_tag_refuses_digests_and_sha256_name(store, make_image):
    img = make_image()
    with pytest.raises(InvalidArgument, match="refusing to create a tag with a digest reference"):
        store.tag(img.id, "app@sha256:" + "a" * 64)
    with pytest.raises(InvalidArgument, match="ambiguous tag using digest algorithm"):
        store.tag(img.id, "sha256:abc")
    with pytest.raises(InvalidArgument):
        store.tag(img.id, "Bad Name")


def test_repo_digests_and_index(store):
    data = layer_tar({"a": "1"})
    blob = compose.store_layer_tar(store.content, io.BytesIO(data))
    cfg = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [blob.diff_id]}}
    raw = compose.config_bytes(cfg)
    cd = store.content.put_bytes(raw)
    man = compose.manifest_for(cd, len(raw), [blob]).to_json()
    md = store.content.put_bytes(man)
    idx = spec.Index(manifests=[spec.Descriptor(spec.OCI_MANIFEST, md, len(man),
                                                platform=spec.Platform("linux", "amd64"))]).to_json()
    ixd = store.content.put_bytes(idx)
    img = store.add(md, tags=["registry.local/app:v1"], repo_digests=["registry.local/app"], index_digest=ixd)
    assert img.repo_digests == [f"registry.local/app@{ixd}"]
    assert store.resolve(f"registry.local/app@{ixd}") == img.id
    with pytest.raises(InvalidArgument, match="neither the manifest nor the index"):
        store.add(md, repo_digests=["registry.local/app@sha256:" + "0" * 64])
    with pytest.raises(InvalidImage, match="is an image index"):
        store.add(ixd)


def _manifest_with(store, layer_bytes, media_type, diff_id):
    ld = store.content.put_bytes(layer_bytes)
    cfg = compose.config_bytes({"architecture": "amd64", "os": "linux",
                                "rootfs": {"type": "layers", "diff_ids": [diff_id]}})
    cd = store.content.put_bytes(cfg)
    m = spec.Manifest(config=spec.Descriptor(spec.DOCKER_CONFIG, cd, len(cfg)),
                      layers=[spec.Descriptor(media_type, ld, len(layer_bytes))], media_type=spec.DOCKER_MANIFEST)
    return store.content.put_bytes(m.to_json()), ld


def test_add_gzip_layer_measures_uncompressed(store):
    tar = layer_tar({"hello": "world!", "link": "->hello"})
    md, ld = _manifest_with(store, gzip.compress(tar), spec.DOCKER_LAYER_GZIP, digest.of_bytes(tar))
    img = store.add(md, tags=["gz"])
    assert img.layers[0].digest == ld and img.layers[0].diff_id == digest.of_bytes(tar)
    assert img.size == len("world!") + len("hello")  # regular file + symlink target length


def test_add_rejects_wrong_diff_id_and_records_nothing(store):
    tar = layer_tar({"a": "1"})
    md, _ = _manifest_with(store, tar, spec.OCI_LAYER, "sha256:" + "0" * 64)
    with pytest.raises(InvalidImage, match="does not match the config's diff_id"):
        store.add(md, tags=["bad"])
    assert store.images() == []
    assert not store.exists("bad")


def test_add_rejects_missing_blobs_and_bad_layers(store):
    tar = layer_tar({"a": "1"})
    md, ld = _manifest_with(store, tar, spec.OCI_LAYER, digest.of_bytes(tar))
    store.content.delete(ld)
    with pytest.raises(InvalidImage, match="not in the content store"):
        store.add(md)
    md2, _ = _manifest_with(store, b"not a tar at all" * 100, spec.OCI_LAYER_GZIP, digest.of_bytes(tar))
    with pytest.raises(InvalidImage, match="cannot decompress|not a valid tar"):
        store.add(md2)
    with pytest.raises(InvalidImage, match="not in the content store"):
        store.add("sha256:" + "1" * 64)
    bad = store.content.put_bytes(json.dumps({"schemaVersion": 2, "config": 5, "layers": []}).encode())
    with pytest.raises(InvalidImage, match="manifest"):
        store.add(bad)
    assert store.images() == []


def test_readding_same_image_keeps_one_record(store):
    a = add_image(store, layers=[{"same": "1"}], tags=["one"])
    b = add_image(store, layers=[{"same": "1"}], tags=["two"])
    assert a.id == b.id
    assert [i.id for i in store.images()] == [a.id]
    assert store.get(a.id).repo_tags == ["one:latest", "two:latest"]


def test_layer_blobs_for_unpacking(store, make_image):
    img = make_image(tags=["two"], layers=[{"a": "1"}, {"b": "2"}])
    blobs = store.layer_blobs("two")
    assert [d for _, d in blobs] == img.diff_ids
    assert [digest.of_file(p) for p, _ in blobs] == [x.digest for x in img.layers]
