"""Access rules, scopes, and the gate's answers for anonymous, Basic and Bearer requests."""
import asyncio
import base64

import pytest

from dockyard.daemon.http import Headers
from dockyard.registry.server.auth.access import (CATALOG_SCOPE, Policy, Rule, parse_scope, repo_scope,
                                                  scope_text)
from dockyard.registry.server.auth.gate import Gate, Principal, parse_basic
from dockyard.registry.server.auth.htpasswd import Htpasswd, hash_password
from dockyard.registry.server.auth.tokens import Signer
from dockyard.registry.server.errors import RegistryError

ALL = frozenset({"pull", "push", "delete"})


class Req:
    def __init__(self, **headers):
        self.headers = Headers({k.lower().replace("_", "-"): v for k, v in headers.items()})


def test_scopes():
    s = parse_scope("repository:a/b:push,pull")
    assert (s.type, s.name, s.actions) == ("repository", "a/b", frozenset({"pull", "push"}))
    assert scope_text(s) == "repository:a/b:pull,push"
    assert parse_scope("repository:host:5000/a:pull").name == "host:5000/a"
    assert parse_scope("registry:catalog:*") == CATALOG_SCOPE
    for bad in ("repository", "repository:a", ":a:pull", "repository::pull"):
        assert parse_scope(bad) is None


def test_policy_without_rules():
    p = Policy()
    assert p.actions("alice", "repository", "x") == ALL
    assert p.actions(None, "repository", "x") == frozenset()
    assert Policy(anonymous=frozenset({"pull"})).actions(None, "repository", "x") == {"pull"}
    assert p.actions("alice", "registry", "catalog") == {"*"} and p.actions(None, "registry", "catalog") == set()
    assert Policy(open_access=True).grant(None, repo_scope("x", "pull", "push")) == {"pull", "push"}


def test_policy_rules():
    p = Policy([Rule("alice", "*", ALL), Rule("*", "common/*", frozenset({"pull"})),
                Rule("bob", "bob/*", frozenset({"*"})), Rule("", "public/*", frozenset({"pull"}))])
    assert p.actions("bob", "repository", "bob/x") == ALL
    assert p.actions("bob", "repository", "common/x") == {"pull"}
    assert p.actions("bob", "repository", "alice/x") == set()
    assert p.actions("bob", "repository", "public/x") == {"pull"}       # anyone's rules apply to accounts
    assert p.actions(None, "repository", "public/x") == {"pull"}
    assert p.actions(None, "repository", "common/x") == set()
    assert p.actions("carol", "repository", "bob/x") == set()           # rules exist: no default grant
    assert p.grant("bob", repo_scope("common/x", "pull", "push")) == {"pull"}
    assert p.grant("bob", repo_scope("bob/x", "*")) == ALL


def test_parse_basic():
    enc = base64.b64encode(b"al:ice:pw").decode()
    assert parse_basic(f"Basic {enc}") == ("al", "ice:pw")
    assert parse_basic(f"basic {enc}") == ("al", "ice:pw")
    for bad in ("Bearer x", "Basic !!", "Basic " + base64.b64encode(b"nocolon").decode(),
                "Basic " + base64.b64encode(b":pw").decode()):
        assert parse_basic(bad) is None


def _basic(user, pw):
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


@pytest.fixture
def htpasswd(tmp_path):
    path = tmp_path / "htpasswd"
    path.write_text(f"alice:{hash_password('pw', rounds=4)}\n")
    return Htpasswd(str(path))


def _run(coro):
    return asyncio.run(coro)


def test_gate_open():
    p = _run(Gate().authenticate(Req(), [repo_scope("a", "push")]))
    assert p.open and p.may("repository", "x", "delete")


