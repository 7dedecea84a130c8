"""Fixtures for registry tests: real docker-registry processes, a JWT token server,
a fault-injecting HTTP proxy, and a builder of tiny images made locally.

Everything listens on 127.0.0.1 with free ports and lives in tmp directories;
processes and threads are stopped at teardown even when a test fails.
"""
import base64
import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import tarfile
import threading
import time
import urllib.parse
import uuid
import warnings
from dataclasses import dataclass, field

import pytest

from dockyard.images.content import ContentStore
from dockyard.spec import image as spec

REGISTRY_BIN = "/usr/bin/docker-registry"
ISSUER = "dockyard-test-issuer"
SERVICE = "dockyard-test-registry"

needs_registry = pytest.mark.skipif(not os.path.exists(REGISTRY_BIN),
                                    reason=f"{REGISTRY_BIN} not installed (Debian package docker-registry)")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here + os.sep):
            item.add_marker(needs_registry)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Registry:
    port: int
    root: str
    proc: subprocess.Popen
    log: str
    tls: bool = False

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_text(self) -> str:
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""


def _yaml_auth(auth: dict | None) -> str:
    if not auth:
        return ""
    lines = ["auth:"]
    for kind, opts in auth.items():
        lines.append(f"  {kind}:")
        lines += [f"    {k}: {json.dumps(v)}" for k, v in opts.items()]
    return "\n".join(lines) + "\n"


def start_registry(tmpdir, auth: dict | None = None, tls: tuple[str, str] | None = None,
                   client_ca: str | None = None) -> Registry:
    os.makedirs(tmpdir, exist_ok=True)
    port = free_port()
    root = os.path.join(tmpdir, "storage")
    cfg = os.path.join(tmpdir, "config.yml")
    tls_yaml = f"  tls:\n    certificate: {json.dumps(tls[0])}\n    key: {json.dumps(tls[1])}\n" if tls else ""
    if client_ca:
        tls_yaml += f"    clientcas:\n      - {json.dumps(client_ca)}\n"
    with open(cfg, "w") as f:
        f.write(f"""version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {json.dumps(root)}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: dockyard-test-secret
{tls_yaml}{_yaml_auth(auth)}""")
    log = os.path.join(tmpdir, "registry.log")
    with open(log, "wb") as logf:
        proc = subprocess.Popen([REGISTRY_BIN, "serve", cfg], stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    reg = Registry(port, root, proc, log, tls=bool(tls))
    deadline = time.monotonic() + 15
    while True:
        try:
            if client_ca:  # TLS needs a client certificate: a TCP connect tells it listens
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                return reg
            if tls:
                ctx = ssl._create_unverified_context()
                conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=ctx)
            else:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/v2/")
            conn.getresponse().read()
            conn.close()
            return reg
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_registry(reg)
                raise RuntimeError(f"docker-registry did not start:\n{reg.log_text()}")
            time.sleep(0.05)


