"""Authentication and authorization: htpasswd Basic, the bearer token flow, access rules, TLS."""
import http.client
import json
import os
import ssl
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
from regsrv_support import (REPO, Api, basic, free_port, layer_tar, needs_openssl, openssl, self_signed, sha,
                            unverified_tls)

from dockyard.images.content import ContentStore
from dockyard.registry import errors as client_errors
from dockyard.registry.auth import Credentials, TokenCache, parse_www_authenticate
from dockyard.registry.pull import pull
from dockyard.registry.push import push
from dockyard.registry.server.auth.htpasswd import hash_password
from dockyard.registry.server.auth.tokens import Signer, load_or_create_key
from dockyard.registry.server.config import Rule


@pytest.fixture
def htpasswd(tmp_path):
    path = tmp_path / "htpasswd"
    alice = hash_password("wonderland", rounds=4)
    bob = "$2y$" + hash_password("builder", rounds=4)[4:]          # what `htpasswd -B` writes
    path.write_text(f"# users\nalice:{alice}\nbob:{bob}\n")
    return str(path)


RULES = [Rule("alice", "*", frozenset({"pull", "push", "delete"})),
         Rule("bob", "bob/*", frozenset({"pull", "push"})),
         Rule("bob", "shared/*", frozenset({"pull"})),
         Rule("", "public/*", frozenset({"pull"}))]


def _challenge(r) -> dict:
    (ch,) = parse_www_authenticate(r.header("www-authenticate"))
    return {"scheme": ch.scheme, **ch.params}


def test_basic_auth(start_server, htpasswd):
    srv = start_server(auth={"mode": "htpasswd", "htpasswd": htpasswd, "realm": "my realm", "rules": RULES})
    anon, alice, bob = Api(srv.host), Api(srv.host, basic("alice", "wonderland")), Api(srv.host, basic("bob", "builder"))
    r = anon("GET", "/v2/")
    assert r.status == 401 and r.codes == ["UNAUTHORIZED"]
    assert _challenge(r) == {"scheme": "basic", "realm": "my realm"}
    r = Api(srv.host, basic("alice", "wrong"))("GET", "/v2/")
    assert r.status == 401 and "invalid username or password" in r.json()["errors"][0]["message"]
    assert Api(srv.host, basic("nobody", "x"))("GET", "/v2/").status == 401
    assert Api(srv.host, {"Authorization": "Basic !!!"})("GET", "/v2/").status == 401
    assert alice("GET", "/v2/").status == 200 and bob("GET", "/v2/").status == 200   # $2b$ and $2y$
    alice.push_image("shared/base", "1")
    bob.push_image("bob/app", "1")
    assert bob("GET", "/v2/shared/base/manifests/1").status == 200
    r = bob("POST", "/v2/shared/base/blobs/uploads/")
    assert r.status == 403 and r.codes == ["DENIED"]
    r = bob("DELETE", "/v2/bob/app/manifests/1")
    assert r.status == 403 and r.codes == ["DENIED"]
    r = anon("GET", "/v2/bob/app/tags/list")
    assert r.status == 401 and _challenge(r)["scheme"] == "basic"
    alice.push_image("public/hello", "1")
    assert anon("GET", "/v2/public/hello/manifests/1").status == 200   # anonymous pull rule
    assert anon("POST", "/v2/public/hello/blobs/uploads/").status == 401
    assert bob("GET", "/v2/_catalog").json()["repositories"] == ["bob/app", "public/hello", "shared/base"]
    assert alice("GET", "/v2/_catalog").json()["repositories"] == ["bob/app", "public/hello", "shared/base"]
    assert anon("GET", "/v2/_catalog").status == 401


def test_mount_needs_pull_access_to_the_source(start_server, htpasswd):
    srv = start_server(auth={"mode": "htpasswd", "htpasswd": htpasswd, "rules": RULES})
    alice, bob = Api(srv.host, basic("alice", "wonderland")), Api(srv.host, basic("bob", "builder"))
    d = alice.push_blob("secret/thing", b"private layer")
    r = bob("POST", f"/v2/bob/app/blobs/uploads/?mount={d}&from=secret/thing")
    assert r.status == 202                            # not mounted: an upload starts instead
    assert bob("HEAD", f"/v2/bob/app/blobs/{d}").status == 404
    alice.push_blob("shared/lib", b"shared layer")
    r = bob("POST", f"/v2/bob/app/blobs/uploads/?mount={sha(b'shared layer')}&from=shared/lib")
    assert r.status == 201