def test_gate_basic(htpasswd):
    gate = Gate("htpasswd", Policy([Rule("alice", "a/*", frozenset({"pull"})), Rule("", "pub", frozenset({"pull"}))]),
                htpasswd, realm="R")
    with pytest.raises(RegistryError) as e:
        _run(gate.authenticate(Req(), None))
    assert e.value.status == 401 and e.value.headers == [("WWW-Authenticate", 'Basic realm="R"')]
    with pytest.raises(RegistryError) as e:
        _run(gate.authenticate(Req(authorization=_basic("alice", "bad")), None))
    assert e.value.code == "UNAUTHORIZED" and "invalid username or password" in e.value.message
    p = _run(gate.authenticate(Req(authorization=_basic("alice", "pw")), [repo_scope("a/x", "pull")]))
    assert p.account == "alice" and p.may("repository", "a/y", "pull") and not p.may("repository", "a/y", "push")
    with pytest.raises(RegistryError) as e:
        _run(gate.authenticate(Req(authorization=_basic("alice", "pw")), [repo_scope("a/x", "pull", "push")]))
    assert e.value.code == "DENIED" and e.value.status == 403
    assert _run(gate.authenticate(Req(), [repo_scope("pub", "pull")])).account is None
    with pytest.raises(RegistryError) as e:
        _run(gate.authenticate(Req(), [repo_scope("pub", "pull", "push")]))
    assert e.value.status == 401


def test_gate_bearer(htpasswd):
    signer = Signer(b"s" * 32, "iss", "svc")
    gate = Gate("token", Policy(), htpasswd, signer, tls=True)
    with pytest.raises(RegistryError) as e:
        _run(gate.authenticate(Req(host="reg.example:5000"), [repo_scope("a", "pull", "push")]))
    assert e.value.headers == [("WWW-Authenticate", 'Bearer realm="https://reg.example:5000/token",service="svc",'
                                                    'scope="repository:a:pull,push"')]
    with pytest.raises(RegistryError) as e:   # a Host header that could break the challenge is not used
        _run(gate.authenticate(Req(host='evil",x="'), None))
    assert 'realm="https://localhost/token"' in e.value.headers[0][1]
    token = signer.issue("alice", 60, [{"type": "repository", "name": "a", "actions": ["pull"]}])
    p = _run(gate.authenticate(Req(authorization=f"Bearer {token}"), [repo_scope("a", "pull")]))
    assert p == Principal("alice", token_access=[{"type": "repository", "name": "a", "actions": ["pull"]}])
    assert p.may("repository", "a", "pull") and not p.may("repository", "b", "pull")
    with pytest.raises(RegistryError) as e:
        _run(gate.authenticate(Req(authorization=f"Bearer {token}"), [repo_scope("a", "pull", "push")]))
    assert 'error="insufficient_scope"' in e.value.headers[0][1]
    with pytest.raises(RegistryError) as e:
        _run(gate.authenticate(Req(authorization=f"Bearer {token}x"), [repo_scope("a", "pull")]))
    assert 'error="invalid_token"' in e.value.headers[0][1]
    fixed = Gate("token", Policy(), htpasswd, signer, token_realm="https://auth.example/token")
    assert fixed.challenge("ignored", None).startswith('Bearer realm="https://auth.example/token"')


def test_gate_needs_its_parts(htpasswd):
    with pytest.raises(ValueError, match="unknown auth mode"):
        Gate("ldap")
    with pytest.raises(ValueError, match="htpasswd"):
        Gate("htpasswd")
    with pytest.raises(ValueError, match="signing key"):
        Gate("token", htpasswd=htpasswd)


def test_failure_limiter():
    from dockyard.registry.server.auth.limiter import FailureLimiter
    now = [100.0]
    lim = FailureLimiter(3, 60, clock=lambda: now[0])
    for _ in range(2):
        lim.failed("1.2.3.4")
    assert lim.retry_after("1.2.3.4") is None
    lim.failed("1.2.3.4")
    assert lim.retry_after("1.2.3.4") == 60 and lim.retry_after("5.6.7.8") is None
    now[0] += 59
    assert lim.retry_after("1.2.3.4") == 1
    now[0] += 1
    assert lim.retry_after("1.2.3.4") is None
    assert FailureLimiter(0).retry_after("x") is None


def test_gate_refuses_guessing(htpasswd):
    from dockyard.registry.server.auth.limiter import FailureLimiter
    gate = Gate("htpasswd", Policy(), htpasswd, limiter=FailureLimiter(2, 60))
    for _ in range(2):
        with pytest.raises(RegistryError) as e:
            _run(gate.authenticate(Req(authorization=_basic("alice", "guess")), None))
        assert e.value.code == "UNAUTHORIZED"
    with pytest.raises(RegistryError) as e:
        _run(gate.authenticate(Req(authorization=_basic("alice", "pw")), None))
    assert e.value.code == "TOOMANYREQUESTS" and e.value.status == 429
    assert e.value.headers[0][0] == "Retry-After" and 1 <= int(e.value.headers[0][1]) <= 60
