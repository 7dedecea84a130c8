"""docker save / docker load: formats, round trips, and hostile archives."""
from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest
from images_testlib import add_image, layer_tar

from dockyard.images import archive, compose, digest, load
from dockyard.images.errors import ImageNotFound, InvalidImage
from dockyard.images.safetar import ArchiveError
from dockyard.images.store import ImageStore
from dockyard.spec import image as spec


def _save(store, names, fmt="docker") -> bytes:
    buf = io.BytesIO()
    archive.save(store, names, buf, format=fmt)
    return buf.getvalue()


def _members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name: m for m in tf.getmembers()}


def _read(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return tf.extractfile(name).read()


@pytest.fixture
def fresh(tmp_path):
    s = ImageStore(tmp_path / "fresh")
    yield s
    s.close()


def _gzip_image(store, tags):
    """An image whose layer is stored gzip-compressed under a Docker schema2 manifest (as pulled)."""
    tar = layer_tar({"etc/os-release": "gz", "bin/tool": "#!/bin/sh\n"})
    gz = gzip.compress(tar, mtime=0)
    ld = store.content.put_bytes(gz)
    cfg = compose.config_bytes({"architecture": "amd64", "os": "linux", "created": "2023-05-06T07:08:09.123456789Z",
                                "config": {"Cmd": ["/bin/tool"]},
                                "rootfs": {"type": "layers", "diff_ids": [digest.of_bytes(tar)]}})
    cd = store.content.put_bytes(cfg)
    m = spec.Manifest(config=spec.Descriptor(spec.DOCKER_CONFIG, cd, len(cfg)),
                      layers=[spec.Descriptor(spec.DOCKER_LAYER_GZIP, ld, len(gz))], media_type=spec.DOCKER_MANIFEST)
    return store.add(store.content.put_bytes(m.to_json()), tags=tags), tar


def test_docker_20_10_layout(store):
    img = add_image(store, tags=["app:1", "app:2"], layers=[{"a": "1"}, {"b": "2"}])
    data = _save(store, ["app:1", "app:2"])
    names = list(_members(data))
    manifest = json.loads(_read(data, "manifest.json"))
    assert len(manifest) == 1 and manifest[0]["Config"] == img.id.split(":")[1] + ".json"
    assert manifest[0]["RepoTags"] == ["app:1", "app:2"]
    assert len(manifest[0]["Layers"]) == 2 and all(x.endswith("/layer.tar") for x in manifest[0]["Layers"])
    assert _read(data, manifest[0]["Config"]) == store.content.read(img.id)  # config bytes untouched
    top = manifest[0]["Layers"][1].split("/")[0]
    assert json.loads(_read(data, "repositories")) == {"app": {"1": top, "2": top}}
    for layer_path in manifest[0]["Layers"]:
        v1 = layer_path.split("/")[0]
        assert _read(data, f"{v1}/VERSION") == b"1.0"
        js = json.loads(_read(data, f"{v1}/json"))
        assert js["id"] == v1 and js["os"] == "linux"
    bottom = json.loads(_read(data, manifest[0]["Layers"][0].split("/")[0] + "/json"))
    assert bottom["created"] == "1970-01-01T00:00:00Z" and "parent" not in bottom
    assert json.loads(_read(data, f"{top}/json"))["parent"] == bottom["id"]
    assert json.loads(_read(data, f"{top}/json"))["config"]["Cmd"] == ["sh"]
    assert names == sorted(names)  # written in lexical order like Docker's tar of its temp dir
    assert digest.of_bytes(_read(data, manifest[0]["Layers"][0])) == img.diff_ids[0]


def test_save_by_id_has_no_tags_and_saving_twice_is_identical(store):
    img = add_image(store, tags=["x"])
    data = _save(store, [img.short_id])
    assert json.loads(_read(data, "manifest.json"))[0]["RepoTags"] is None
    assert "repositories" not in _members(data)
    assert _save(store, [img.short_id]) == data
    with pytest.raises(ImageNotFound):
        _save(store, ["missing"])


def test_save_repository_name_takes_all_its_tags(store):
    a = add_image(store, tags=["repo:a"])
    b = add_image(store, tags=["repo:b", "other:c"])
    manifest = json.loads(_read(_save(store, ["repo"]), "manifest.json"))
    assert {m["Config"][:-5] for m in manifest} == {a.id[7:], b.id[7:]}
    assert sorted(t for m in manifest for t in m["RepoTags"]) == ["repo:a", "repo:b"]


def test_same_layer_at_another_position_becomes_a_symlink(store, fresh):
    add_image(store, tags=["one"], layers=[{"shared": "s"}])
    add_image(store, tags=["two"], layers=[{"base": "b"}, {"shared": "s"}])
    data = _save(store, ["one", "two"])
    links = [m for m in _members(data).values() if m.issym()]
    assert len(links) == 1 and links[0].linkname.startswith("../") and links[0].linkname.endswith("/layer.tar")
    lines = load.load(fresh, io.BytesIO(data))
    assert sorted(lines) == ["Loaded image: one:latest", "Loaded image: two:latest"]
    assert fresh.get("two").diff_ids == store.get("two").diff_ids


@pytest.mark.parametrize("fmt", ["docker", "oci"])
def test_round_trip_keeps_image_ids(store, fresh, fmt):
    plain = add_image(store, tags=["plain"], layers=[{"a": "1"}, {"b": "2"}])
    gz, tar = _gzip_image(store, ["gz:1"])
    untagged = add_image(store)
    data = _save(store, ["plain", "gz:1", untagged.id], fmt)
    if fmt == "oci":
        members = _members(data)
        assert {"oci-layout", "index.json", "manifest.json"} <= set(members)
        index = json.loads(_read(data, "index.json"))
        names = {(d.get("annotations") or {}).get("io.containerd.image.name") for d in index["manifests"]}
        assert names == {"docker.io/library/plain:latest", "docker.io/library/gz:1", None}
    lines = load.load(fresh, io.BytesIO(data))
    assert lines == ["Loaded image: plain:latest", "Loaded image: gz:1", f"Loaded image ID: {untagged.id}"]
    for old in (plain, gz, untagged):
        new = fresh.get(old.id)
        assert new.diff_ids == old.diff_ids and new.size == old.size
    assert fresh.get("gz:1").id == gz.id
    assert fresh.get("gz:1").layers[0].media_type == spec.OCI_LAYER  # stored uncompressed after load
    assert fresh.content.read(fresh.get("gz:1").layers[0].digest) == tar
    assert fresh.inspect("gz:1")["Created"] == "2023-05-06T07:08:09.123456789Z"


def test_load_compressed_archive_and_retag_message(store, fresh):
    old = add_image(fresh, tags=["app"])
    img = add_image(store, tags=["app"])
    data = gzip.compress(_save(store, ["app"]))
    lines = load.load(fresh, io.BytesIO(data))
    assert lines == [f"The image app:latest already exists, renaming the old one with ID {old.id} to empty string",
                     "Loaded image: app:latest"]
    assert fresh.get("app").id == img.id and fresh.get(old.id).repo_tags == []


def test_load_oci_layout_directory(store, fresh, tmp_path):
    from dockyard.images import ocilayout

    img, _ = _gzip_image(store, ["gz:1"])
    ocilayout.save_oci_layout(store, "gz:1", tmp_path / "layout")
    index = json.loads((tmp_path / "layout" / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "1"
    m = json.loads((tmp_path / "layout" / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]).read_bytes())
    assert m["mediaType"] == spec.OCI_MANIFEST and m["layers"][0]["mediaType"] == spec.OCI_LAYER_GZIP
    assert load.load(fresh, tmp_path / "layout") == ["Loaded image: gz:1"]
    got = fresh.get("gz:1")
    assert got.id == img.id and got.layers[0].media_type == spec.OCI_LAYER_GZIP  # blobs kept as they were


# --- hostile archives ---------------------------------------------------------


def _tar(entries) -> bytes:
    """entries: (name, bytes) for files, (name, '->target') for symlinks, or TarInfo objects with data."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for e in entries:
            if isinstance(e, tarfile.TarInfo):
                tf.addfile(e)
                continue
            name, data = e
            ti = tarfile.TarInfo(name)
            if isinstance(data, str) and data.startswith("->"):
                ti.type, ti.linkname = tarfile.SYMTYPE, data[2:]
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _valid_parts():
    tar = layer_tar({"f": "data"})
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": [digest.of_bytes(tar)]}}).encode()
    cid = digest.of_bytes(cfg)[7:]
    manifest = json.dumps([{"Config": f"{cid}.json", "RepoTags": ["evil:1"], "Layers": ["l/layer.tar"]}]).encode()
    return tar, cfg, cid, manifest


def _assert_nothing_added(store):
    assert store.images() == []
    assert list(store.content.walk()) == []


def test_well_formed_minimal_archive_loads(fresh):
    tar, cfg, cid, manifest = _valid_parts()
    lines = load.load(fresh, io.BytesIO(_tar([("manifest.json", manifest), (f"{cid}.json", cfg), ("l/layer.tar", tar)])))
    assert lines == ["Loaded image: evil:1"]


@pytest.mark.parametrize("case,match", [
    ("dotdot", "escapes the archive"),
    ("absolute", "absolute path"),
    ("symlink_out", "leaves the archive"),
    ("symlink_abs", "leaves the archive"),
    ("symlink_chain", "resolves outside the archive"),
    ("through_symlink", "goes through a symlink"),
    ("hardlink", "hard links are not allowed"),
    ("device", "device, FIFO or other special file"),
    ("duplicate", "duplicate member"),
    ("huge_manifest", "too large"),
    ("missing_layer", "missing 'l/layer.tar'"),
    ("diff_mismatch", "does not match the config's diff_id"),
    ("config_name_mismatch", "does not match its name"),
    ("not_tar", "invalid image archive"),
    ("no_manifest", "no manifest.json or index.json"),
    ("bad_manifest_json", "invalid manifest.json"),
    ("bad_tag", "invalid manifest.json entry 0"),
    ("layer_count", "1 layers but the config lists 2 diff_ids"),
])
def test_hostile_archives_fail_cleanly(fresh, case, match):
    tar, cfg, cid, manifest = _valid_parts()
    good = [("manifest.json", manifest), (f"{cid}.json", cfg), ("l/layer.tar", tar)]
    if case == "dotdot":
        entries = good + [("../escape", b"x")]
    elif case == "absolute":
        entries = good + [("/etc/evil", b"x")]
    elif case == "symlink_out":
        entries = good + [("out", "->../../etc/passwd")]
    elif case == "symlink_abs":
        entries = good + [("out", "->/etc/passwd")]
    elif case == "symlink_chain":
        # each link looks inside on its own, but l2 -> d/up/../x resolves through d/up -> .. to outside
        m = json.dumps([{"Config": f"{cid}.json", "RepoTags": [], "Layers": ["esc/layer.tar"]}]).encode()
        entries = [("manifest.json", m), (f"{cid}.json", cfg), ("d/up", "->.."), ("esc", "->d/up/../x")]
    elif case == "through_symlink":
        entries = good + [("link", "->l"), ("link/other", b"x")]
    elif case == "hardlink":
        ti = tarfile.TarInfo("hl")
        ti.type, ti.linkname = tarfile.LNKTYPE, "manifest.json"
        entries = good + [ti]
    elif case == "device":
        ti = tarfile.TarInfo("dev")
        ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
        entries = good + [ti]
    elif case == "duplicate":
        entries = good + [("manifest.json", b"[]")]
    elif case == "huge_manifest":
        entries = [("manifest.json", b" " * (5 << 20) + manifest)] + good[1:]
    elif case == "missing_layer":
        entries = good[:2]
    elif case == "diff_mismatch":
        entries = good[:2] + [("l/layer.tar", layer_tar({"f": "other"}))]
    elif case == "config_name_mismatch":
        m = json.dumps([{"Config": "0" * 64 + ".json", "RepoTags": [], "Layers": ["l/layer.tar"]}]).encode()
        entries = [("manifest.json", m), ("0" * 64 + ".json", cfg), ("l/layer.tar", tar)]
    elif case == "not_tar":
        data = b"this is not a tar archive at all" * 40
    elif case == "no_manifest":
        entries = good[1:]
    elif case == "bad_manifest_json":
        entries = [("manifest.json", b"{not json")] + good[1:]
    elif case == "bad_tag":
        m = json.dumps([{"Config": f"{cid}.json", "RepoTags": ["Bad Tag!"], "Layers": ["l/layer.tar"]}]).encode()
        entries = [("manifest.json", m)] + good[1:]
    elif case == "layer_count":
        c2 = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
            "type": "layers", "diff_ids": [digest.of_bytes(tar), digest.of_bytes(b"x")]}}).encode()
        c2id = digest.of_bytes(c2)[7:]
        m = json.dumps([{"Config": f"{c2id}.json", "RepoTags": [], "Layers": ["l/layer.tar"]}]).encode()
        entries = [("manifest.json", m), (f"{c2id}.json", c2), ("l/layer.tar", tar)]
    if case != "not_tar":
        data = _tar(entries)
    with pytest.raises(InvalidImage, match=match):
        load.load(fresh, io.BytesIO(data))
    _assert_nothing_added(fresh)
    assert not any(fresh.root.joinpath("tmp").iterdir())  # the unpack directory is gone


def test_oci_layout_with_tampered_blob_fails_cleanly(store, fresh, tmp_path):
    from dockyard.images import ocilayout

    add_image(store, tags=["t"])
    ocilayout.save_oci_layout(store, "t", tmp_path / "layout")
    img = store.get("t")
    blob = tmp_path / "layout" / "blobs" / "sha256" / img.layers[0].digest[7:]
    data = bytearray(blob.read_bytes())
    data[600] ^= 1
    blob.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="digest mismatch"):
        load.load(fresh, tmp_path / "layout")
    _assert_nothing_added(fresh)


def test_failed_load_keeps_blobs_other_images_use(store, fresh):
    tar, cfg, cid, manifest = _valid_parts()
    load.load(fresh, io.BytesIO(_tar([("manifest.json", manifest), (f"{cid}.json", cfg), ("l/layer.tar", tar)])))
    before = set(fresh.content.walk())
    m2 = json.dumps([{"Config": f"{cid}.json", "RepoTags": ["Bad Tag"], "Layers": ["l/layer.tar"]}]).encode()
    with pytest.raises(InvalidImage):
        load.load(fresh, io.BytesIO(_tar([("manifest.json", m2), (f"{cid}.json", cfg), ("l/layer.tar", tar)])))
    assert set(fresh.content.walk()) == before and fresh.get("evil:1")


def test_oci_layout_with_multi_platform_index_loads_the_host_platform(store, fresh, tmp_path):
    from dockyard.images import ocilayout, platform

    img = add_image(store, tags=["multi"])
    layout = tmp_path / "layout"
    desc = ocilayout.save_oci_layout(store, "multi", layout)
    host = platform.host()
    other = spec.Platform("linux", "s390x" if host.architecture != "s390x" else "amd64")
    missing = "sha256:" + "5" * 64  # the other platform's manifest is not in the layout, and need not be
    index = spec.Index(manifests=[
        spec.Descriptor(spec.OCI_MANIFEST, missing, 123, platform=other),
        spec.Descriptor(spec.OCI_MANIFEST, desc["digest"], desc["size"], platform=host),
    ]).to_json()
    ixd = digest.of_bytes(index)
    (layout / "blobs" / "sha256" / ixd[7:]).write_bytes(index)
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": spec.OCI_INDEX, "digest": ixd, "size": len(index),
         "annotations": {"io.containerd.image.name": "docker.io/library/multi:2"}}]}))
    assert load.load(fresh, layout) == ["Loaded image: multi:2"]
    assert fresh.get("multi:2").id == img.id
    assert ixd in set(fresh.content.walk())  # the index is kept with the image
    assert fresh.gc() == []


def test_v1_layer_ids_match_docker_20_10():
    # config and v1 IDs as dockerd 20.10.24 saved them (two layers, HTML-escaped label, author, container_config)
    cfg = json.loads(
        '{"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z","config":{"Cmd":["sh"],'
        '"Env":["PATH=/bin"],"Labels":{"z":"<&>","a":"1"}},"history":[{"created":"2024-01-02T03:04:05Z",'
        '"created_by":"layer 0"},{"created":"2024-01-02T03:04:05Z","created_by":"layer 1"}],"author":"A <a@b>",'
        '"container_config":{"Cmd":["/bin/sh","-c","#(nop) X"]},"docker_version":"20.10.24","rootfs":{"type":'
        '"layers","diff_ids":["sha256:7352ff4b066da171365d17c30430ea8718c09b7784789e203eb2cc3f790490c2",'
        '"sha256:ad1976a062a003ec791080695afdc0f89b8bcc00fde16e3ef4fdf8519be3bb7b"]}}')
    layers = archive.v1_layers(cfg)
    assert [v1id for v1id, _ in layers] == ["ba599dfb6f520a5975c389b01a31bd5d6efdbae18091c1211984adb7fa8c9496",
                                            "299d8d0b4483a70d2312644368e0c7919d28143ad72d488eeb35d753eb540dbb"]
    top = json.loads(layers[1][1])
    assert top["parent"] == layers[0][0] and top["author"] == "A <a@b>"
    assert b'"z":"\\u003c\\u0026\\u003e"' in layers[1][1]  # Go escapes <, & and > in JSON strings
    assert list(top["config"]["Labels"]) == ["a", "z"]  # Go maps are written sorted


def test_oci_layout_tar_with_dot_slash_names_loads(store, fresh, tmp_path):
    from dockyard.images import ocilayout

    img = add_image(store, tags=["dots"])
    ocilayout.save_oci_layout(store, "dots", tmp_path / "layout")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        tf.add(tmp_path / "layout", arcname=".")  # what `tar -C layout -cf x.tar .` writes
    # the layout names the image, so the fallback tag is not used
    assert load.load(fresh, io.BytesIO(buf.getvalue()), tag="dots:x") == ["Loaded image: dots:latest"]
    assert fresh.get("dots").id == img.id


def test_save_decompresses_zstd_layers(store, fresh):
    import zstandard

    tar = layer_tar({"z": "zstd content"})
    zs = zstandard.ZstdCompressor().compress(tar)
    ld = store.content.put_bytes(zs)
    cfg = compose.config_bytes({"architecture": "amd64", "os": "linux",
                                "rootfs": {"type": "layers", "diff_ids": [digest.of_bytes(tar)]}})
    cd = store.content.put_bytes(cfg)
    m = spec.Manifest(config=spec.Descriptor(spec.OCI_CONFIG, cd, len(cfg)),
                      layers=[spec.Descriptor(spec.OCI_LAYER_ZSTD, ld, len(zs))])
    img = store.add(store.content.put_bytes(m.to_json()), tags=["zst"])
    data = _save(store, ["zst"])
    layer_path = json.loads(_read(data, "manifest.json"))[0]["Layers"][0]
    assert _read(data, layer_path) == tar
    load.load(fresh, io.BytesIO(data))
    assert fresh.get("zst").id == img.id
