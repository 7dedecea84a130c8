"""Bearer tokens (HS256 JWTs) and htpasswd files with bcrypt hashes."""
import json
import os

import pytest

from dockyard.registry.server.auth import htpasswd as ht
from dockyard.registry.server.auth.tokens import Signer, TokenError, b64url, load_or_create_key, unb64url

KEY = b"k" * 32
ACCESS = [{"type": "repository", "name": "a/b", "actions": ["pull"]}]


def test_issue_and_verify():
    s = Signer(KEY, "iss", "svc", clock=lambda: 1000)
    token = s.issue("alice", 300, ACCESS)
    claims = s.verify(token)
    assert claims["sub"] == "alice" and claims["access"] == ACCESS and claims["exp"] == 1300
    header = json.loads(unb64url(token.split(".")[0]))
    assert header["alg"] == "HS256" and header["typ"] == "JWT"
    refresh = s.issue("alice", 3600, kind="refresh")
    assert s.verify(refresh, kind="refresh")["sub"] == "alice"
    with pytest.raises(TokenError, match="not an access token"):
        s.verify(refresh)
    with pytest.raises(TokenError, match="not a refresh token"):
        s.verify(token, kind="refresh")


def test_bad_tokens():
    s = Signer(KEY, "iss", "svc", clock=lambda: 1000)
    token = s.issue("alice", 300, ACCESS)
    head, body, sig = token.split(".")
    claims = json.loads(unb64url(body))
    claims["access"][0]["actions"] = ["pull", "push"]
    escalated = f"{head}.{b64url(json.dumps(claims).encode())}.{sig}"
    none_alg = b64url(b'{"alg":"none"}') + f".{body}."
    cases = {
        escalated: "bad signature",
        none_alg: "unsupported signing algorithm",
        "a.b": "not a JWT",
        "x" * 20000: "too long",
        f"{head}.{body}.%%%": "base64",
        Signer(b"other" * 8, "iss", "svc", clock=lambda: 1000).issue("a", 300, ACCESS): "bad signature",
        Signer(KEY, "other", "svc", clock=lambda: 1000).issue("a", 300, ACCESS): "another registry",
        Signer(KEY, "iss", "other", clock=lambda: 1000).issue("a", 300, ACCESS): "another registry",
        Signer(KEY, "iss", "svc", clock=lambda: 500).issue("a", 300, ACCESS): "expired",
        Signer(KEY, "iss", "svc", clock=lambda: 2000).issue("a", 300, ACCESS): "not valid yet",
    }
    for tok, why in cases.items():
        with pytest.raises(TokenError, match=why):
            s.verify(tok)
    assert Signer(KEY, "iss", "svc", clock=lambda: 1320).verify(token)   # within the clock-skew leeway
    with pytest.raises(ValueError):
        Signer(b"short", "iss", "svc")


def test_signing_key_file(tmp_path):
    path = str(tmp_path / "token.key")
    key = load_or_create_key(path)
    assert len(key) == 32 and oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert load_or_create_key(path) == key
    (tmp_path / "short.key").write_bytes(b"abc")
    with pytest.raises(ValueError, match="too short"):
        load_or_create_key(str(tmp_path / "short.key"))


def test_htpasswd_parse_errors():
    good = ht.hash_password("pw", rounds=4)
    assert ht.parse(f"# comment\n\nalice:{good}\n") == {"alice": good}
    for text, why in ((f"alice{good}", "expected user:hash"), ("alice:{SHA}abc=", "only bcrypt"),
                      ("alice:plain", "only bcrypt"), (f"a:{good}\na:{good}", "appears twice"),
                      (f":{good}", "expected user:hash")):
        with pytest.raises(ht.HtpasswdError, match=why):
            ht.parse(text, "f")


def test_bcrypt_variants_and_verification(tmp_path):
    h = ht.hash_password("secret", rounds=4)
    assert h.startswith("$2b$04$")
    for prefix in ("$2b$", "$2y$", "$2a$"):
        assert ht.check_bcrypt("secret", prefix + h[4:])
        assert not ht.check_bcrypt("Secret", prefix + h[4:])
    assert not ht.check_bcrypt("secret", "$1$md5crypt")
    assert not ht.check_bcrypt("secret", "$2b$04$short")
    path = tmp_path / "htpasswd"
    path.write_text(f"alice:{h}\n")
    f = ht.Htpasswd(str(path))
    assert f.verify("alice", "secret") and f.verify("alice", "secret")   # the second from the cache
    assert not f.verify("alice", "wrong") and not f.verify("bob", "secret")
    path.write_text(f"bob:{ht.hash_password('other', rounds=4)}\n")
    os.utime(path, ns=(1, 1))   # a change the reload must notice even with the same size
    assert not f.verify("alice", "secret") and f.verify("bob", "other")
    assert f.has_user("bob") and not f.has_user("alice")
    path.write_text("broken line\n")
    os.utime(path, ns=(2, 2))
    assert f.verify("bob", "other")          # a broken file keeps the accounts last read
    with pytest.raises(ht.HtpasswdError, match="cannot read"):
        ht.Htpasswd(str(tmp_path / "missing"))