def test_our_client_with_basic_auth(start_server, htpasswd, tmp_path):
    srv = start_server(auth={"mode": "htpasswd", "htpasswd": htpasswd})
    alice = Api(srv.host, basic("alice", "wonderland"))
    digest, _ = alice.push_image("cli/basic", "1", [layer_tar({"f": os.urandom(1000)})])
    res = pull(f"{srv.host}/cli/basic:1", ContentStore(tmp_path / "s1"), creds=Credentials("alice", "wonderland"))
    assert res.manifest_digest == digest
    with pytest.raises(client_errors.Unauthorized):
        pull(f"{srv.host}/cli/basic:1", ContentStore(tmp_path / "s2"), creds=Credentials("alice", "nope"))


@pytest.fixture
def token_server(start_server, htpasswd, tmp_path):
    return start_server(auth={"mode": "token", "htpasswd": htpasswd, "service": "test-registry",
                              "rules": RULES})


def _token(srv, scopes, auth=None, **params) -> tuple[int, dict]:
    q = [("service", "test-registry")] + [("scope", s) for s in scopes] + list(params.items())
    r = Api(srv.host, auth)("GET", "/token?" + urlencode(q))
    return r.status, (r.json() if r.body else {})


def test_token_challenge_and_scopes(token_server):
    srv = token_server
    anon = Api(srv.host)
    r = anon("GET", "/v2/")
    assert r.status == 401
    assert _challenge(r) == {"scheme": "bearer", "realm": f"http://{srv.host}/token", "service": "test-registry"}
    r = anon("GET", "/v2/bob/app/manifests/1")
    assert r.status == 401
    assert _challenge(r)["scope"] == "repository:bob/app:pull"
    r = anon("PUT", "/v2/bob/app/manifests/1", b"{}")
    assert _challenge(r)["scope"] == "repository:bob/app:pull,push"

    status, doc = _token(srv, ["repository:bob/app:pull,push", "repository:shared/x:pull,push",
                               "repository:other:pull"], basic("bob", "builder"))
    assert status == 200 and doc["expires_in"] == 300 and doc["token"] == doc["access_token"]
    assert "refresh_token" not in doc
    bob = Api(srv.host, {"Authorization": f"Bearer {doc['token']}"})
    assert bob("GET", "/v2/").status == 200
    bob.push_image("bob/app", "1")
    assert bob("GET", "/v2/bob/app/manifests/1").status == 200
    r = bob("POST", "/v2/shared/x/blobs/uploads/")                 # the token only grants pull there
    assert r.status == 401 and _challenge(r)["error"] == "insufficient_scope"
    assert _challenge(r)["scope"] == "repository:shared/x:pull,push"
    r = bob("GET", "/v2/other/manifests/1")
    assert r.status == 401 and _challenge(r)["error"] == "insufficient_scope"

    status, doc = _token(srv, ["repository:bob/app:pull"], basic("bob", "wrong"))
    assert status == 401
    status, doc = _token(srv, ["repository:bob/app:pull", "repository:public/a:pull,push"])   # anonymous
    assert status == 200
    anon_tok = Api(srv.host, {"Authorization": f"Bearer {doc['token']}"})
    assert anon_tok("GET", "/v2/").status == 200
    assert anon_tok("GET", "/v2/bob/app/manifests/1").status == 401
    assert anon_tok("GET", "/v2/public/a/tags/list").status == 404     # allowed, but there is nothing
    assert _token(srv, ["bad-scope"])[0] == 400
    status, doc = _token(srv, ["registry:catalog:*"], basic("bob", "builder"))
    r = Api(srv.host, {"Authorization": f"Bearer {doc['token']}"})("GET", "/v2/_catalog")
    assert r.status == 200 and r.json()["repositories"] == ["bob/app"]     # what bob may pull
    status, doc = _token(srv, ["registry:catalog:*"])
    assert doc["token"] and Api(srv.host, {"Authorization": f"Bearer {doc['token']}"})(
        "GET", "/v2/_catalog").status == 401                                 # anonymous: no catalog
    assert Api(srv.host)("GET", "/token?service=someone-else").status == 400


