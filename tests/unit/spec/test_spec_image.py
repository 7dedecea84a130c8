"""Manifest, index and image config types: parsing, validation of hostile input, round trips."""
import base64
import hashlib
import json

import pytest

from dockyard.spec import image as spec

D = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64

# The manifest docker pushed in the reference trace (t-pull-registry.txt), byte for byte.
DOCKER_MANIFEST = b"""{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 2278,
      "digest": "sha256:cd2d017f554b25f1f9dd3332ef8ad44d5ac36c0457ff58f15d4487a57b70b5a2"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 1122603,
         "digest": "sha256:1fab9dff08f8838bfead55c802073232df6cbbfa7ec67a2e2ed92f73da08042d"
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 115,
         "digest": "sha256:33a971990fc92df355f2c175d1fd4f8705cb5dd20cf065065004dbc8c0538f20"
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 119,
         "digest": "sha256:77544d78b6f062dfae8cc955ade209b07c51e47c3cb4e765e6d322f00a553848"
      }
   ]
}"""


def test_docker_manifest_from_trace():
    assert len(DOCKER_MANIFEST) == 942
    assert "sha256:" + hashlib.sha256(DOCKER_MANIFEST).hexdigest() == \
        "sha256:227c8e99f7af2d3c0b65b36aa8ac4a8d500eafc54973c250b6304acf7026568c"
    m = spec.Manifest.from_json(DOCKER_MANIFEST)
    assert m.media_type == spec.DOCKER_MANIFEST and m.content_type == spec.DOCKER_MANIFEST
    assert m.config.media_type == spec.DOCKER_CONFIG and m.config.size == 2278
    assert [x.size for x in m.layers] == [1122603, 115, 119]
    assert all(spec.layer_compression(x.media_type) == "gzip" for x in m.layers)
    again = spec.Manifest.from_json(m.to_json())
    assert again == m
    assert json.loads(m.to_json()) == json.loads(DOCKER_MANIFEST)
    assert isinstance(spec.parse_manifest(DOCKER_MANIFEST), spec.Manifest)


def test_to_json_is_canonical():
    m = spec.Manifest.from_json(DOCKER_MANIFEST)
    out = m.to_json()
    assert b" " not in out and b"\n" not in out
    assert out == spec.dump_json(json.loads(out))  # sorted keys, compact
    assert out.startswith(b'{"config":{"digest":') and out.endswith(b'"schemaVersion":2}')


def oci_manifest(**over):
    d = {"schemaVersion": 2,
         "config": {"mediaType": spec.OCI_CONFIG, "digest": D, "size": 7},
         "layers": [{"mediaType": spec.OCI_LAYER_ZSTD, "digest": D2, "size": 3,
                     "annotations": {"org.opencontainers.image.title": "x"}, "x-unknown": [1, {"a": None}]}],
         "annotations": {"k": "v"}, "vendorExtension": {"keep": True}}
    d.update(over)
    return d


def test_oci_manifest_without_media_type_and_unknown_fields_round_trip():
    d = oci_manifest()
    m = spec.Manifest.from_json(json.dumps(d).encode())
    assert m.media_type is None and m.content_type == spec.OCI_MANIFEST
    assert m.extra == {"vendorExtension": {"keep": True}}
    assert m.layers[0].extra == {"x-unknown": [1, {"a": None}]}
    assert spec.layer_compression(m.layers[0].media_type) == "zstd"
    assert json.loads(m.to_json()) == d
    assert isinstance(spec.parse_manifest(json.dumps(d).encode()), spec.Manifest)


