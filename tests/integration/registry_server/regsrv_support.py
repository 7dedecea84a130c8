"""Helpers for the registry server's tests: servers (in-process threads, or subprocesses that
can be killed), a small HTTP client, builders of images pushed over the API or written as OCI
layouts, and skopeo/openssl wrappers. (A module of its own: every test directory has a
``conftest``, so ``from conftest import ...`` would find another one.)

Everything listens on 127.0.0.1 with free ports and stores under tmp_path; servers are stopped at
teardown even when a test fails.
"""
import asyncio
import base64
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass

import pytest

from dockyard.registry.server import config as config_mod
from dockyard.registry.server.server import RegistryServer
from dockyard.spec import image as spec

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")


def sha(data: bytes, algo: str = "sha256") -> str:
    return f"{algo}:{hashlib.new(algo, data).hexdigest()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- servers ---------------------------------------------------------------------------------

class ServerThread:
    """A RegistryServer on its own event loop in a thread."""

    def __init__(self, cfg: config_mod.ServerConfig):
        self.cfg = cfg
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = None

    def start(self) -> "ServerThread":
        self.thread.start()

        async def go():
            self.server = RegistryServer(self.cfg)
            await self.server.start()
        try:
            asyncio.run_coroutine_threadsafe(go(), self.loop).result(10)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def port(self) -> int:
        return self.server.addresses[0][1]

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def storage(self):
        return self.server.storage

    def stop(self) -> None:
        if self.server is not None:
            try:
                asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
            except Exception:
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def make_config(root, **settings) -> config_mod.ServerConfig:
    cfg = config_mod.ServerConfig(addr="127.0.0.1:0", root=str(root), fsync=False)
    for key, value in settings.items():
        if key in ("tls", "auth"):
            for k, v in value.items():
                setattr(getattr(cfg, key), k, v)
        else:
            setattr(cfg, key, value)
    config_mod.validate(cfg)
    return cfg


class ServerProcess:
    """``python -m dockyard.registry.server.main serve`` as a subprocess (can be SIGKILLed)."""

    def __init__(self, root, port: int | None = None, args: tuple = ()):
        self.root = str(root)
        self.port = port or free_port()
        self.args = args
        self.log = os.path.join(os.path.dirname(self.root.rstrip("/")), f"server-{self.port}.log")
        self.proc = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dockyard.registry.server.main", "serve", "--addr", self.host,
                 "--root", self.root, "--log-level", "warn", *self.args],
                stdout=log, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"registry server did not start:\n{self.log_text()}")
                time.sleep(0.05)

    def log_text(self) -> str:
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# --- HTTP ------------------------------------------------------------------------------------

@dataclass
class Resp:
    status: int
    headers: dict
    body: bytes

    def header(self, name: str):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    @property
    def codes(self) -> list[str]:
        return [e["code"] for e in self.json()["errors"]]


