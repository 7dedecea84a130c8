"""WWW-Authenticate parsing and the token flow (HTTP injected as a function)."""
import base64
import json
import urllib.parse

import pytest

from dockyard.registry import auth, errors
from dockyard.registry.auth import Challenge, Credentials, parse_www_authenticate


def test_bearer_challenge_with_commas_in_scope():
    ch = parse_www_authenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push",error="insufficient_scope"')
    assert ch == [Challenge("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                       "scope": "repository:samalba/my-app:pull,push",
                                       "error": "insufficient_scope"})]


def test_several_challenges_in_one_header_and_case():
    ch = parse_www_authenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", BASIC Realm="simple"')
    assert [c.scheme for c in ch] == ["newauth", "basic"]
    assert ch[0].params == {"realm": "apps", "type": "1", "title": 'Login to "apps"'}
    assert ch[1].params == {"realm": "simple"}


def test_several_header_values_token68_and_garbage():
    ch = parse_www_authenticate(["Negotiate abc123==", 'Basic realm="Registry Realm"', "", "@@@, Bearer"])
    assert ch[0] == Challenge("negotiate", {}, "abc123==")
    assert ch[1] == Challenge("basic", {"realm": "Registry Realm"})
    assert ch[2].scheme == "bearer" and ch[2].params == {}
    assert parse_www_authenticate(None) == []
    assert parse_www_authenticate('Bearer realm="unterminated') == [Challenge("bearer")]
    assert parse_www_authenticate("Bearer realm=unquoted, service=x") == [
        Challenge("bearer", {"realm": "unquoted", "service": "x"})]


class FakeHTTP:
    """Records token requests and answers them with canned responses."""

    def __init__(self, responses):
        self.responses = list(responses)
        self.calls = []

    def __call__(self, method, url, headers, body):
        self.calls.append((method, url, headers, body))
        return self.responses.pop(0)


BEARER = [Challenge("bearer", {"realm": "https://auth.example/token", "service": "reg"})]


def ok(token="T1", **extra):
    return 200, {}, json.dumps(dict(token=token, **extra)).encode()


def test_basic_header_only_with_credentials():
    a = auth.Authenticator(Credentials("u", "p:w"), FakeHTTP([]))
    a.set_challenges([Challenge("basic", {"realm": "r"})])
    assert a.header(["repository:x:pull"]) == "Basic " + base64.b64encode(b"u:p:w").decode()
    anon = auth.Authenticator(None, FakeHTTP([]))
    anon.set_challenges([Challenge("basic", {"realm": "r"})])
    assert anon.header([]) is None
    assert auth.Authenticator(None, FakeHTTP([])).header([]) is None  # no challenge: no auth


def test_bearer_flow_query_and_cache():
    http = FakeHTTP([ok("T1", expires_in=300), ok("T2")])
    a = auth.Authenticator(Credentials("alice", "pw"), http, cache=auth.TokenCache())
    a.set_challenges(BEARER)
    scopes = ["repository:a/b:pull,push", "repository:c:pull"]
    assert a.header(scopes) == "Bearer T1"
    assert a.header(list(reversed(scopes))) == "Bearer T1"  # cached, scope order does not matter
    method, url, headers, body = http.calls[0]
    assert method == "GET" and body is None
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert q == {"service": ["reg"], "scope": scopes, "account": ["alice"]}
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"alice:pw").decode()
    a.invalidate(scopes)
    assert a.header(scopes) == "Bearer T2"
    assert a.token_requests == 2


def test_token_expiry():
    now = [1000.0]
    http = FakeHTTP([ok("T1", expires_in=120), ok("T2", access_token="ignored")])
    a = auth.Authenticator(None, http, cache=auth.TokenCache(clock=lambda: now[0]))
    a.set_challenges(BEARER)
    assert a.header(["s"]) == "Bearer T1"
    now[0] += 100
    assert a.header(["s"]) == "Bearer T1"
    now[0] += 30
    assert a.header(["s"]) == "Bearer T2"
    assert "Authorization" not in http.calls[0][2]  # anonymous token request


