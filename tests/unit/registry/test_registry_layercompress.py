"""Compressing plain layers for a push: the streaming reader and the manifest naming the result."""
from __future__ import annotations

import gzip
import hashlib
import io
import os

import pytest

from dockyard.registry import layercompress as lc
from dockyard.spec import image as spec

PLAIN = (b"some layer bytes " * 50000) + os.urandom(300000)  # compressible, then not


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def drain(r, n=65536) -> bytes:
    out = []
    while True:
        b = r.read(n)
        if not b:
            return b"".join(out)
        out.append(b)


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_compressing_reader_round_trips_and_reports(compression):
    seen, plain_read = [], []
    r = lc.Compressing(io.BytesIO(PLAIN), compression, len(PLAIN), seen.append, plain_read.append)
    out = drain(r)
    r.close()
    assert b"".join(seen) == out and r.total == len(out)
    assert sum(plain_read) == len(PLAIN)
    assert len(out) < len(PLAIN)
    if compression == "zstd":
        import zstandard
        assert out.startswith(b"\x28\xb5\x2f\xfd")
        assert zstandard.ZstdDecompressor().decompress(out) == PLAIN
    else:
        assert out.startswith(b"\x1f\x8b")
        assert gzip.decompress(out) == PLAIN


def test_read_all_and_close_closes_the_source():
    src = io.BytesIO(PLAIN)
    r = lc.Compressing(src, "gzip")
    assert gzip.decompress(r.read()) == PLAIN
    r.close()
    assert src.closed


def test_unknown_compression_is_refused():
    with pytest.raises(ValueError, match="unsupported layer compression 'bzip2'"):
        lc.Compressing(io.BytesIO(b""), "bzip2")
    with pytest.raises(ValueError, match="unsupported layer compression"):
        lc.check("xz")
    lc.check(None)


def desc(mt: str, data: bytes, **kw) -> spec.Descriptor:
    return spec.Descriptor(media_type=mt, digest=sha(data), size=len(data), **kw)


def test_oci_manifest_gets_zstd_layers_for_its_plain_ones():
    plain, gz = desc(spec.OCI_LAYER, b"plain"), desc(spec.OCI_LAYER_GZIP, b"gz")
    m = spec.Manifest(config=desc(spec.OCI_CONFIG, b"{}"), layers=[plain, gz], annotations={"a": "b"})
    assert lc.converts(m, "zstd") and not lc.converts(m, None)
    comp = {plain.digest: spec.Descriptor(media_type="", digest=sha(b"z"), size=1)}
    out = lc.converted_manifest(m, "zstd", comp)
    assert out.media_type == spec.OCI_MANIFEST and out.annotations == {"a": "b"}
    assert out.config == m.config
    assert [(x.media_type, x.digest, x.size) for x in out.layers] == [
        (spec.OCI_LAYER_ZSTD, sha(b"z"), 1), (spec.OCI_LAYER_GZIP, gz.digest, gz.size)]
    assert not lc.converts(out, "zstd")


def test_docker_manifest_becomes_oci_for_zstd_and_stays_docker_for_gzip():
    plain = desc(spec.DOCKER_LAYER, b"plain")
    foreign = desc(spec.DOCKER_FOREIGN_LAYER_GZIP, b"win", urls=["https://example.com/l"])
    m = spec.Manifest(config=desc(spec.DOCKER_CONFIG, b"{}"), layers=[plain, foreign], media_type=spec.DOCKER_MANIFEST)
    comp = {plain.digest: spec.Descriptor(media_type="", digest=sha(b"c"), size=1)}
    z = lc.converted_manifest(m, "zstd", comp)
    assert z.media_type == spec.OCI_MANIFEST and z.config.media_type == spec.OCI_CONFIG
    assert z.config.digest == m.config.digest
    assert [x.media_type for x in z.layers] == [spec.OCI_LAYER_ZSTD, spec.OCI_LAYER_ND_GZIP]
    assert z.layers[1].urls == ["https://example.com/l"]
    g = lc.converted_manifest(m, "gzip", comp)
    assert g.media_type == spec.DOCKER_MANIFEST and g.config.media_type == spec.DOCKER_CONFIG
    assert [x.media_type for x in g.layers] == [spec.DOCKER_LAYER_GZIP, spec.DOCKER_FOREIGN_LAYER_GZIP]
    spec.Manifest.from_json(g.to_json())  # a valid document
    spec.Manifest.from_json(z.to_json())


def test_foreign_plain_layers_are_not_compressed():
    nd = desc(spec.OCI_LAYER_ND, b"nd")
    m = spec.Manifest(config=desc(spec.OCI_CONFIG, b"{}"), layers=[nd])
    assert not lc.needs_compression(nd)
    assert not lc.converts(m, "zstd")
