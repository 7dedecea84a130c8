import pytest

from dockyard.daemon.http.apiversion import split_version, version_error, version_key
from dockyard.daemon.http.headers import Headers
from dockyard.daemon.http.request import split_target
from dockyard.daemon.http.router import Router


async def h1(req):
    pass


async def h2(req):
    pass


def test_static_and_params():
    r = Router()
    r.add("GET", "/containers/json", h1)
    r.add("GET", "/containers/{name}/json", h2)
    assert r.match("GET", "/containers/json") == (r._static["GET"]["/containers/json"], {})
    route, params = r.match("GET", "/containers/abc/json")
    assert route.handler is h2 and params == {"name": "abc"}
    assert r.match("GET", "/containers/a/b/json") is None      # {name} is one segment
    assert r.match("GET", "/containers//json") is None
    assert r.match("POST", "/containers/json") is None


def test_path_param_takes_slashes():
    r = Router()
    r.add("GET", "/images/{name:path}/json", h1)
    r.add("POST", "/images/{name:path}/tag", h2)
    assert r.match("GET", "/images/127.0.0.1:5000/lib/busybox:1.36/json")[1] == {
        "name": "127.0.0.1:5000/lib/busybox:1.36"}
    assert r.match("POST", "/images/a/b/tag")[1] == {"name": "a/b"}
    assert r.match("GET", "/images/json") is None


def test_several_params_and_literal_escaping():
    r = Router()
    r.add("GET", "/plugins/{name}/x.{ext}", h1)
    assert r.match("GET", "/plugins/p/x.tar")[1] == {"name": "p", "ext": "tar"}
    assert r.match("GET", "/plugins/p/xXtar") is None   # the dot is literal


def test_head_falls_back_to_get_and_explicit_head_wins():
    r = Router()
    r.add("GET", "/_ping", h1)
    assert r.match("HEAD", "/_ping")[0].handler is h1
    r.add("HEAD", "/_ping", h2)
    assert r.match("HEAD", "/_ping")[0].handler is h2
    assert r.match("HEAD", "/nope") is None


@pytest.mark.parametrize("method,pattern,msg", [
    ("get", "/x", "invalid method"),
    ("GET", "x", "must start with '/'"),
    ("GET", "/a/{n}/{n}", "appears twice"),
    ("GET", "/a/{n:int}", "unknown parameter kind"),
    ("GET", "/a/{n", "malformed"),
    ("GET", "/a/}", "malformed"),
])
def test_bad_patterns(method, pattern, msg):
    with pytest.raises(ValueError, match=msg):
        Router().add(method, pattern, h1)


def test_duplicate_route():
    r = Router()
    r.add("GET", "/a/{x}", h1)
    r.add("POST", "/a/{x}", h1)
    with pytest.raises(ValueError, match="already registered"):
        r.add("GET", "/a/{x}", h2)
    r.add("GET", "/b", h1)
    with pytest.raises(ValueError, match="already registered"):
        r.add("GET", "/b", h2)


def test_split_version():
    assert split_version("/v1.41/containers/json") == ("1.41", "/containers/json")
    assert split_version("/containers/json") == (None, "/containers/json")
    assert split_version("/v1.41") == (None, "/v1.41")
    assert split_version("/version") == (None, "/version")
    assert split_version("/volumes/x") == (None, "/volumes/x")


def test_version_bounds():
    assert version_error("1.41", "1.41", "1.45") is None
    assert version_error("1.45", "1.41", "1.45") is None
    assert version_error("1.41.0", "1.41", "1.41") is None
    assert version_error("1.40", "1.41", "1.45") == (
        "client version 1.40 is too old. Minimum supported API version is 1.41, "
        "please upgrade your client to a newer version")
    assert version_error("1.99", "1.41", "1.45") == (
        "client version 1.99 is too new. Maximum supported API version is 1.45")
    assert version_error("1.5", "1.41", "1.45").startswith("client version 1.5 is too old")
    assert version_key("1.9") < version_key("1.41") < version_key("2.0")


def test_split_target():
    assert split_target("/a%2Fb/c?x=1&y") == ("/a/b/c", "x=1&y")
    assert split_target("http://host:2375/v1.41/info?z") == ("/v1.41/info", "z")
    assert split_target("http://host") == ("/", "")
    assert split_target("/plain") == ("/plain", "")


def test_headers_case_insensitive():
    h = Headers.from_h11([(b"content-type", b"application/json"), (b"x-a", b"1"), (b"x-a", b"2"),
                          (b"connection", b"keep-alive, Upgrade")])
    assert h["Content-Type"] == "application/json"
    assert h.get("X-A") == "1, 2"
    assert "CONNECTION" in h and "nope" not in h
    assert h.tokens("Connection") == {"keep-alive", "upgrade"}
    assert h.get("missing", "d") == "d"
    with pytest.raises(KeyError):
        h["missing"]