def test_forged_expired_and_foreign_tokens_are_refused(token_server, tmp_path):
    srv = token_server
    status, doc = _token(srv, ["repository:bob/app:pull"], basic("bob", "builder"))
    head, claims, sig = doc["token"].split(".")
    forged = f"{head}.{claims[:-2]}AA.{sig}"
    other = Signer(os.urandom(32), "dockyard-registry", "test-registry").issue(
        "bob", 300, [{"type": "repository", "name": "bob/app", "actions": ["pull"]}])
    key = load_or_create_key(srv.cfg.token_key_path)
    expired = Signer(key, "dockyard-registry", "test-registry", clock=lambda: time.time() - 3600).issue(
        "bob", 300, [{"type": "repository", "name": "bob/app", "actions": ["pull"]}])
    none_alg = "eyJhbGciOiJub25lIn0." + claims + "."
    for token in (forged, other, expired, none_alg, "garbage"):
        r = Api(srv.host, {"Authorization": f"Bearer {token}"})("GET", "/v2/bob/app/tags/list")
        assert r.status == 401 and _challenge(r)["error"] == "invalid_token", token
    r = Api(srv.host, basic("bob", "builder"))("GET", "/v2/")    # token mode wants a bearer token
    assert r.status == 401 and _challenge(r)["scheme"] == "bearer"


def test_oauth_password_and_refresh_grants(token_server):
    srv = token_server
    api = Api(srv.host)
    form = {"grant_type": "password", "username": "alice", "password": "wonderland", "service": "test-registry",
            "scope": "repository:a/b:pull,push", "access_type": "offline", "client_id": "docker"}
    r = api("POST", "/token", urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200
    doc = r.json()
    assert doc["refresh_token"] and doc["access_token"]
    form = {"grant_type": "refresh_token", "refresh_token": doc["refresh_token"], "service": "test-registry",
            "scope": "repository:a/b:pull", "client_id": "docker"}
    r = api("POST", "/token", urlencode(form).encode())
    assert r.status == 200 and "refresh_token" not in r.json()
    assert Api(srv.host, {"Authorization": f"Bearer {r.json()['access_token']}"})("GET", "/v2/").status == 200
    form["refresh_token"] = doc["access_token"]             # an access token is not a refresh token
    assert api("POST", "/token", urlencode(form).encode()).status == 401
    bad = {"grant_type": "password", "username": "alice", "password": "x", "service": "test-registry"}
    assert api("POST", "/token", urlencode(bad).encode()).status == 401
    assert api("POST", "/token", b"grant_type=magic").status == 400
    status, doc = _token(srv, [], basic("alice", "wonderland"), offline_token="true", client_id="docker",
                         account="alice")
    assert status == 200 and doc["refresh_token"]             # `docker login` gets an identity token


def test_our_client_follows_the_token_flow(token_server, tmp_path):
    srv = token_server
    store = ContentStore(tmp_path / "src")
    layer = layer_tar({"data": os.urandom(5000)})
    ld = store.put_bytes(layer)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
    cd = store.put_bytes(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config),
                                      "digest": cd},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": len(layer),
                                       "digest": ld}]}).encode()
    md = store.put_bytes(manifest)
    cache = TokenCache()
    assert push(f"{srv.host}/bob/tok:1", store, md, creds=Credentials("bob", "builder"), token_cache=cache) == md
    res = pull(f"{srv.host}/bob/tok:1", ContentStore(tmp_path / "dst"), creds=Credentials("bob", "builder"),
               token_cache=cache)
    assert res.manifest_digest == md
    with pytest.raises(client_errors.RegistryError):
        push(f"{srv.host}/shared/nope:1", store, md, creds=Credentials("bob", "builder"), token_cache=TokenCache())