def test_identity_token_uses_oauth_post():
    http = FakeHTTP([(200, {}, json.dumps({"access_token": "AT", "expires_in": 60}).encode())])
    a = auth.Authenticator(Credentials(identity_token="RT"), http, cache=auth.TokenCache())
    a.set_challenges(BEARER)
    assert a.header(["repository:x:pull"]) == "Bearer AT"
    method, url, headers, body = http.calls[0]
    assert method == "POST" and url == "https://auth.example/token"
    form = urllib.parse.parse_qs(body.decode())
    assert form == {"grant_type": ["refresh_token"], "refresh_token": ["RT"], "client_id": ["dockyard"],
                    "scope": ["repository:x:pull"], "service": ["reg"]}


def test_login_asks_for_offline_token():
    http = FakeHTTP([ok("T", refresh_token="R")])
    a = auth.Authenticator(Credentials("u", "p"), http, cache=auth.TokenCache())
    a.set_challenges(BEARER)
    assert a.login() == ("Bearer T", "R")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(http.calls[0][1]).query)
    assert q["offline_token"] == ["true"] and q["client_id"] == ["dockyard"] and "scope" not in q


def test_wrong_password_is_a_clear_error():
    a = auth.Authenticator(Credentials("u", "bad"), FakeHTTP([(401, {}, b"")]), cache=auth.TokenCache())
    a.set_challenges(BEARER)
    with pytest.raises(auth.AuthError, match="^unauthorized: incorrect username or password$"):
        a.header(["repository:x:pull"])


def test_token_server_json_error_and_garbage():
    body = json.dumps({"errors": [{"code": "DENIED", "message": "no way"}]}).encode()
    a = auth.Authenticator(None, FakeHTTP([(403, {}, body)]), cache=auth.TokenCache())
    a.set_challenges(BEARER)
    with pytest.raises(auth.AuthError, match="^denied: no way$"):
        a.header(["s"])
    for resp, msg in [((200, {}, b"<html>"), "not JSON"), ((200, {}, b"[]"), "not a JSON object"),
                      ((200, {}, b'{"token": ""}'), "no valid token"),
                      ((200, {}, b'{"token": "a\\r\\nX-Evil: 1"}'), "no valid token"),
                      ((500, {}, b"oops"), "unexpected status 500")]:
        a = auth.Authenticator(None, FakeHTTP([resp]), cache=auth.TokenCache())
        a.set_challenges(BEARER)
        with pytest.raises(errors.RegistryError, match=msg):
            a.header(["s"])


def test_refuses_credentials_over_plain_http_realm():
    a = auth.Authenticator(Credentials("u", "p"), FakeHTTP([]), cache=auth.TokenCache())
    a.set_challenges([Challenge("bearer", {"realm": "http://auth.example/token"})])
    with pytest.raises(auth.AuthError, match="plain-HTTP token realm"):
        a.header(["s"])
    a.set_challenges([Challenge("bearer", {"realm": "ftp://x/"})])
    with pytest.raises(auth.AuthError, match="invalid token realm"):
        a.header(["s"])
    loop = auth.Authenticator(Credentials("u", "p"), FakeHTTP([ok("L")]), cache=auth.TokenCache())
    loop.set_challenges([Challenge("bearer", {"realm": "http://127.0.0.1:9/token"})])
    assert loop.header(["s"]) == "Bearer L"


def test_registry_token_is_sent_as_is():
    a = auth.Authenticator(Credentials(registry_token="RTK"), FakeHTTP([]))
    a.set_challenges(BEARER)
    assert a.header(["s"]) == "Bearer RTK"


def test_scope_for():
    assert auth.scope_for("library/busybox") == "repository:library/busybox:pull"
    assert auth.scope_for("a/b", "pull,push") == "repository:a/b:pull,push"
