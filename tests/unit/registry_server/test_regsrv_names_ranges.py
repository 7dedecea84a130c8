"""Names, tags, digests and the range headers, as the registry parses them."""
import pytest

from dockyard.registry.server.api.ranges import Unsatisfiable, blob_range, chunk_range, upload_range
from dockyard.registry.server.errors import CODES, RegistryError
from dockyard.registry.server.names import check_digest, check_name, parse_reference

D = "sha256:" + "a" * 64


@pytest.mark.parametrize("name", ["a", "library/ubuntu", "a-b--c/d__e/f.g", "x" * 255, "0/1/2/3"])
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "A", "a/", "/a", "a//b", "-a", "a-", "a..b", "a___b", "_a", "a/.b", "..",
                                  "a/../b", "x" * 256, "a:b", "a b", "ä"])
def test_invalid_names(name):
    with pytest.raises(RegistryError) as e:
        check_name(name)
    assert e.value.code == "NAME_INVALID" and e.value.status == 400


def test_references():
    assert parse_reference("latest") == ("latest", None)
    assert parse_reference("v1.2_3-rc") == ("v1.2_3-rc", None)
    assert parse_reference(D) == (None, D)
    for bad in (".hidden", "-x", "a" * 129, "a/b", "sha256:zz"):
        with pytest.raises(RegistryError) as e:
            parse_reference(bad)
        assert e.value.code in ("MANIFEST_INVALID", "DIGEST_INVALID")
    with pytest.raises(RegistryError) as e:
        check_digest("md5:" + "0" * 32)
    assert e.value.code == "DIGEST_INVALID" and "unsupported" in e.value.message


def test_error_bodies():
    e = RegistryError("BLOB_UNKNOWN", detail={"digest": D})
    assert e.status == 404 and e.body() == (b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry",'
                                            b'"detail":{"digest":"' + D.encode() + b'"}}]}\n')
    assert RegistryError("UNAUTHORIZED").status == 401 and RegistryError("DENIED").status == 403
    assert set(CODES) >= {"BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "MANIFEST_BLOB_UNKNOWN", "NAME_UNKNOWN",
                          "SIZE_INVALID", "TOOMANYREQUESTS", "UNSUPPORTED"}
    with pytest.raises(ValueError):
        RegistryError("NOT_A_CODE")


def test_blob_ranges():
    assert blob_range(None, 10) is None
    assert blob_range("bytes=0-4", 10) == (0, 4)
    assert blob_range("bytes=5-", 10) == (5, 9)
    assert blob_range("bytes=5-100", 10) == (5, 9)
    assert blob_range("bytes=-3", 10) == (7, 9)
    assert blob_range("bytes=-30", 10) == (0, 9)
    assert blob_range("bytes=0-1,3-4", 10) is None      # several ranges: ignored
    assert blob_range("items=0-1", 10) is None
    assert blob_range("bytes=4-2", 10) is None
    assert blob_range("bytes=-", 10) is None
    for header in ("bytes=10-", "bytes=10-20", "bytes=-0"):
        with pytest.raises(Unsatisfiable):
            blob_range(header, 10)
    with pytest.raises(Unsatisfiable):
        blob_range("bytes=0-", 0)


def test_chunk_ranges():
    assert chunk_range("0-99") == (0, 99)
    assert chunk_range("bytes=5-9") == (5, 9)
    assert chunk_range("bytes 5-9/100") == (5, 9)
    for bad in ("", "5", "9-5", "a-b", "0-1-2", "-5"):
        assert chunk_range(bad) is None
    assert upload_range(0) == "0-0" and upload_range(1) == "0-0" and upload_range(100) == "0-99"
