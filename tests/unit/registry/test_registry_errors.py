"""Registry error responses become one-line exceptions of the right kind."""
import json

import pytest

from dockyard.registry import errors


def body(*errs):
    return json.dumps({"errors": [dict(code=c, message=m) for c, m in errs]}).encode()


@pytest.mark.parametrize("status,data,cls,msg", [
    (404, body(("MANIFEST_UNKNOWN", "manifest unknown")), errors.NotFound, "manifest unknown: manifest unknown"),
    (404, body(("NAME_UNKNOWN", "repository name not known to registry")), errors.NotFound,
     "name unknown: repository name not known to registry"),
    (404, body(("BLOB_UNKNOWN", "blob unknown to registry")), errors.NotFound, "blob unknown: blob unknown to registry"),
    (401, body(("UNAUTHORIZED", "authentication required")), errors.Unauthorized, "unauthorized: authentication required"),
    (403, body(("DENIED", "requested access to the resource is denied")), errors.Denied,
     "denied: requested access to the resource is denied"),
    (429, body(("TOOMANYREQUESTS", "slow down")), errors.TooManyRequests, "toomanyrequests: slow down"),
    (400, body(("MANIFEST_INVALID", "manifest invalid")), errors.InvalidRequest, "manifest invalid: manifest invalid"),
    (400, body(("DIGEST_INVALID", "")), errors.InvalidRequest, "digest invalid: digest invalid"),
    (401, b"", errors.Unauthorized, "unauthorized: authentication required"),
    (403, b"<html>Forbidden</html>", errors.Denied, "denied: requested access to the resource is denied"),
    (404, b"404 page not found\n", errors.NotFound, "not found: not found"),
    (401, json.dumps({"details": "incorrect username or password"}).encode(), errors.Unauthorized,
     "unauthorized: incorrect username or password"),
])
def test_known_errors(status, data, cls, msg):
    e = errors.from_response(status, data, 'GET "http://r/v2/x"')
    assert type(e) is cls and str(e) == msg and e.status == status


def test_multiple_errors_on_one_line():
    e = errors.from_response(400, body(("MANIFEST_BLOB_UNKNOWN", "blob unknown"), ("TAG_INVALID", "bad\ntag")))
    assert str(e) == "errors: manifest blob unknown: blob unknown; tag invalid: bad tag"
    assert e.code == "MANIFEST_BLOB_UNKNOWN" and len(e.errors) == 2


def test_garbage_responses():
    e = errors.from_response(502, b"<html>\r\n<b>Bad gateway</b>\x00\x1b[31m" + b"x" * 5000, 'GET "u"')
    assert type(e) is errors.RegistryError
    assert str(e).startswith('GET "u": unexpected status 502 from registry: <html> <b>Bad gateway</b>')
    assert "\n" not in str(e) and "\x1b" not in str(e) and len(str(e)) < 400
    e = errors.from_response(500, b'{"errors": "nope"}')
    assert "unexpected status 500" in str(e)
    e = errors.from_response(500, b'{"errors": [{"code": 5}]}' + b"[" * 100000)
    assert "unexpected status 500" in str(e)


def test_wrap_keeps_kind():
    e = errors.from_response(404, body(("MANIFEST_UNKNOWN", "manifest unknown")))
    w = e.wrap("manifest for busybox:latest not found")
    assert isinstance(w, errors.NotFound) and w.code == "MANIFEST_UNKNOWN" and w.__cause__ is e
    assert str(w) == "manifest for busybox:latest not found: manifest unknown: manifest unknown"


def test_code_text():
    assert errors.code_text("BLOB_UPLOAD_INVALID") == "blob upload invalid"
