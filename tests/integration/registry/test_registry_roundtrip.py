"""Push and pull against a real docker-registry (distribution 2.8), checked with skopeo."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from dockyard.registry import errors
from dockyard.registry.pull import pull
from dockyard.registry.push import push
from dockyard.spec import image as spec

needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()

BUSYBOX = "/bin/busybox"


def busybox_layer():
    files = {"etc/hostname": b"dockyard\n", "hello.txt": b"hello from dockyard\n"}
    if os.path.exists(BUSYBOX):
        with open(BUSYBOX, "rb") as f:
            files["bin/busybox"] = f.read()
    return files


def test_push_then_pull_into_a_fresh_store(registry, store, new_store, images):
    img = images.image(store, [busybox_layer(), {"etc/motd": b"second layer\n"}])
    events = []
    got = push(f"{registry.host}/dy/roundtrip:1", store, img.manifest_digest, progress=events.append)
    assert got == img.manifest_digest
    statuses = [(e.get("id"), e["status"]) for e in events]
    assert statuses[0] == (None, f"The push refers to repository [{registry.host}/dy/roundtrip]")
    layer_ids = [d.split(":")[1][:12] for d in img.diff_ids]  # docker shows diff IDs when pushing
    for lid in layer_ids:
        assert (lid, "Preparing") in statuses and (lid, "Pushed") in statuses
    assert events[-1]["status"] == f"1: digest: {img.manifest_digest} size: {len(img.manifest)}"

    fresh = new_store()
    pevents = []
    res = pull(f"{registry.host}/dy/roundtrip:1", fresh, progress=pevents.append)
    assert res.manifest_digest == img.manifest_digest and res.index_digest is None
    assert res.config_digest == img.config_digest
    assert [d.digest for d in res.layers] == img.layers
    assert res.manifest_media_type == spec.DOCKER_MANIFEST
    assert res.config.config.cmd == ["sh"] and str(res.platform) == "linux/amd64"
    for d in [img.manifest_digest, img.config_digest, *img.layers]:
        assert fresh.read(d) == store.read(d)
    assert pevents[0] == {"status": "Pulling from dy/roundtrip", "progressDetail": {}, "id": "1"}
    for d in img.layers:
        sid = d.split(":")[1][:12]
        seq = [e["status"] for e in pevents if e.get("id") == sid]
        assert seq[0] == "Pulling fs layer" and seq[-2:] == ["Verifying Checksum", "Download complete"]
        last_dl = [e for e in pevents if e.get("id") == sid and e["status"] == "Downloading"][-1]
        size = fresh.size(d)
        assert last_dl["progressDetail"] == {"current": size, "total": size}

    # pushing again: every layer already exists; pulling again: every layer already exists
    events.clear()
    push(f"{registry.host}/dy/roundtrip:1", store, img.manifest_digest, progress=events.append)
    assert sorted(e["id"] for e in events if e["status"] == "Layer already exists") == sorted(layer_ids)
    pevents.clear()
    pull(f"{registry.host}/dy/roundtrip:1", fresh, progress=pevents.append)
    assert {e["status"] for e in pevents if "id" in e and e["id"] != "1"} == {"Already exists"}

    # by digest as well
    res2 = pull(f"{registry.host}/dy/roundtrip@{img.manifest_digest}", new_store())
    assert res2.manifest_digest == img.manifest_digest


def test_chunked_upload(registry, store, new_store, images, proxy):
    big = os.urandom(300_000)
    img = images.image(store, [{"big.bin": big}])
    push(f"{proxy.host}/dy/chunked:1", store, img.manifest_digest, chunk_threshold=1, chunk_size=64 << 10)
    patches = [r for r in proxy.requests if r[0] == "PATCH"]
    assert len(patches) >= 5  # the layer (~300 kB) in 64 kB chunks, plus the config
    ranges = [r[2]["Content-Range"] for r in patches]
    assert "0-65535" in ranges and "65536-131071" in ranges
    assert all(r[2].get("Content-Length") != "0" for r in patches)
    res = pull(f"{registry.host}/dy/chunked:1", new_store())
    assert res.manifest_digest == img.manifest_digest


def test_monolithic_upload_sends_blob_in_put(registry, store, images, proxy):
    img = images.image(store, [{"a": b"1"}])
    push(f"{proxy.host}/dy/mono:1", store, img.manifest_digest)
    assert not [r for r in proxy.requests if r[0] == "PATCH"]
    puts = [r for r in proxy.requests if r[0] == "PUT" and "/blobs/uploads/" in r[1]]
    assert len(puts) == 2 and all("digest=sha256" in r[1] for r in puts)


def test_cross_repository_mount(registry, store, images, proxy, new_store):
    img = images.image(store, [{"shared.txt": os.urandom(1000)}])
    push(f"{registry.host}/dy/mount-src:1", store, img.manifest_digest)
    events = []
    push(f"{proxy.host}/dy/mount-dst:1", store, img.manifest_digest, mount_from=["dy/mount-src"],
         progress=events.append)
    lid = img.diff_ids[0].split(":")[1][:12]
    assert {"status": "Mounted from dy/mount-src", "progressDetail": {}, "id": lid} in events
    posts = [r[1] for r in proxy.requests if r[0] == "POST"]
    assert posts and all("mount=sha256" in p and "from=dy%2Fmount-src" in p for p in posts)
    assert not [r for r in proxy.requests if r[0] in ("PATCH",) or (r[0] == "PUT" and "/blobs/" in r[1])]
    assert pull(f"{registry.host}/dy/mount-dst:1", new_store()).manifest_digest == img.manifest_digest


def test_mount_from_a_repository_without_the_blob_uploads(registry, store, images, new_store):
    img = images.image(store, [{"x": os.urandom(100)}])
    events = []
    push(f"{registry.host}/dy/mount-miss:1", store, img.manifest_digest, mount_from=["dy/nothing-here"],
         progress=events.append)
    assert "Pushed" in {e["status"] for e in events}
    assert pull(f"{registry.host}/dy/mount-miss:1", new_store()).manifest_digest == img.manifest_digest


def test_multi_platform_index(registry, store, new_store, images):
    amd = images.image(store, [{"arch": b"amd64\n"}], arch="amd64", oci=True)
    arm = images.image(store, [{"arch": b"arm64\n"}], arch="arm64", variant="v8", oci=True)
    idx = images.index(store, [(arm, {"architecture": "arm64", "os": "linux", "variant": "v8"}),
                               (amd, {"architecture": "amd64", "os": "linux"})])
    assert push(f"{registry.host}/dy/multi:1", store, idx.manifest_digest) == idx.manifest_digest
    s1 = new_store()
    res = pull(f"{registry.host}/dy/multi:1", s1, platform="linux/amd64")
    assert res.index_digest == idx.manifest_digest and res.manifest_digest == amd.manifest_digest
    assert res.manifest_media_type == spec.OCI_MANIFEST and s1.read(idx.manifest_digest) == idx.manifest
    assert not s1.has(arm.layers[0])
    res = pull(f"{registry.host}/dy/multi:1", new_store(), platform="linux/arm64")
    assert res.manifest_digest == arm.manifest_digest and str(res.platform) == "linux/arm64/v8"
    with pytest.raises(Exception, match="no matching manifest for linux/s390x in the manifest list entries"):
        pull(f"{registry.host}/dy/multi:1", new_store(), platform="linux/s390x")


def test_not_found_errors_read_like_docker(registry, store):
    with pytest.raises(errors.NotFound) as ei:
        pull(f"{registry.host}/nope/nothing:1", store)
    assert str(ei.value) == \
        f"manifest for {registry.host}/nope/nothing:1 not found: manifest unknown: manifest unknown"
    with pytest.raises(errors.NotFound, match="not found in the local store"):
        push(f"{registry.host}/dy/x:1", store, "sha256:" + "0" * 64)
    assert list(store.walk()) == []


def test_connection_refused(store):
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(errors.ConnectionFailed, match=f'GET "http://127.0.0.1:{port}/v2/": .*connection refused'):
        pull(f"127.0.0.1:{port}/x:1", store)


def test_registry_mirror_for_docker_hub(registry, store, new_store, images):
    img = images.image(store, [{"m": b"mirrored\n"}])
    push(f"{registry.host}/library/mirrored:1", store, img.manifest_digest)
    res = pull("mirrored:1", new_store(), mirrors=[f"http://{registry.host}"])
    assert res.manifest_digest == img.manifest_digest and str(res.reference) == "docker.io/library/mirrored:1"


@needs_skopeo
def test_skopeo_reads_what_we_pushed(registry, store, images, tmp_path):
    img = images.image(store, [{"s.txt": b"for skopeo\n"}])
    push(f"{registry.host}/dy/for-skopeo:2", store, img.manifest_digest)
    out = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{registry.host}/dy/for-skopeo:2"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["Digest"] == img.manifest_digest and info["Layers"] == img.layers
    assert info["Architecture"] == "amd64" and info["Os"] == "linux"
    dest = tmp_path / "copied"
    out = subprocess.run(["skopeo", "copy", "--src-tls-verify=false", f"docker://{registry.host}/dy/for-skopeo:2",
                          f"dir:{dest}"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert sha((dest / "manifest.json").read_bytes()) == img.manifest_digest
    for d in img.layers + [img.config_digest]:
        assert (dest / d.split(":")[1]).read_bytes() == store.read(d)


@needs_skopeo
def test_pull_what_skopeo_pushed(registry, tmp_path, new_store, images):
    """An OCI layout made by hand, copied into the registry by skopeo, pulled by us."""
    layout = tmp_path / "layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        d = sha(data)
        (blobs / d.split(":")[1]).write_bytes(data)
        return d
    import gzip
    tar = images.tar({"skopeo.txt": b"made by hand\n"})
    gz = gzip.compress(tar, mtime=0)
    layer = put(gz)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/true"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha(tar)]}}).encode()
    cfg = put(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": spec.OCI_MANIFEST,
                           "config": {"mediaType": spec.OCI_CONFIG, "digest": cfg, "size": len(config)},
                           "layers": [{"mediaType": spec.OCI_LAYER_GZIP, "digest": layer, "size": len(gz)}]}).encode()
    mdig = put(manifest)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": spec.OCI_MANIFEST, "digest": mdig, "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": "t"}}]}))
    out = subprocess.run(["skopeo", "copy", "--preserve-digests", "--dest-tls-verify=false", f"oci:{layout}:t",
                          f"docker://{registry.host}/dy/from-skopeo:t"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    s = new_store()
    res = pull(f"{registry.host}/dy/from-skopeo:t", s)
    assert res.manifest_digest == mdig and res.manifest_media_type == spec.OCI_MANIFEST
    assert res.config.config.cmd == ["/bin/true"]
    assert s.read(layer) == gz and s.read(cfg) == config