def request(host: str, method: str, path: str, body=None, headers=None, tls_context=None,
            timeout: float = 30) -> Resp:
    if tls_context is not None:
        conn = http.client.HTTPSConnection(host, timeout=timeout, context=tls_context)
    else:
        conn = http.client.HTTPConnection(host, timeout=timeout)
    try:
        h = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, bytearray)) and "Content-Length" not in h:
            conn.request(method, path, body=body, headers=h, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        return Resp(r.status, hdrs, data)
    finally:
        conn.close()


class Api:
    """Requests to one registry, plus the common push steps."""

    def __init__(self, host: str, headers: dict | None = None, tls_context=None):
        self.host = host
        self.headers = dict(headers or {})
        self.tls_context = tls_context

    def __call__(self, method: str, path: str, body=None, headers=None) -> Resp:
        return request(self.host, method, path, body, {**self.headers, **(headers or {})}, self.tls_context)

    def push_blob(self, name: str, data: bytes, algo: str = "sha256") -> str:
        d = sha(data, algo)
        r = self("POST", f"/v2/{name}/blobs/uploads/?digest={d}", data,
                 {"Content-Type": "application/octet-stream"})
        assert r.status == 201, (r.status, r.body)
        return d

    def push_manifest(self, name: str, ref: str, data: bytes, media_type: str) -> Resp:
        r = self("PUT", f"/v2/{name}/manifests/{ref}", data, {"Content-Type": media_type})
        assert r.status == 201, (r.status, r.body)
        return r

    def push_image(self, name: str, tag: str | None, layers: list[bytes] | None = None, oci: bool = False,
                   arch: str = "amd64", extra: dict | None = None) -> tuple[str, bytes]:
        """Push config, layers and manifest; returns (manifest digest, manifest bytes)."""
        layers = layers if layers is not None else [layer_tar({"hello.txt": f"{name} {tag}".encode()})]
        descs = []
        for blob in layers:
            descs.append({"mediaType": spec.OCI_LAYER if oci else spec.DOCKER_LAYER, "size": len(blob),
                          "digest": self.push_blob(name, blob)})
        config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["sh"]},
                             "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descs]}}).encode()
        mt = spec.OCI_MANIFEST if oci else spec.DOCKER_MANIFEST
        manifest = {"schemaVersion": 2, "mediaType": mt,
                    "config": {"mediaType": spec.OCI_CONFIG if oci else spec.DOCKER_CONFIG,
                               "size": len(config), "digest": self.push_blob(name, config)},
                    "layers": descs, **(extra or {})}
        data = json.dumps(manifest, indent=2).encode()
        self.push_manifest(name, tag or sha(data), data, mt)
        return sha(data), data


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def unverified_tls() -> ssl.SSLContext:
    return ssl._create_unverified_context()


def openssl(*args) -> None:
    p = subprocess.run(["openssl", *args], capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {p.stderr.decode(errors='replace')}")


def self_signed(d, cn: str = "127.0.0.1") -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    key, cert = os.path.join(d, f"{cn}.key"), os.path.join(d, f"{cn}.crt")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
            "-addext", f"subjectAltName=IP:{cn}")
    return cert, key


# --- images on disk --------------------------------------------------------------------------

def write_oci_layout(path, images: list[tuple[str, list[bytes]]], index_tag: str | None = None) -> dict:
    """An OCI image layout with one image per (arch, layers); with ``index_tag``, also an index
    of all of them under that tag. Returns {tag or arch: manifest digest}."""
    blobs = os.path.join(path, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data: bytes) -> dict:
        d = sha(data)
        with open(os.path.join(blobs, d.split(":")[1]), "wb") as f:
            f.write(data)
        return {"digest": d, "size": len(data)}

    entries, out = [], {}
    for arch, layers in images:
        descs = [{"mediaType": spec.OCI_LAYER, **put(layer)} for layer in layers]
        config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["sh"]},
                             "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descs]}}).encode()
        manifest = json.dumps({"schemaVersion": 2, "mediaType": spec.OCI_MANIFEST,
                               "config": {"mediaType": spec.OCI_CONFIG, **put(config)}, "layers": descs}).encode()
        m = put(manifest)
        out[arch] = m["digest"]
        entries.append({"mediaType": spec.OCI_MANIFEST, **m, "platform": {"os": "linux", "architecture": arch},
                        "annotations": {"org.opencontainers.image.ref.name": arch}})
    if index_tag:
        idx = json.dumps({"schemaVersion": 2, "mediaType": spec.OCI_INDEX,
                          "manifests": [{k: v for k, v in e.items() if k != "annotations"} for e in entries]}).encode()
        i = put(idx)
        out[index_tag] = i["digest"]
        entries.append({"mediaType": spec.OCI_INDEX, **i, "annotations": {"org.opencontainers.image.ref.name": index_tag}})
    with open(os.path.join(path, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": spec.OCI_INDEX, "manifests": entries}, f)
    return out


def skopeo(*args, check=True) -> subprocess.CompletedProcess:
    p = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)} exited {p.returncode}: {p.stderr[-2000:]}")
    return p
