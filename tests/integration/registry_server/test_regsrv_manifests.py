"""Manifests, tags, the catalog, referrers and deletes over HTTP."""
import json

from regsrv_support import Api, layer_tar, sha

from dockyard.spec import image as spec


def test_docker_manifest_by_tag_and_digest(api):
    digest, data = api.push_image("img", "v1")
    for ref in ("v1", digest):
        r = api("GET", f"/v2/img/manifests/{ref}", headers={"Accept": spec.DOCKER_MANIFEST})
        assert r.status == 200 and r.body == data     # byte for byte
        assert r.header("content-type") == spec.DOCKER_MANIFEST
        assert r.header("docker-content-digest") == digest
        r = api("HEAD", f"/v2/img/manifests/{ref}")
        assert r.status == 200 and r.body == b"" and r.header("content-length") == str(len(data))
        assert r.header("docker-content-digest") == digest


def test_put_answers_location_and_digest(api):
    config = api.push_blob("loc", b"{}")
    m = json.dumps({"schemaVersion": 2, "mediaType": spec.OCI_MANIFEST,
                    "config": {"mediaType": spec.OCI_CONFIG, "size": 2, "digest": config}, "layers": []}).encode()
    r = api("PUT", "/v2/loc/manifests/latest", m, {"Content-Type": spec.OCI_MANIFEST})
    assert r.status == 201
    assert r.header("location") == f"/v2/loc/manifests/{sha(m)}" and r.header("docker-content-digest") == sha(m)
    assert r.header("oci-subject") is None


