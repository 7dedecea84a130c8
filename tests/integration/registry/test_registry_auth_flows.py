"""Authentication against real registries: token (JWT) auth, htpasswd Basic auth, TLS."""
import json
import os

import pytest

from dockyard.registry import auth, credentials, errors
from dockyard.registry.client import RegistryClient
from dockyard.registry.pull import pull
from dockyard.registry.push import push


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    d = tmp_path / "docker-config"
    monkeypatch.setenv("DOCKER_CONFIG", str(d))
    return d


# --- token auth ------------------------------------------------------------------

def test_token_login_push_pull(token_registry, store, new_store, images, docker_config):
    reg, ts = token_registry
    assert credentials.login(reg.host, "alice", "wonderland") == "Login Succeeded"
    saved = json.loads((docker_config / "config.json").read_text())
    assert reg.host in saved["auths"]
    login_req = ts.requests[-1]
    assert login_req["user"] == "alice" and "scope" not in login_req["query"]
    assert login_req["query"]["offline_token"] == ["true"]

    img = images.image(store, [{"secret.txt": os.urandom(2000)}, {"b": b"2"}])
    cache = auth.TokenCache()
    before = len(ts.requests)
    push(f"{reg.host}/team/app:1", store, img.manifest_digest, creds=credentials.get(reg.host), token_cache=cache)
    push_tokens = ts.requests[before:]
    # one token for repository:team/app:pull,push, reused by all blob and manifest requests (cached)
    assert len(push_tokens) == 1
    assert push_tokens[0]["query"]["scope"] == ["repository:team/app:pull,push"]
    assert push_tokens[0]["query"]["service"] == ["dockyard-test-registry"]

    before = len(ts.requests)
    res = pull(f"{reg.host}/team/app:1", new_store(), creds=credentials.resolver(), token_cache=cache)
    assert res.manifest_digest == img.manifest_digest
    assert [r["query"]["scope"] for r in ts.requests[before:]] == [["repository:team/app:pull"]]


def test_token_wrong_password(token_registry, docker_config, store):
    reg, ts = token_registry
    with pytest.raises(auth.AuthError, match="^unauthorized: incorrect username or password$"):
        credentials.login(reg.host, "alice", "not-the-password")
    assert not (docker_config / "config.json").exists()
    with pytest.raises(errors.Unauthorized, match="incorrect username or password"):
        pull(f"{reg.host}/team/app:1", store, creds=auth.Credentials("alice", "bad"), token_cache=auth.TokenCache())


def test_token_anonymous_pull_is_denied_like_docker(token_registry, store, images):
    reg, ts = token_registry
    img = images.image(store, [{"p": b"1"}])
    push(f"{reg.host}/private/app:1", store, img.manifest_digest, creds=auth.Credentials("alice", "wonderland"))
    with pytest.raises(errors.Unauthorized) as ei:
        pull(f"{reg.host}/private/app:1", store, token_cache=auth.TokenCache())
    assert str(ei.value) == (f"pull access denied for {reg.host}/private/app, repository does not exist or may "
                             "require 'docker login': unauthorized: authentication required")
    # anonymous push is refused too
    with pytest.raises(errors.Unauthorized, match="^unauthorized: authentication required$"):
        push(f"{reg.host}/private/app:2", store, img.manifest_digest, token_cache=auth.TokenCache())


def test_token_anonymous_pull_of_public_repo(token_registry, store, new_store, images):
    reg, ts = token_registry
    img = images.image(store, [{"pub": b"lic"}])
    push(f"{reg.host}/public/app:1", store, img.manifest_digest, creds=auth.Credentials("alice", "wonderland"))
    before = len(ts.requests)
    res = pull(f"{reg.host}/public/app:1", new_store(), token_cache=auth.TokenCache())
    assert res.manifest_digest == img.manifest_digest
    assert [r["user"] for r in ts.requests[before:]] == [None]


def test_cross_repo_mount_with_token_scopes(token_registry, store, images, new_store):
    reg, ts = token_registry
    creds = auth.Credentials("alice", "wonderland")
    img = images.image(store, [{"m": os.urandom(500)}])
    push(f"{reg.host}/team/base:1", store, img.manifest_digest, creds=creds)
    events = []
    before = len(ts.requests)
    push(f"{reg.host}/team/derived:1", store, img.manifest_digest, creds=creds, mount_from=["team/base"],
         progress=events.append, token_cache=auth.TokenCache())
    assert any(e["status"] == "Mounted from team/base" for e in events)
    scopes = [r["query"]["scope"] for r in ts.requests[before:]]
    assert ["repository:team/derived:pull,push", "repository:team/base:pull"] in scopes
    assert pull(f"{reg.host}/team/derived:1", new_store(), creds=creds).manifest_digest == img.manifest_digest


# --- htpasswd (Basic) ----------------------------------------------------------------