def test_index_parsing_and_round_trip():
    d = {"schemaVersion": 2, "mediaType": spec.OCI_INDEX,
         "manifests": [{"mediaType": spec.OCI_MANIFEST, "digest": D, "size": 100,
                        "platform": {"architecture": "arm64", "os": "linux", "variant": "v8",
                                     "os.features": ["x"], "future": 1}},
                       {"mediaType": spec.OCI_MANIFEST, "digest": D2, "size": 5}],
         "annotations": {"org.opencontainers.image.ref.name": "1.0"}}
    ix = spec.Index.from_json(json.dumps(d).encode())
    assert ix.manifests[0].platform.variant == "v8" and ix.manifests[0].platform.extra == {"future": 1}
    assert str(ix.manifests[0].platform) == "linux/arm64/v8"
    assert ix.manifests[1].platform is None
    assert json.loads(ix.to_json()) == d
    assert isinstance(spec.parse_manifest(json.dumps(d).encode()), spec.Index)
    # a Docker manifest list is told apart by its Content-Type when mediaType is absent
    del d["mediaType"]
    assert isinstance(spec.parse_manifest(json.dumps(d).encode(), spec.DOCKER_MANIFEST_LIST), spec.Index)


def test_descriptor_embedded_data():
    data = b"{}"
    dg = "sha256:" + hashlib.sha256(data).hexdigest()
    ok = {"mediaType": spec.OCI_EMPTY, "digest": dg, "size": 2, "data": base64.b64encode(data).decode()}
    assert spec.Descriptor.from_json(ok).data == "e30="
    with pytest.raises(spec.ManifestInvalid, match="does not match"):
        spec.Descriptor.from_json(dict(ok, size=3))
    with pytest.raises(spec.ManifestInvalid, match="invalid base64"):
        spec.Descriptor.from_json(dict(ok, data="!!!"))


def layer(**over):
    d = {"mediaType": spec.OCI_LAYER_GZIP, "digest": D, "size": 1}
    d.update(over)
    return d


HOSTILE_MANIFESTS = [
    (oci_manifest(layers=[layer(size=-1)]), r"layers\[0\]\.size: -1 is out of range"),
    (oci_manifest(layers=[layer(size="12")]), r"layers\[0\]\.size: expected an integer, got string"),
    (oci_manifest(layers=[layer(size=True)]), r"size: expected an integer, got boolean"),
    (oci_manifest(layers=[layer(size=1.0)]), r"size: expected an integer, got number"),
    (oci_manifest(layers=[layer(size=1 << 63)]), "out of range"),
    (oci_manifest(layers=[layer(digest="sha256:abc")]), r"layers\[0\]\.digest: invalid sha256 digest"),
    (oci_manifest(layers=[layer(digest="md5:" + "a" * 32)]), "unsupported digest algorithm"),
    (oci_manifest(layers=[layer(mediaType=None)]), r"mediaType: required field is missing"),
    (oci_manifest(layers=[layer(annotations={"a": 1})]), "annotations: expected an object of strings"),
    (oci_manifest(layers=[layer(urls="http://x")]), "urls: expected an array of strings"),
    (oci_manifest(layers={"a": 1}), "layers: expected an array, got object"),
    (oci_manifest(layers=[layer()] * (spec.MAX_LAYERS + 1)), "entries exceed the limit"),
    (oci_manifest(config=None), "config: required field is missing"),
    (oci_manifest(config=[1]), "config: expected an object, got array"),
    (oci_manifest(schemaVersion=3), "unsupported schema version 3"),
    (oci_manifest(schemaVersion="2"), "schemaVersion: expected an integer"),
    (oci_manifest(schemaVersion=1), "schema 1 is not supported"),
    (oci_manifest(mediaType=spec.OCI_INDEX), "not an image manifest"),
    (oci_manifest(manifests=[]), "belongs to an index"),
    (oci_manifest(extra={"a": {"b": {"c": 1}}} | {"deep": json.loads("[" * 100 + "]" * 100)}), "nested deeper"),
]


@pytest.mark.parametrize("doc,msg", HOSTILE_MANIFESTS)
def test_hostile_manifests(doc, msg):
    with pytest.raises(spec.ManifestInvalid, match=msg) as ei:
        spec.Manifest.from_json(json.dumps(doc).encode())
    assert "\n" not in str(ei.value)


