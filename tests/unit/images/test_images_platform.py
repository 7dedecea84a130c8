"""Platform parsing, normalization, matching and manifest selection."""
import os

import pytest

from dockyard.images import platform as platforms
from dockyard.spec.image import Descriptor, Index, Platform


def key(p):
    return (p.os, p.architecture, p.variant)


@pytest.mark.parametrize("spec,expected", [
    ("linux/amd64", ("linux", "amd64", "")),
    ("linux/x86_64", ("linux", "amd64", "")),
    ("Linux/AMD64", ("linux", "amd64", "")),
    ("linux/amd64/v1", ("linux", "amd64", "")),
    ("linux/amd64/v3", ("linux", "amd64", "v3")),
    ("linux/arm64", ("linux", "arm64", "")),
    ("linux/aarch64", ("linux", "arm64", "")),
    ("linux/arm64/v8", ("linux", "arm64", "v8")),
    ("linux/arm", ("linux", "arm", "")),
    ("linux/arm/7", ("linux", "arm", "v7")),
    ("linux/arm/v6", ("linux", "arm", "v6")),
    ("linux/armhf", ("linux", "arm", "")),
    ("linux/armel", ("linux", "arm", "v6")),
    ("linux/i386", ("linux", "386", "")),
    ("macos/arm64", ("darwin", "arm64", "")),
    ("windows/amd64", ("windows", "amd64", "")),
    ("amd64", ("linux", "amd64", "")),
    ("aarch64", ("linux", "arm64", "")),
    ("arm", ("linux", "arm", "")),
    ("linux/s390x", ("linux", "s390x", "")),
])
def test_parse(spec, expected):
    assert key(platforms.parse(spec)) == expected


def test_parse_os_only_uses_host_arch():
    h = platforms.host()
    assert key(platforms.parse("linux")) == ("linux", h.architecture, h.variant)


@pytest.mark.parametrize("bad", ["", "linux/amd64/v2/x", "linux/a b", "linux//amd64", "foo", "linux/amd64!"])
def test_parse_errors(bad):
    with pytest.raises(platforms.PlatformError):
        platforms.parse(bad)


def test_host_platform():
    h = platforms.host()
    assert h.os == "linux"
    expected = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, h.architecture)
    assert h.architecture == expected
    assert platforms.format(h) == str(h)


def P(s):
    parts = s.split("/")
    return Platform(os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) > 2 else "")


def test_matcher_rules():
    m = platforms.Matcher("linux/amd64")
    assert m.match(P("linux/amd64")) and m.match(P("linux/x86_64")) and m.match(P("linux/386"))
    assert not m.match(P("linux/arm64")) and not m.match(P("windows/amd64"))
    assert m.rank(P("linux/amd64")) < m.rank(P("linux/386"))
    v3 = platforms.Matcher("linux/amd64/v3")
    assert v3.match(P("linux/amd64/v2")) and v3.match(P("linux/amd64")) and not v3.match(P("linux/amd64/v4"))
    assert v3.rank(P("linux/amd64/v3")) < v3.rank(P("linux/amd64/v2")) < v3.rank(P("linux/amd64"))
    arm7 = platforms.Matcher("linux/arm/v7")
    assert arm7.match(P("linux/arm/v6")) and arm7.match(P("linux/arm/v5")) and arm7.match(P("linux/arm"))
    assert not platforms.Matcher("linux/arm/v6").match(P("linux/arm/v7"))
    arm64 = platforms.Matcher("linux/arm64")
    assert arm64.match(P("linux/arm64/v8")) and arm64.match(P("linux/aarch64")) and arm64.match(P("linux/arm/v7"))
    assert arm64.rank(P("linux/arm64")) < arm64.rank(P("linux/arm/v7"))
    assert platforms.Matcher(None).wanted == platforms.host()


def _desc(i, plat, **ann):
    return Descriptor(media_type="application/vnd.oci.image.manifest.v1+json", digest=f"sha256:{i:064x}", size=10,
                      platform=P(plat) if plat else None, annotations=ann or None)


def test_select_best_manifest():
    ix = Index(manifests=[_desc(1, "linux/arm64/v8"), _desc(2, "linux/386"), _desc(3, "linux/amd64"),
                          _desc(4, "linux/arm/v6"), _desc(5, "linux/arm/v7")])
    assert platforms.select(ix, "linux/amd64").digest.endswith("3")
    assert platforms.select(ix, "linux/arm64").digest.endswith("1")
    assert platforms.select(ix, "linux/arm/v7").digest.endswith("5")
    assert platforms.select(ix, "linux/arm/v6").digest.endswith("4")
    only386 = Index(manifests=[_desc(2, "linux/386"), _desc(1, "linux/arm64")])
    assert platforms.select(only386, "linux/amd64").digest.endswith("2")


def test_select_skips_attestations_and_falls_back_to_unplatformed():
    att = _desc(9, "unknown/unknown", **{"vnd.docker.reference.type": "attestation-manifest"})
    ix = Index(manifests=[att, _desc(7, None), _desc(3, "linux/amd64")])
    assert platforms.select(ix, "linux/amd64").digest.endswith("3")
    ix2 = Index(manifests=[att, _desc(7, None)])
    assert platforms.select(ix2, "linux/arm64").digest.endswith("7")


def test_select_no_match_message():
    ix = Index(manifests=[_desc(1, "linux/arm64")])
    with pytest.raises(platforms.PlatformError,
                       match=r"^no matching manifest for linux/s390x in the manifest list entries$"):
        platforms.select(ix, "linux/s390x")
