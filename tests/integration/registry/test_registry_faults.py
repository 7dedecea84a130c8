"""Broken transfers against a real registry behind a fault-injecting proxy:
cut connections resume from the partial ingest, wrong bytes leave nothing behind."""
import os

import pytest

from dockyard.registry import errors
from dockyard.registry.pull import ingest_offset, pull
from dockyard.registry.push import push
from dockyard.spec.image import ManifestInvalid

CUT = 100_000


@pytest.fixture
def big_image(registry, store, images, request):
    img = images.image(store, [{"big.bin": os.urandom(400_000)}, {"small.txt": b"small\n"}])
    repo = f"dy/faults-{request.node.name.replace('_', '-')}"
    push(f"{registry.host}/{repo}:1", store, img.manifest_digest)
    return img, repo


def blob_hook(digest, action):
    """A proxy hook applying ``action(data)`` to GETs of one blob; returns the hook and a call log."""
    seen = []

    def hook(method, path, status, headers, data):
        if method == "GET" and path.endswith(f"/blobs/{digest}"):
            seen.append(status)
            return action(len(seen), status, data)
        return None
    return hook, seen


def ranges(proxy, digest):
    return [h.get("Range") for m, p, h in proxy.requests if m == "GET" and p.endswith(digest)]


@pytest.fixture
def big_image_bytes(big_image, store):
    return big_image + (store,)


def test_cut_mid_blob_resumes_with_range(big_image_bytes, proxy, new_store):
    img, repo, src = big_image_bytes
    big = img.layers[0]
    proxy.hook, seen = blob_hook(big, lambda n, status, data: ("cut", CUT) if n == 1 else None)
    events = []
    s = new_store()
    res = pull(f"{proxy.host}/{repo}:1", s, progress=events.append)
    assert res.manifest_digest == img.manifest_digest
    assert ranges(proxy, big) == [None, f"bytes={CUT}-"]
    assert seen == [200, 206]
    assert s.read(big) == src.read(big)
    sid = big.split(":")[1][:12]
    assert any(e["status"].startswith("Retrying in") and e["id"] == sid for e in events)


def test_interrupted_pull_leaves_partial_data_that_the_next_pull_resumes(big_image_bytes, proxy, new_store):
    img, repo, src = big_image_bytes
    big = img.layers[0]
    proxy.hook, seen = blob_hook(big, lambda n, status, data: ("cut", CUT) if n == 1 else None)
    s = new_store()
    with pytest.raises(errors.ConnectionFailed, match="unexpected EOF after 100000 of"):
        pull(f"{proxy.host}/{repo}:1", s, retries=0)
    assert not s.has(big) and not s.has(img.manifest_digest)
    assert ingest_offset(s, big) == CUT  # partial data kept in the store's ingest, invisible as a blob
    res = pull(f"{proxy.host}/{repo}:1", s)
    assert res.manifest_digest == img.manifest_digest
    assert ranges(proxy, big)[-1] == f"bytes={CUT}-"
    assert s.read(big) == src.read(big)
    assert ingest_offset(s, big) == 0
    assert os.listdir(s.root / "ingest") == []


def test_server_ignoring_range_restarts_cleanly(big_image_bytes, proxy, new_store):
    img, repo, src = big_image_bytes
    big = img.layers[0]
    proxy.hook, seen = blob_hook(big, lambda n, status, data: ("cut", CUT) if n == 1 else None)
    s = new_store()
    with pytest.raises(errors.ConnectionFailed):
        pull(f"{proxy.host}/{repo}:1", s, retries=0)
    assert ingest_offset(s, big) == CUT
    proxy.drop_request_headers = {"range"}  # the registry now answers 200 with the whole blob
    res = pull(f"{proxy.host}/{repo}:1", s)
    assert ranges(proxy, big)[-1] == f"bytes={CUT}-" and seen[-1] == 200
    assert res.manifest_digest == img.manifest_digest and s.read(big) == src.read(big)


def test_corrupted_blob_fails_and_leaves_nothing(big_image_bytes, proxy, new_store):
    img, repo, src = big_image_bytes
    big = img.layers[0]

    def corrupt(n, status, data):
        b = bytearray(data)
        b[len(b) // 2] ^= 0xFF
        return bytes(b)
    proxy.hook, seen = blob_hook(big, corrupt)
    s = new_store()
    with pytest.raises(errors.VerificationError, match=f"filesystem layer verification failed for digest {big}"):
        pull(f"{proxy.host}/{repo}:1", s)
    assert not s.has(big) and not s.has(img.manifest_digest)
    assert ingest_offset(s, big) == 0
    assert os.listdir(s.root / "ingest") == []
    assert seen == [200]  # a digest mismatch is not retried


def test_blob_longer_than_its_descriptor_is_refused(big_image_bytes, proxy, new_store):
    img, repo, src = big_image_bytes
    small = img.layers[1]
    proxy.hook, _ = blob_hook(small, lambda n, status, data: data + b"trailing garbage")
    s = new_store()
    with pytest.raises(errors.VerificationError, match=small):
        pull(f"{proxy.host}/{repo}:1", s)
    assert not s.has(small) and ingest_offset(s, small) == 0


def test_tampered_manifest_is_refused(big_image_bytes, proxy, new_store):
    img, repo, src = big_image_bytes

    def hook(method, path, status, headers, data):
        if method == "GET" and "/manifests/" in path:
            return data.replace(b'"schemaVersion": 2', b'"schemaVersion":2')
        return None
    proxy.hook = hook
    s = new_store()
    with pytest.raises(errors.VerificationError, match=f"manifest verification failed for digest {img.manifest_digest}"):
        pull(f"{proxy.host}/{repo}@{img.manifest_digest}", s)
    # by tag, the Docker-Content-Digest header no longer matches the body
    with pytest.raises(errors.VerificationError, match="manifest verification failed"):
        pull(f"{proxy.host}/{repo}:1", s)
    assert list(s.walk()) == []


def test_garbage_manifest_is_a_clear_error(big_image_bytes, proxy, new_store):
    img, repo, src = big_image_bytes

    def hook(method, path, status, headers, data):
        if "/manifests/" in path:
            return ("replace", b"<html>not a manifest</html>", ["Docker-Content-Digest"])
        return None
    proxy.hook = hook
    with pytest.raises(ManifestInvalid, match="^manifest: invalid JSON"):
        pull(f"{proxy.host}/{repo}:1", new_store())


def test_huge_manifest_is_refused(big_image_bytes, proxy, new_store):
    img, repo, src = big_image_bytes
    proxy.hook = lambda method, path, status, headers, data: (
        ("replace", b" " * (5 << 20), ["Docker-Content-Digest"]) if "/manifests/" in path else None)
    with pytest.raises(ManifestInvalid, match="exceeds the limit of 4194304 bytes"):
        pull(f"{proxy.host}/{repo}:1", new_store())