@pytest.mark.parametrize("raw,msg", [
    (b"[" * 200000 + b"]" * 200000, "nested"),
    (b'{"schemaVersion": NaN}', "invalid JSON"),
    (b'{"schemaVersion": 2, "schemaVersion": 2}', "duplicate key"),
    (b"\xff\xfe{}", "invalid JSON"),
    (b"[]", "expected a JSON object, got array"),
    (b"", "invalid JSON"),
    (b'{"schemaVersion": 2, "config": ', "invalid JSON"),
])
def test_hostile_bytes(raw, msg):
    with pytest.raises(spec.ManifestInvalid, match=msg):
        spec.Manifest.from_json(raw)


def test_manifest_size_limit():
    big = json.dumps(oci_manifest(annotations={"pad": "x" * (spec.MAX_MANIFEST_SIZE + 1)})).encode()
    with pytest.raises(spec.ManifestInvalid, match="exceeds the limit of 4194304 bytes"):
        spec.Manifest.from_json(big)
    with pytest.raises(spec.ManifestInvalid, match="exceeds the limit"):
        spec.parse_manifest(big)


def test_index_hostile():
    with pytest.raises(spec.ManifestInvalid, match=r"manifests\[0\]\.platform\.os: required field is missing"):
        spec.Index.from_json({"schemaVersion": 2, "manifests": [
            {"mediaType": spec.OCI_MANIFEST, "digest": D, "size": 1, "platform": {"architecture": "amd64"}}]})
    with pytest.raises(spec.ManifestInvalid, match="belong to a manifest"):
        spec.Index.from_json({"schemaVersion": 2, "manifests": [], "layers": []})
    with pytest.raises(spec.ManifestInvalid, match="entries exceed the limit"):
        spec.Index.from_json({"schemaVersion": 2, "manifests": [layer()] * (spec.MAX_INDEX_ENTRIES + 1)})


def test_parse_manifest_dispatch_errors():
    with pytest.raises(spec.ManifestInvalid, match="schema 1"):
        spec.parse_manifest(b'{"schemaVersion": 1, "name": "x"}')
    with pytest.raises(spec.ManifestInvalid, match="unsupported manifest media type"):
        spec.parse_manifest(b'{"schemaVersion": 2, "mediaType": "text/plain"}')


DOCKER_CONFIG = {
    "architecture": "amd64", "os": "linux", "created": "2026-11-27T17:46:09.5Z",
    "config": {"Hostname": "", "User": "app", "Env": ["PATH=/usr/bin:/bin", "A=b=c"], "Cmd": ["sh"],
               "Entrypoint": None, "WorkingDir": "/srv", "Labels": {"l": "v"}, "OnBuild": None,
               "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}}, "StopSignal": "SIGTERM",
               "ArgsEscaped": True, "Shell": ["/bin/sh", "-c"],
               "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000, "Retries": 3}},
    "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) CMD [\"sh\"]"]},
    "docker_version": "20.10.24",
    "rootfs": {"type": "layers", "diff_ids": [D, D2]},
    "history": [{"created": "x", "created_by": "ADD file"}, {"created_by": "CMD", "empty_layer": True},
                {"created_by": "RUN x"}],
}


def test_image_config_parse_and_round_trip():
    c = spec.ImageConfig.from_json(json.dumps(DOCKER_CONFIG).encode())
    assert c.config.env == ["PATH=/usr/bin:/bin", "A=b=c"] and c.config.cmd == ["sh"] and c.config.entrypoint is None
    assert c.config.exposed_ports == {"80/tcp": {}} and c.config.volumes == {"/data": {}}
    assert c.config.healthcheck.interval == 30_000_000_000 and c.config.healthcheck.retries == 3
    assert c.config.extra == {"Hostname": ""}
    assert c.extra.keys() == {"container_config", "docker_version"}
    assert c.rootfs.diff_ids == [D, D2] and c.history[1].empty_layer
    assert str(c.platform) == "linux/amd64"
    out = json.loads(c.to_json())
    expected = json.loads(json.dumps(DOCKER_CONFIG))
    for k in ("Entrypoint", "OnBuild"):  # null is the same as absent
        del expected["config"][k]
    assert out == expected
    assert spec.ImageConfig.from_json(c.to_json()) == c


