"""The Docker config file: credentials round trip, docker's format, helpers."""
import base64
import json
import os
import stat

import pytest

from dockyard.registry import credentials as cr
from dockyard.registry.auth import Credentials


@pytest.fixture
def cfgdir(tmp_path, monkeypatch):
    d = tmp_path / "dockercfg"
    monkeypatch.setenv("DOCKER_CONFIG", str(d))
    return d


def test_round_trip_in_dockers_format(cfgdir):
    assert cr.get("localhost:5000") is None
    cr.store("localhost:5000", Credentials("alice", "s3cr:et"))
    cr.store("docker.io", Credentials("bob", "pw"))
    p = cfgdir / "config.json"
    assert cr.config_path() == p
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    doc = json.loads(p.read_text())
    assert doc == {"auths": {
        "localhost:5000": {"auth": base64.b64encode(b"alice:s3cr:et").decode()},
        "https://index.docker.io/v1/": {"auth": base64.b64encode(b"bob:pw").decode()}}}
    assert cr.get("localhost:5000") == Credentials("alice", "s3cr:et")
    for hub in ("docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"):
        assert cr.get(hub) == Credentials("bob", "pw")
    assert cr.get("https://localhost:5000/v2/") == Credentials("alice", "s3cr:et")
    assert cr.resolver()("localhost:5000").username == "alice"
    assert cr.logout("localhost:5000") is True
    assert cr.logout("localhost:5000") is False
    assert cr.get("localhost:5000") is None
    assert cr.get("docker.io").username == "bob"


def test_reads_files_written_by_docker_and_keeps_other_keys(cfgdir):
    cfgdir.mkdir()
    (cfgdir / "config.json").write_text(json.dumps({
        "auths": {"http://reg.example:5000": {"auth": base64.b64encode(b"u:p").decode()},
                  "tok.example": {"auth": "", "identitytoken": "RT"}},
        "psFormat": "table {{.ID}}", "HttpHeaders": {"X": "1"}}))
    assert cr.get("reg.example:5000") == Credentials("u", "p")
    assert cr.get("tok.example") == Credentials(identity_token="RT")
    cr.store("reg.example:5000", Credentials("u2", "p2"))
    doc = json.loads((cfgdir / "config.json").read_text())
    assert doc["psFormat"] == "table {{.ID}}" and doc["HttpHeaders"] == {"X": "1"}
    assert "http://reg.example:5000" not in doc["auths"]  # replaced, not duplicated
    assert cr.get("reg.example:5000") == Credentials("u2", "p2")
    cr.store("tok.example", Credentials("me", identity_token="RT2"))
    assert cr.get("tok.example") == Credentials("me", "", "RT2")


def test_bad_files_give_clear_errors(cfgdir):
    cfgdir.mkdir()
    p = cfgdir / "config.json"
    p.write_text("{not json")
    with pytest.raises(cr.CredentialsError, match="config.json: invalid JSON"):
        cr.get("x")
    p.write_text('{"auths": []}')
    with pytest.raises(cr.CredentialsError, match="'auths' must be an object"):
        cr.get("x")
    p.write_text(json.dumps({"auths": {"x": {"auth": "!!notbase64"}}}))
    with pytest.raises(cr.CredentialsError, match="invalid auth configuration for x"):
        cr.get("x")
    p.write_text(json.dumps({"auths": {"x": {"auth": base64.b64encode(b"nocolon").decode()}}}))
    with pytest.raises(cr.CredentialsError, match="no ':'"):
        cr.get("x")
    p.write_text("")
    assert cr.get("x") is None


def test_failed_write_leaves_the_old_file(cfgdir, monkeypatch):
    cr.store("a:1", Credentials("u", "p"))
    before = (cfgdir / "config.json").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(cr.json, "dump", boom)
    with pytest.raises(OSError):
        cr.store("b:1", Credentials("u", "p"))
    assert (cfgdir / "config.json").read_bytes() == before
    assert sorted(os.listdir(cfgdir)) == ["config.json"]


HELPER = """#!/bin/sh
# A credential helper speaking docker's protocol, keeping secrets in $STORE.
read -r input || true
case "$1" in
  store) printf '%s' "$input" > "$STORE" ;;
  get) if [ -s "$STORE" ]; then cat "$STORE"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) if [ -s "$STORE" ]; then : > "$STORE"; else echo "credentials not found in native keychain"; exit 1; fi ;;
esac
"""


def test_credential_helper(cfgdir, tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-dytest"
    helper.write_text(HELPER)
    helper.chmod(0o755)
    store = tmp_path / "secret.json"
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    monkeypatch.setenv("STORE", str(store))
    cfgdir.mkdir()
    (cfgdir / "config.json").write_text(json.dumps({"credHelpers": {"reg.example:5000": "dytest"}}))
    assert cr.get("reg.example:5000") is None
    cr.store("reg.example:5000", Credentials("carol", "pw"))
    assert json.loads(store.read_text()) == {"ServerURL": "reg.example:5000", "Username": "carol", "Secret": "pw"}
    assert "auths" not in json.loads((cfgdir / "config.json").read_text())  # secret not in the file
    assert cr.get("reg.example:5000") == Credentials("carol", "pw")
    assert cr.erase("reg.example:5000") is True
    assert cr.get("reg.example:5000") is None
    cr.store("reg.example:5000", Credentials("x", identity_token="RT"))
    assert cr.get("reg.example:5000") == Credentials(identity_token="RT")
    (cfgdir / "config.json").write_text(json.dumps({"credsStore": "missing-helper"}))
    with pytest.raises(cr.CredentialsError, match="docker-credential-missing-helper not found"):
        cr.get("other")


def test_server_key_and_hostname():
    assert cr.server_key("docker.io") == "https://index.docker.io/v1/"
    assert cr.server_key("Registry-1.Docker.io") == "https://index.docker.io/v1/"
    assert cr.server_key("https://localhost:5000/v2/") == "localhost:5000"
    assert cr.hostname("http://[::1]:5000") == "[::1]:5000"


def test_default_config_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cr.config_path() == tmp_path / ".docker" / "config.json"