def stop_registry(reg: Registry) -> None:
    if reg.proc.poll() is None:
        reg.proc.terminate()
        try:
            reg.proc.wait(5)
        except subprocess.TimeoutExpired:
            reg.proc.kill()
            reg.proc.wait(5)


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A plain-HTTP registry without auth, shared by the tests (each uses its own repositories)."""
    reg = start_registry(str(tmp_path_factory.mktemp("registry-plain")))
    try:
        yield reg
    finally:
        stop_registry(reg)


# --- keys, certificates, htpasswd --------------------------------------------

def openssl(*args, input=None) -> bytes:
    p = subprocess.run(["openssl", *args], input=input, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {p.stderr.decode(errors='replace')}")
    return p.stdout


def self_signed(dirpath, cn: str, san: str | None = None) -> tuple[str, str]:
    key, cert = os.path.join(dirpath, f"{cn}.key"), os.path.join(dirpath, f"{cn}.pem")
    args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
            "-subj", f"/CN={cn}"]
    if san:
        args += ["-addext", f"subjectAltName={san}"]
    openssl(*args)
    return key, cert


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry (what `htpasswd -nbB` writes), via libcrypt."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
        return f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5))}"


# --- token server ---------------------------------------------------------------

def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class TokenServer:
    """Issues RS256 JWTs the way docker/distribution's token auth expects (x5c header)."""

    def __init__(self, key: str, cert: str, users: dict[str, str], anonymous_pull: tuple[str, ...] = ()):
        self.key, self.users, self.anonymous_pull = key, users, anonymous_pull
        with open(cert) as f:
            pem = f.read()
        self.x5c = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
        self.requests: list[dict] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                server.handle(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def handle(self, h) -> None:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(h.path).query)
        user = None
        authz = h.headers.get("Authorization", "")
        if authz.startswith("Basic "):
            u, _, p = base64.b64decode(authz[6:]).decode().partition(":")
            if self.users.get(u) != p:
                self.requests.append({"user": u, "ok": False, "query": q})
                h.send_response(401)
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            user = u
        self.requests.append({"user": user, "ok": True, "query": q})
        access = []
        for scope in q.get("scope", []):
            typ, name, actions = scope.split(":")
            wanted = actions.split(",")
            if user:
                granted = wanted
            else:
                granted = ["pull"] if "pull" in wanted and name.startswith(self.anonymous_pull) and \
                    self.anonymous_pull else []
            access.append({"type": typ, "name": name, "actions": granted})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": user or "", "aud": q.get("service", [""])[0], "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        sig = openssl("dgst", "-sha256", "-sign", self.key, input=signing_input.encode())
        body = json.dumps({"token": f"{signing_input}.{b64url(sig)}", "expires_in": 300,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory):
    """A registry with token auth, and its token server (users: alice/wonderland; public/* is pullable)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    d = str(tmp_path_factory.mktemp("registry-token"))
    key, cert = self_signed(d, "dockyard-token-signer")
    ts = TokenServer(key, cert, {"alice": "wonderland"}, anonymous_pull=("public/",))
    reg = None
    try:
        reg = start_registry(d, auth={"token": {"realm": ts.realm, "service": SERVICE, "issuer": ISSUER,
                                                "rootcertbundle": cert}})
        yield reg, ts
    finally:
        if reg:
            stop_registry(reg)
        ts.close()


@pytest.fixture(scope="session")
def htpasswd_registry(tmp_path_factory):
    """A registry with htpasswd (bcrypt) Basic auth; user bob/builder."""
    d = str(tmp_path_factory.mktemp("registry-htpasswd"))
    path = os.path.join(d, "htpasswd")
    with open(path, "w") as f:
        f.write(htpasswd_line("bob", "builder") + "\n")
    reg = start_registry(d, auth={"htpasswd": {"realm": "basic-realm", "path": path}})
    try:
        yield reg
    finally:
        stop_registry(reg)


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory):
    """A registry over HTTPS with a self-signed certificate for 127.0.0.1; yields (registry, cert path)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    d = str(tmp_path_factory.mktemp("registry-tls"))
    key, cert = self_signed(d, "registry-tls", san="IP:127.0.0.1")
    reg = start_registry(d, tls=(cert, key))
    try:
        yield reg, cert
    finally:
        stop_registry(reg)


@pytest.fixture(scope="session")
def mtls_registry(tmp_path_factory):
    """A registry over HTTPS that requires a client certificate signed by a test CA.

    Yields (registry, CA cert, client cert, client key)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    d = str(tmp_path_factory.mktemp("registry-mtls"))
    ca_key, ca_cert = self_signed(d, "test-ca")
    key, cert = self_signed(d, "registry-mtls", san="IP:127.0.0.1")
    ckey, csr, ccert = (os.path.join(d, n) for n in ("client.key", "client.csr", "client.cert"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", ckey, "-out", csr, "-subj", "/CN=dockyard-client")
    openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", ccert,
            "-days", "2")
    reg = start_registry(d, tls=(cert, key), client_ca=ca_cert)
    try:
        yield reg, cert, ccert, ckey
    finally:
        stop_registry(reg)


# --- fault-injecting proxy ---------------------------------------------------------

class Proxy:
    """Forwards HTTP to a registry, recording requests.

    ``hook(method, path, status, headers, body)`` may return None (pass), new body bytes,
    ("cut", n) to send n body bytes then drop the connection, ("replace", body,
    [response headers to drop]) or ("respond", status, [(header, value)], body). ``drop_request_headers`` are not forwarded upstream."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.requests: list[tuple[str, str, dict]] = []
        self.hook = None
        self.drop_request_headers: set[str] = set()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                proxy.requests.append((self.command, self.path, headers))
                if proxy.drop_request_headers:
                    headers = {k: v for k, v in headers.items() if k.lower() not in proxy.drop_request_headers}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status, rheaders = resp.status, [(k, v) for k, v in resp.getheaders()
                                                 if k.lower() not in ("connection", "transfer-encoding")]
                conn.close()
                action = proxy.hook(self.command, self.path, status, rheaders, data) if proxy.hook else None
                cut = None
                if isinstance(action, tuple) and action[0] == "respond":
                    _, status, rheaders, action = action
                if isinstance(action, tuple) and action[0] == "cut":
                    cut = action[1]
                elif isinstance(action, tuple) and action[0] == "replace":
                    action, drop = action[1], {h.lower() for h in action[2]}
                    rheaders = [(k, v) for k, v in rheaders if k.lower() not in drop]
                if isinstance(action, bytes):
                    data = action
                    rheaders = [(k, str(len(data)) if k.lower() == "content-length" else v) for k, v in rheaders]
                self.send_response(status)
                for k, v in rheaders:
                    self.send_header(k, v)
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data[:cut] if cut is not None else data)
                self.wfile.flush()
                if cut is not None:
                    self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy(registry):
    """A Proxy in front of the plain registry."""
    p = Proxy(registry.port)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def make_proxy():
    """Factory of Proxies in front of any registry port; all closed at teardown."""
    made = []

    def make(port):
        made.append(Proxy(port))
        return made[-1]
    try:
        yield make
    finally:
        for p in made:
            p.close()