def test_image_config_string_cmd_is_a_list():
    c = spec.ImageConfig.from_json({"rootfs": {"type": "layers", "diff_ids": []},
                                    "config": {"Cmd": "/bin/sh", "Entrypoint": "/init"}})
    assert c.config.cmd == ["/bin/sh"] and c.config.entrypoint == ["/init"]


def cfg(**over):
    d = json.loads(json.dumps(DOCKER_CONFIG))
    for k, v in over.items():
        if k.startswith("config_"):
            d["config"][k[7:]] = v
        else:
            d[k] = v
    return d


@pytest.mark.parametrize("doc,msg", [
    (cfg(rootfs={"type": "squash", "diff_ids": []}), "unsupported rootfs type"),
    (cfg(rootfs={"type": "layers", "diff_ids": ["nope"]}), r"diff_ids\[0\]: invalid digest format"),
    (cfg(rootfs={"type": "layers", "diff_ids": [1]}), r"diff_ids\[0\]: expected a digest string"),
    (cfg(rootfs=None), "rootfs: required field is missing"),
    (cfg(config_Env="A=b"), r"config\.config\.Env: expected an array of strings"),
    (cfg(config_Env=["=x"]), "invalid entry"),
    (cfg(config_Cmd=[1]), "Cmd: expected an array of strings"),
    (cfg(config_ExposedPorts=["80/tcp"]), "ExposedPorts: expected an object of objects"),
    (cfg(config_Labels={"a": 1}), "Labels: expected an object of strings"),
    (cfg(config_User=0), "User: expected a string"),
    (cfg(config_ArgsEscaped="yes"), "ArgsEscaped: expected a boolean"),
    (cfg(config_Healthcheck={"Interval": "30s"}), r"Healthcheck\.Interval: expected an integer"),
    (cfg(architecture=1), "architecture: expected a string"),
    (cfg(history=[{"created_by": 5}]), r"history\[0\]\.created_by"),
    (cfg(history=[{}] * 5), "5 non-empty entries but 2 layers"),
    (cfg(config=[]), "expected an object, got array"),
])
def test_hostile_configs(doc, msg):
    with pytest.raises(spec.ConfigInvalid, match=msg):
        spec.ImageConfig.from_json(json.dumps(doc).encode())


def test_config_size_limit():
    big = json.dumps(cfg(pad="x" * spec.MAX_CONFIG_SIZE)).encode()
    with pytest.raises(spec.ConfigInvalid, match="exceeds the limit"):
        spec.ImageConfig.from_json(big)


def test_media_type_helpers():
    assert spec.is_layer(spec.DOCKER_LAYER_GZIP) and spec.is_layer(spec.OCI_LAYER)
    assert not spec.is_layer(spec.OCI_CONFIG)
    assert spec.is_foreign_layer(spec.DOCKER_FOREIGN_LAYER_GZIP) and spec.is_foreign_layer(spec.OCI_LAYER_ND_ZSTD)
    assert not spec.is_foreign_layer(spec.OCI_LAYER_GZIP)
    assert spec.layer_compression(spec.DOCKER_LAYER) == "none"
    assert spec.layer_compression(spec.OCI_LAYER_ND_GZIP) == "gzip"
    with pytest.raises(spec.SpecError, match="unsupported layer media type"):
        spec.layer_compression("application/x-foo")
    assert spec.MANIFEST_ACCEPT == (spec.DOCKER_MANIFEST, spec.DOCKER_MANIFEST_LIST, spec.OCI_MANIFEST, spec.OCI_INDEX)
