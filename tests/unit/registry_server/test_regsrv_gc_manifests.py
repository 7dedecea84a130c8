"""What a pushed manifest references (manifests.inspect) and what garbage collection keeps."""
import hashlib
import json

import pytest

from dockyard.registry.server import manifests as mf
from dockyard.registry.server.errors import RegistryError
from dockyard.registry.server.storage import Storage
from dockyard.registry.server.storage.gc import collect
from dockyard.spec import image as spec


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest(config: bytes, layers: list[bytes], media_type=spec.OCI_MANIFEST, **extra) -> bytes:
    body = {"schemaVersion": 2, "config": {"mediaType": spec.OCI_CONFIG, "size": len(config), "digest": sha(config)},
            "layers": [{"mediaType": spec.OCI_LAYER, "size": len(x), "digest": sha(x)} for x in layers], **extra}
    if media_type:
        body["mediaType"] = media_type
    return json.dumps(body).encode()


def test_inspect_manifest_and_index():
    m = manifest(b"{}", [b"l1", b"l2"])
    ins = mf.inspect(m, spec.OCI_MANIFEST + "; charset=utf-8")
    assert ins.media_type == spec.OCI_MANIFEST and [d.digest for d in ins.blobs] == [sha(b"{}"), sha(b"l1"), sha(b"l2")]
    assert ins.children == [] and ins.subject is None
    ins = mf.inspect(manifest(b"{}", [], media_type=None), None)          # neither field nor header
    assert ins.media_type == spec.OCI_MANIFEST
    ins = mf.inspect(manifest(b"{}", [], media_type=None), spec.DOCKER_MANIFEST)   # the header decides
    assert ins.media_type == spec.DOCKER_MANIFEST
    idx = json.dumps({"schemaVersion": 2, "mediaType": spec.DOCKER_MANIFEST_LIST, "manifests": [
        {"mediaType": spec.DOCKER_MANIFEST, "size": 1, "digest": sha(b"a"), "platform": {"os": "linux",
                                                                                          "architecture": "amd64"}},
        {"mediaType": "application/vnd.example.blob", "size": 1, "digest": sha(b"b")}]}).encode()
    ins = mf.inspect(idx, "application/json")
    assert ins.media_type == spec.DOCKER_MANIFEST_LIST
    assert [d.digest for d in ins.children] == [sha(b"a")] and [d.digest for d in ins.blobs] == [sha(b"b")]


def test_foreign_layers_need_not_be_pushed():
    m = json.dumps({"schemaVersion": 2, "mediaType": spec.DOCKER_MANIFEST,
                    "config": {"mediaType": spec.DOCKER_CONFIG, "size": 2, "digest": sha(b"{}")},
                    "layers": [{"mediaType": spec.DOCKER_FOREIGN_LAYER_GZIP, "size": 5, "digest": sha(b"win"),
                                "urls": ["https://example.com/layer"]}]}).encode()
    assert [d.digest for d in mf.inspect(m, None).blobs] == [sha(b"{}")]


def test_referrer_descriptor():
    subject = {"mediaType": spec.OCI_MANIFEST, "size": 3, "digest": sha(b"sub")}
    m = manifest(b"{}", [], artifactType="application/x.sig", subject=subject, annotations={"k": "v"})
    ins = mf.inspect(m, spec.OCI_MANIFEST)
    assert ins.subject.digest == sha(b"sub")
    assert ins.referrer_descriptor("sha256:" + "1" * 64, 99) == {
        "mediaType": spec.OCI_MANIFEST, "digest": "sha256:" + "1" * 64, "size": 99,
        "artifactType": "application/x.sig", "annotations": {"k": "v"}}
    plain = mf.inspect(manifest(b"{}", [], subject=subject), None).referrer_descriptor("sha256:" + "1" * 64, 1)
    assert plain["artifactType"] == spec.OCI_CONFIG and "annotations" not in plain