def test_htpasswd_basic_auth(htpasswd_registry, store, new_store, images, docker_config):
    reg = htpasswd_registry
    img = images.image(store, [{"basic": b"auth\n"}])
    with pytest.raises(errors.Unauthorized, match="^unauthorized: authentication required$"):
        push(f"{reg.host}/b/app:1", store, img.manifest_digest)
    with pytest.raises(errors.Unauthorized,
                       match=f"^login attempt to http://{reg.host}/v2/ failed with status: 401 Unauthorized$"):
        credentials.login(reg.host, "bob", "wrong")
    assert credentials.login(reg.host, "bob", "builder") == "Login Succeeded"
    assert credentials.get(reg.host) == auth.Credentials("bob", "builder")
    push(f"{reg.host}/b/app:1", store, img.manifest_digest, creds=credentials.get(reg.host))
    res = pull(f"{reg.host}/b/app:1", new_store(), creds=credentials.resolver())
    assert res.manifest_digest == img.manifest_digest
    with pytest.raises(errors.Unauthorized):
        pull(f"{reg.host}/b/app:1", new_store(), creds=auth.Credentials("bob", "wrong"))
    assert credentials.logout(reg.host) is True
    with pytest.raises(errors.Unauthorized, match="pull access denied"):
        pull(f"{reg.host}/b/app:1", new_store(), creds=credentials.resolver())


# --- TLS ------------------------------------------------------------------------------

def test_tls_registry_verification(tls_registry, store, new_store, images, tmp_path):
    reg, cert = tls_registry
    img = images.image(store, [{"tls": b"secure\n"}])
    # 127.0.0.0/8 is an insecure registry by default (as in Docker): HTTPS without verification
    push(f"{reg.host}/t/app:1", store, img.manifest_digest)
    c = RegistryClient(reg.host)
    c.ping()
    assert c.base == f"https://{reg.host}"
    # when it is not insecure, the self-signed certificate is refused...
    with pytest.raises(errors.ConnectionFailed, match="tls: failed to verify certificate"):
        pull(f"{reg.host}/t/app:1", new_store(), insecure=[])
    # ...unless its CA is in certs.d/<host:port>/ca.crt, Docker's layout
    certs = tmp_path / "certs.d" / reg.host
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes(open(cert, "rb").read())
    res = pull(f"{reg.host}/t/app:1", new_store(), insecure=[], certs_dir=str(tmp_path / "certs.d"))
    assert res.manifest_digest == img.manifest_digest


def test_plain_http_is_not_used_for_secure_registries(registry, store):
    # a plain-HTTP registry that is not listed as insecure is reached over HTTPS only, which fails
    with pytest.raises(errors.ConnectionFailed,
                       match=f'GET "https://{registry.host}/v2/": tls: server gave HTTP response to HTTPS client'):
        pull(f"{registry.host}/x:1", store, insecure=[])
    with pytest.raises(errors.ConnectionFailed):
        pull(f"{registry.host}/x:1", store, insecure=["10.0.0.0/8", "other:5000"])


def test_blob_redirect_drops_credentials(token_registry, store, new_store, images, make_proxy, blob_server):
    """Registries redirect blob GETs to storage elsewhere; the bearer token must not follow."""
    reg, ts = token_registry
    creds = auth.Credentials("alice", "wonderland")
    img = images.image(store, [{"r": os.urandom(3000)}])
    push(f"{reg.host}/team/redirected:1", store, img.manifest_digest, creds=creds)
    cdn = blob_server(store)
    px = make_proxy(reg.port)

    def hook(method, path, status, headers, data):
        if method == "GET" and "/blobs/sha256:" in path and status == 200:
            return ("respond", 307, [("Location", f"http://127.0.0.1:{cdn.port}/blobs/{path.rsplit('/', 1)[1]}"),
                                     ("Content-Length", "0")], b"")
        return None
    px.hook = hook
    res = pull(f"{px.host}/team/redirected:1", new_store(), creds=creds, token_cache=auth.TokenCache())
    assert res.manifest_digest == img.manifest_digest
    assert len(cdn.requests) == 2  # config and layer came from the redirect target
    assert all("Authorization" not in h for h in cdn.requests)
    blob_gets = [h for m, p, h in px.requests if m == "GET" and "/blobs/" in p]
    assert blob_gets and all(h["Authorization"].startswith("Bearer ") for h in blob_gets)


def test_client_certificate_from_certs_dir(mtls_registry, store, new_store, images, tmp_path):
    reg, server_cert, client_cert, client_key = mtls_registry
    img = images.image(store, [{"mtls": b"1"}])
    certs = tmp_path / "certs.d" / reg.host
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes(open(server_cert, "rb").read())
    certs_dir = str(tmp_path / "certs.d")
    # the server is trusted now, but it refuses a client without a certificate
    with pytest.raises(errors.ConnectionFailed, match=f'"https://{reg.host}/v2/": tls: the server refused the client'):
        push(f"{reg.host}/m/app:1", store, img.manifest_digest, insecure=[], certs_dir=certs_dir)
    (certs / "client.cert").write_bytes(open(client_cert, "rb").read())
    (certs / "client.key").write_bytes(open(client_key, "rb").read())
    push(f"{reg.host}/m/app:1", store, img.manifest_digest, insecure=[], certs_dir=certs_dir)
    res = pull(f"{reg.host}/m/app:1", new_store(), insecure=[], certs_dir=certs_dir)
    assert res.manifest_digest == img.manifest_digest
    (certs / "client.key").unlink()
    with pytest.raises(errors.ConnectionFailed, match="missing key client.key"):
        pull(f"{reg.host}/m/app:1", new_store(), insecure=[], certs_dir=certs_dir)