def test_oci_manifest_without_media_type_field_keeps_its_content_type(api):
    config = api.push_blob("nomt", b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    m = json.dumps({"schemaVersion": 2, "config": {"mediaType": spec.OCI_CONFIG, "size": 78, "digest": config},
                    "layers": []}).encode()
    api.push_manifest("nomt", "1", m, spec.OCI_MANIFEST)
    assert api("GET", "/v2/nomt/manifests/1").header("content-type") == spec.OCI_MANIFEST


def test_indexes_and_manifest_lists(api):
    for oci, mt in ((True, spec.OCI_INDEX), (False, spec.DOCKER_MANIFEST_LIST)):
        name = f"multi/{'oci' if oci else 'docker'}"
        children = []
        for arch in ("amd64", "arm64"):
            d, data = api.push_image(name, None, [layer_tar({"arch": arch.encode()})], oci=oci, arch=arch)
            children.append({"mediaType": spec.OCI_MANIFEST if oci else spec.DOCKER_MANIFEST, "size": len(data),
                             "digest": d, "platform": {"os": "linux", "architecture": arch}})
        idx = json.dumps({"schemaVersion": 2, "mediaType": mt, "manifests": children}).encode()
        api.push_manifest(name, "latest", idx, mt)
        r = api("GET", f"/v2/{name}/manifests/latest")
        assert r.body == idx and r.header("content-type") == mt
        missing = dict(children[0], digest=sha(b"nope"))
        bad = json.dumps({"schemaVersion": 2, "mediaType": mt, "manifests": [missing]}).encode()
        r = api("PUT", f"/v2/{name}/manifests/bad", bad, {"Content-Type": mt})
        assert r.status == 400 and r.codes == ["MANIFEST_BLOB_UNKNOWN"]
        assert r.json()["errors"][0]["detail"] == {"digest": sha(b"nope")}


def test_manifest_must_reference_blobs_of_its_repository(api):
    layer = api.push_blob("other", b"layer in another repository")
    config = api.push_blob("mbu", b"{}")
    m = json.dumps({"schemaVersion": 2, "mediaType": spec.DOCKER_MANIFEST,
                    "config": {"mediaType": spec.DOCKER_CONFIG, "size": 2, "digest": config},
                    "layers": [{"mediaType": spec.DOCKER_LAYER, "size": 27, "digest": layer}]}).encode()
    r = api("PUT", "/v2/mbu/manifests/1", m, {"Content-Type": spec.DOCKER_MANIFEST})
    assert r.status == 400 and r.codes == ["MANIFEST_BLOB_UNKNOWN"]
    assert api("GET", "/v2/mbu/manifests/1").status == 404


def test_embedded_empty_config_is_accepted(api):
    m = json.dumps({"schemaVersion": 2, "mediaType": spec.OCI_MANIFEST, "artifactType": "application/x.test",
                    "config": {"mediaType": spec.OCI_EMPTY, "size": 2, "data": "e30=",
                               "digest": sha(b"{}")}, "layers": []}).encode()
    api.push_manifest("emb", "1", m, spec.OCI_MANIFEST)
    assert api("GET", f"/v2/emb/blobs/{sha(b'{}')}").body == b"{}"


def test_invalid_manifests(api):
    config = api.push_blob("inv", b"{}")
    good = {"schemaVersion": 2, "mediaType": spec.DOCKER_MANIFEST,
            "config": {"mediaType": spec.DOCKER_CONFIG, "size": 2, "digest": config}, "layers": []}
    cases = [
        (b"not json", spec.DOCKER_MANIFEST),
        (b"[]", spec.DOCKER_MANIFEST),
        (json.dumps({"schemaVersion": 1, "name": "inv", "tag": "x", "fsLayers": []}).encode(),
         spec.DOCKER_MANIFEST_V1_SIGNED),
        (json.dumps(good).encode(), spec.OCI_MANIFEST),                               # type mismatch
        (json.dumps({**good, "config": {"digest": "sha256:bad"}}).encode(), spec.DOCKER_MANIFEST),
        (b'{"schemaVersion": 2, "schemaVersion": 2}', spec.DOCKER_MANIFEST),          # duplicate key
    ]
    for body, ctype in cases:
        r = api("PUT", "/v2/inv/manifests/x", body, {"Content-Type": ctype})
        assert r.status == 400 and r.codes == ["MANIFEST_INVALID"], body
    r = api("PUT", "/v2/inv/manifests/bad%20tag", json.dumps(good).encode(), {"Content-Type": spec.DOCKER_MANIFEST})
    assert r.status == 400 and r.codes == ["MANIFEST_INVALID"]


def test_put_by_digest_and_digest_mismatch(api):
    config = api.push_blob("bydig", b"{}")
    m = json.dumps({"schemaVersion": 2, "mediaType": spec.OCI_MANIFEST,
                    "config": {"mediaType": spec.OCI_CONFIG, "size": 2, "digest": config}, "layers": []}).encode()
    r = api("PUT", f"/v2/bydig/manifests/{sha(b'other')}", m, {"Content-Type": spec.OCI_MANIFEST})
    assert r.status == 400 and r.codes == ["DIGEST_INVALID"]
    api.push_manifest("bydig", sha(m), m, spec.OCI_MANIFEST)
    d512 = sha(m, "sha512")
    r = api.push_manifest("bydig", d512, m, spec.OCI_MANIFEST)
    assert r.header("docker-content-digest") == d512
    assert api("GET", f"/v2/bydig/manifests/{d512}").body == m
    assert api("GET", "/v2/bydig/tags/list").json()["tags"] == []


def test_oversize_manifest_is_refused(start_server):
    api = Api(start_server(max_manifest_size=4096).host)
    big = json.dumps({"schemaVersion": 2, "mediaType": spec.OCI_INDEX, "manifests": [],
                      "annotations": {"pad": "x" * 5000}}).encode()
    r = api("PUT", "/v2/big/manifests/1", big, {"Content-Type": spec.OCI_INDEX})
    assert r.status == 413 and r.codes == ["MANIFEST_INVALID"]
    r = api("PUT", "/v2/big/manifests/1", iter([big]), {"Content-Type": spec.OCI_INDEX})   # chunked, no length
    assert r.status == 413


def test_unknown_manifests_and_repositories(api):
    r = api("GET", "/v2/never/manifests/latest")
    assert r.status == 404 and r.codes == ["NAME_UNKNOWN"]
    api.push_image("known", "1")
    r = api("GET", "/v2/known/manifests/2")
    assert r.status == 404 and r.codes == ["MANIFEST_UNKNOWN"]
    r = api("GET", f"/v2/known/manifests/{sha(b'x')}")
    assert r.status == 404 and r.codes == ["MANIFEST_UNKNOWN"]
    assert api("HEAD", "/v2/known/manifests/2").status == 404


def test_etag_conditional_get(api):
    digest, _ = api.push_image("etag", "1")
    r = api("GET", "/v2/etag/manifests/1")
    assert r.header("etag") == f'"{digest}"'
    assert api("GET", "/v2/etag/manifests/1", headers={"If-None-Match": f'"{digest}"'}).status == 304
    assert api("GET", "/v2/etag/manifests/1", headers={"If-None-Match": '"other"'}).status == 200


def test_tags_list_and_pagination(api):
    digest, _ = api.push_image("tagged", "a")
    config = json.loads(api("GET", "/v2/tagged/manifests/a").body)
    data = api("GET", f"/v2/tagged/manifests/{digest}").body
    for t in ("c", "b", "B", "e", "d"):
        api.push_manifest("tagged", t, data, config["mediaType"])
    r = api("GET", "/v2/tagged/tags/list")
    assert r.json() == {"name": "tagged", "tags": ["B", "a", "b", "c", "d", "e"]}
    r = api("GET", "/v2/tagged/tags/list?n=2")
    assert r.json()["tags"] == ["B", "a"] and r.header("link") == '</v2/tagged/tags/list?n=2&last=a>; rel="next"'
    r = api("GET", "/v2/tagged/tags/list?n=2&last=a")
    assert r.json()["tags"] == ["b", "c"]
    r = api("GET", "/v2/tagged/tags/list?n=10&last=c")
    assert r.json()["tags"] == ["d", "e"] and r.header("link") is None
    r = api("GET", "/v2/tagged/tags/list?last=d")
    assert r.json()["tags"] == ["e"]
    r = api("GET", "/v2/tagged/tags/list?n=0")
    assert r.json()["tags"] == [] and r.header("link") is None
    assert api("GET", "/v2/tagged/tags/list?n=-1").status == 400
    r = api("GET", "/v2/untagged/tags/list")
    assert r.status == 404 and r.codes == ["NAME_UNKNOWN"]


def test_catalog(api):
    for name in ("zeta", "alpha/one", "alpha/two", "mid"):
        api.push_blob(name, b"x")
    r = api("GET", "/v2/_catalog")
    assert r.json() == {"repositories": ["alpha/one", "alpha/two", "mid", "zeta"]}
    r = api("GET", "/v2/_catalog?n=3")
    assert r.json()["repositories"] == ["alpha/one", "alpha/two", "mid"]
    assert r.header("link") == '</v2/_catalog?n=3&last=mid>; rel="next"'
    assert api("GET", "/v2/_catalog?n=3&last=mid").json()["repositories"] == ["zeta"]


def _artifact(api, name, subject_digest, subject_size, artifact_type, annotations=None, index=False):
    subject = {"mediaType": spec.OCI_MANIFEST, "digest": subject_digest, "size": subject_size}
    if index:
        body = {"schemaVersion": 2, "mediaType": spec.OCI_INDEX, "manifests": [], "subject": subject}
        mt = spec.OCI_INDEX
    else:
        blob = api.push_blob(name, f"signature of {subject_digest}".encode())
        body = {"schemaVersion": 2, "mediaType": spec.OCI_MANIFEST,
                "config": {"mediaType": spec.OCI_EMPTY, "size": 2, "digest": sha(b"{}"), "data": "e30="},
                "layers": [{"mediaType": "application/octet-stream", "size": len(f"signature of {subject_digest}"),
                            "digest": blob}], "subject": subject}
        if artifact_type:
            body["artifactType"] = artifact_type
        mt = spec.OCI_MANIFEST
    if annotations:
        body["annotations"] = annotations
    data = json.dumps(body).encode()
    r = api("PUT", f"/v2/{name}/manifests/{sha(data)}", data, {"Content-Type": mt})
    assert r.status == 201, r.body
    assert r.header("oci-subject") == subject_digest
    return sha(data), len(data)


def test_referrers(api):
    subject = sha(b"not pushed yet")    # referrers may come before their subject
    sig, sig_size = _artifact(api, "ref", subject, 100, "application/vnd.example.sig",
                              {"org.example.kind": "signature"})
    sbom, _ = _artifact(api, "ref", subject, 100, "application/vnd.example.sbom")
    idx, _ = _artifact(api, "ref", subject, 100, None, index=True)
    r = api("GET", f"/v2/ref/referrers/{subject}")
    assert r.status == 200 and r.header("content-type") == spec.OCI_INDEX
    doc = r.json()
    assert doc["schemaVersion"] == 2 and doc["mediaType"] == spec.OCI_INDEX
    by_digest = {d["digest"]: d for d in doc["manifests"]}
    assert set(by_digest) == {sig, sbom, idx}
    assert by_digest[sig] == {"mediaType": spec.OCI_MANIFEST, "digest": sig, "size": sig_size,
                              "artifactType": "application/vnd.example.sig",
                              "annotations": {"org.example.kind": "signature"}}
    assert "artifactType" not in by_digest[idx]
    r = api("GET", f"/v2/ref/referrers/{subject}?artifactType=application/vnd.example.sbom")
    assert [d["digest"] for d in r.json()["manifests"]] == [sbom]
    assert r.header("oci-filters-applied") == "artifactType"
    assert api("GET", f"/v2/ref/referrers/{sha(b'nothing')}").json()["manifests"] == []
    r = api("GET", "/v2/ref/referrers/sha256:bad")
    assert r.status == 400 and r.codes == ["DIGEST_INVALID"]
    assert api("DELETE", f"/v2/ref/manifests/{sig}").status == 202
    assert {d["digest"] for d in api("GET", f"/v2/ref/referrers/{subject}").json()["manifests"]} == {sbom, idx}


def test_artifact_type_falls_back_to_the_config_media_type(api):
    subject, size = api.push_image("fallback", "1", oci=True)
    d, _ = _artifact(api, "fallback", subject, 10, None)
    (desc,) = api("GET", f"/v2/fallback/referrers/{subject}").json()["manifests"]
    assert desc["digest"] == d and desc["artifactType"] == spec.OCI_EMPTY


def test_deletes(api, start_server):
    digest, data = api.push_image("dl", "one")
    mt = spec.DOCKER_MANIFEST
    api.push_manifest("dl", "two", data, mt)
    assert api("DELETE", "/v2/dl/manifests/one").status == 202          # a tag
    assert api("GET", "/v2/dl/manifests/one").status == 404
    assert api("GET", f"/v2/dl/manifests/{digest}").status == 200
    r = api("DELETE", "/v2/dl/manifests/one")
    assert r.status == 404 and r.codes == ["MANIFEST_UNKNOWN"]
    assert api("DELETE", f"/v2/dl/manifests/{digest}").status == 202    # the manifest, and its tags
    assert api("GET", f"/v2/dl/manifests/{digest}").status == 404
    assert api("GET", "/v2/dl/manifests/two").status == 404
    assert api("GET", "/v2/dl/tags/list").json()["tags"] == []
    r = api("DELETE", f"/v2/dl/manifests/{digest}")
    assert r.status == 404 and r.codes == ["MANIFEST_UNKNOWN"]
    r = api("DELETE", f"/v2/nothere/manifests/{digest}")
    assert r.status == 404 and r.codes == ["NAME_UNKNOWN"]
    locked = Api(start_server(delete_enabled=False).host)
    locked.push_image("dl", "1")
    r = locked("DELETE", "/v2/dl/manifests/1")
    assert r.status == 405 and r.codes == ["UNSUPPORTED"]