@pytest.mark.parametrize("data, ctype, why", [
    (b"{", spec.OCI_MANIFEST, "invalid JSON"),
    (json.dumps({"schemaVersion": 1}).encode(), None, "schema 1"),
    (b"{}", spec.DOCKER_MANIFEST_V1_SIGNED, "schema 1"),
    (manifest(b"{}", []), spec.DOCKER_MANIFEST, "does not match the Content-Type"),
    (manifest(b"{}", [], media_type=None), spec.OCI_INDEX, "belong to a manifest"),
    (json.dumps({"schemaVersion": 2, "mediaType": "text/plain"}).encode(), None, "unsupported manifest media type"),
])
def test_refused_manifests(data, ctype, why):
    with pytest.raises(RegistryError, match=why) as e:
        mf.inspect(data, ctype)
    assert e.value.code == "MANIFEST_INVALID"


def _push(st: Storage, name: str, tag: str | None, layers: list[bytes], **extra) -> str:
    config = json.dumps({"layers": len(layers), "tag": tag}).encode()
    for blob in (config, *layers):
        st.blobs.put_bytes(blob, sha(blob))
        st.repos.link_blob(name, sha(blob))
    m = manifest(config, layers, **extra)
    st.blobs.put_bytes(m, sha(m))
    st.repos.link_manifest(name, sha(m), spec.OCI_MANIFEST)
    if tag:
        st.repos.set_tag(name, tag, sha(m))
    ins = mf.inspect(m, spec.OCI_MANIFEST)
    if ins.subject:
        st.repos.add_referrer(name, ins.subject.digest, ins.referrer_descriptor(sha(m), len(m)))
    return sha(m)


def test_gc_keeps_what_manifests_reference(tmp_path):
    st = Storage(tmp_path / "r")
    keep = _push(st, "a", "1", [b"shared", b"only-a"])
    _push(st, "b", "1", [b"shared", b"only-b"])
    gone = _push(st, "b", "2", [b"only-b2"])
    st.repos.unlink_manifest("b", gone)
    st.blobs.put_bytes(b"stray", sha(b"stray"))
    st.repos.link_blob("c", sha(b"stray"))
    dry = collect(st, dry_run=True)
    assert {d for d, _ in dry.blobs} == {sha(b"only-b2"), gone, sha(b"stray"),
                                         sha(json.dumps({"layers": 1, "tag": "2"}).encode())}
    assert st.blobs.has(sha(b"stray"))       # a dry run changes nothing
    res = collect(st)
    assert {d for d, _ in res.blobs} == {d for d, _ in dry.blobs} and res.freed == sum(s for _, s in dry.blobs)
    assert res.links == 3 and res.manifests == []
    for blob in (b"shared", b"only-a", b"only-b"):
        assert st.blobs.has(sha(blob))
    assert st.blobs.has(keep) and not st.repos.has_blob("c", sha(b"stray"))


def test_gc_delete_untagged_keeps_referrers_and_index_children(tmp_path):
    st = Storage(tmp_path / "r")
    child = _push(st, "r", None, [b"child-layer"])
    idx = json.dumps({"schemaVersion": 2, "mediaType": spec.OCI_INDEX, "manifests": [
        {"mediaType": spec.OCI_MANIFEST, "size": 1, "digest": child}]}).encode()
    st.blobs.put_bytes(idx, sha(idx))
    st.repos.link_manifest("r", sha(idx), spec.OCI_INDEX)
    st.repos.set_tag("r", "latest", sha(idx))
    sig = _push(st, "r", None, [b"signature"], subject={"mediaType": spec.OCI_MANIFEST, "size": 1, "digest": child})
    old = _push(st, "r", None, [b"old-layer"])
    old_sig = _push(st, "r", None, [b"old-sig"], subject={"mediaType": spec.OCI_MANIFEST, "size": 1, "digest": old})
    res = collect(st, delete_untagged=True)
    assert sorted(res.manifests) == sorted([("r", old), ("r", old_sig)])
    for d in (child, sha(idx), sig, sha(b"child-layer"), sha(b"signature")):
        assert st.blobs.has(d)
    for d in (old, old_sig, sha(b"old-layer"), sha(b"old-sig")):
        assert not st.blobs.has(d)
    assert st.repos.manifest_type("r", old) is None and list(st.repos.subjects("r")) == [(child, sig)]