class BlobServer:
    """A plain HTTP server serving blobs of a ContentStore at /blobs/<digest> (like a CDN a
    registry redirects to), recording the request headers it got."""

    def __init__(self, store):
        self.requests: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.requests.append(dict(self.headers))
                data = store.read(self.path.rsplit("/", 1)[1])
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def blob_server():
    made = []

    def make(store):
        made.append(BlobServer(store))
        return made[-1]
    try:
        yield make
    finally:
        for b in made:
            b.close()


# --- tiny images -----------------------------------------------------------------------

@dataclass
class Image:
    manifest_digest: str
    manifest: bytes
    config_digest: str
    layers: list[str]
    diff_ids: list[str]
    media_type: str
    extra: dict = field(default_factory=dict)


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def make_image(store: ContentStore, layers: list[dict[str, bytes]], arch: str = "amd64", oci: bool = False,
               variant: str | None = None, cmd=("sh",)) -> Image:
    """Write layers, config and manifest of a small image into ``store``."""
    layer_descs, diff_ids = [], []
    for files in layers:
        tar = layer_tar(files)
        gz = gzip.compress(tar, mtime=0)
        store.put_bytes(gz)
        diff_ids.append(sha(tar))
        layer_descs.append({"mediaType": spec.OCI_LAYER_GZIP if oci else spec.DOCKER_LAYER_GZIP,
                            "size": len(gz), "digest": sha(gz)})
    config = {"architecture": arch, "os": "linux", "config": {"Cmd": list(cmd), "Env": ["PATH=/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created_by": f"layer {i}"} for i in range(len(layers))]}
    if variant:
        config["variant"] = variant
    cbytes = json.dumps(config).encode()
    store.put_bytes(cbytes)
    manifest = {"schemaVersion": 2,
                "mediaType": spec.OCI_MANIFEST if oci else spec.DOCKER_MANIFEST,
                "config": {"mediaType": spec.OCI_CONFIG if oci else spec.DOCKER_CONFIG,
                           "size": len(cbytes), "digest": sha(cbytes)},
                "layers": layer_descs}
    mbytes = json.dumps(manifest, indent=3).encode()
    store.put_bytes(mbytes)
    return Image(sha(mbytes), mbytes, sha(cbytes), [d["digest"] for d in layer_descs], diff_ids,
                 manifest["mediaType"])


def make_index(store: ContentStore, images: list[tuple[Image, dict]], oci: bool = True) -> Image:
    idx = {"schemaVersion": 2, "mediaType": spec.OCI_INDEX if oci else spec.DOCKER_MANIFEST_LIST,
           "manifests": [{"mediaType": img.media_type, "size": len(img.manifest), "digest": img.manifest_digest,
                          "platform": plat} for img, plat in images]}
    data = json.dumps(idx).encode()
    store.put_bytes(data)
    return Image(sha(data), data, "", [], [], idx["mediaType"])


@pytest.fixture
def store(tmp_path):
    return ContentStore(tmp_path / "store")


@pytest.fixture
def new_store(tmp_path):
    n = [0]

    def make():
        n[0] += 1
        return ContentStore(tmp_path / f"store{n[0]}")
    return make


@pytest.fixture
def images():
    """Image builders: ``images.image(store, layers, ...)`` and ``images.index(store, [(img, platform)])``."""
    class Builders:
        image = staticmethod(make_image)
        index = staticmethod(make_index)
        tar = staticmethod(layer_tar)
    return Builders