@needs_openssl
def test_tls(start_server, tmp_path):
    cert, key = self_signed(str(tmp_path))
    srv = start_server(tls={"cert": cert, "key": key})
    api = Api(srv.host, tls_context=unverified_tls())
    digest, _ = api.push_image("tls/img", "1")
    ctx = ssl.create_default_context(cafile=cert)
    assert Api(srv.host, tls_context=ctx)("GET", "/v2/tls/img/manifests/1").header("docker-content-digest") == digest
    conn = http.client.HTTPConnection(srv.host, timeout=5)   # plain HTTP to the TLS port gets nowhere
    with pytest.raises((http.client.HTTPException, OSError)):
        conn.request("GET", "/v2/")
        conn.getresponse().read()
    conn.close()
    certs = tmp_path / "certs.d" / srv.host
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes(open(cert, "rb").read())
    res = pull(f"{srv.host}/tls/img:1", ContentStore(tmp_path / "s"), certs_dir=str(tmp_path / "certs.d"),
               insecure=[])
    assert res.manifest_digest == digest
    r = api("GET", f"/v2/tls/img/blobs/{res.config_digest}", headers={"Range": "bytes=0-4"})
    assert r.status == 206 and len(r.body) == 5


@needs_openssl
def test_client_certificates(start_server, tmp_path):
    d = str(tmp_path)
    cert, key = self_signed(d)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "2", "-subj", "/CN=clients")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{d}/client.key", "-out", f"{d}/client.csr", "-subj", "/CN=builder")
    openssl("x509", "-req", "-in", f"{d}/client.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
            "-CAcreateserial", "-out", f"{d}/client.cert", "-days", "2")
    srv = start_server(tls={"cert": cert, "key": key, "client_ca": f"{d}/ca.pem"})
    ctx = ssl.create_default_context(cafile=cert)
    with pytest.raises((ssl.SSLError, OSError)):
        Api(srv.host, tls_context=ctx)("GET", "/v2/")
    ctx.load_cert_chain(f"{d}/client.cert", f"{d}/client.key")
    api = Api(srv.host, tls_context=ctx)
    digest, _ = api.push_image("mtls/img", "1")
    certs = tmp_path / "certs.d" / srv.host
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes(open(cert, "rb").read())
    (certs / "client.cert").write_bytes(open(f"{d}/client.cert", "rb").read())
    (certs / "client.key").write_bytes(open(f"{d}/client.key", "rb").read())
    res = pull(f"{srv.host}/mtls/img:1", ContentStore(tmp_path / "s"), certs_dir=str(tmp_path / "certs.d"),
               insecure=[])
    assert res.manifest_digest == digest


def test_serve_from_a_config_file(htpasswd, tmp_path):
    port = free_port()
    cfg = tmp_path / "registry.toml"
    cfg.write_text(f'addr = "127.0.0.1:{port}"\nroot = "{tmp_path / "croot"}"\n[auth]\nmode = "htpasswd"\n'
                   f'htpasswd = "{htpasswd}"\nanonymous = ["pull"]\n[[auth.rules]]\naccount = "bob"\n'
                   f'repository = "bob/*"\nactions = ["pull", "push"]\n')
    proc = subprocess.Popen([sys.executable, "-m", "dockyard.registry.server.main", "serve", "--config", str(cfg)],
                            cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert f"serving http://127.0.0.1:{port} from {tmp_path / 'croot'}" in line
        host = f"127.0.0.1:{port}"
        bob, alice = Api(host, basic("bob", "builder")), Api(host, basic("alice", "wonderland"))
        bob.push_image("bob/x", "1")
        assert alice("POST", "/v2/bob/x/blobs/uploads/").status == 403     # rules exist: alice has none
        assert Api(host)("GET", "/v2/bob/x/manifests/1").status == 200   # anonymous pull
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()
    assert proc.returncode == 0      # a clean shutdown on SIGTERM


def test_login_guessing_is_slowed_down(start_server, htpasswd):
    for mode in ("htpasswd", "token"):
        srv = start_server(auth={"mode": mode, "htpasswd": htpasswd, "max_login_failures": 3})
        path = "/v2/" if mode == "htpasswd" else "/token?service=dockyard-registry"
        for _ in range(3):
            assert Api(srv.host, basic("alice", "guess"))("GET", path).status == 401
        r = Api(srv.host, basic("alice", "wonderland"))("GET", path)
        assert r.status == 429 and r.codes == ["TOOMANYREQUESTS"] and int(r.header("retry-after")) > 0
