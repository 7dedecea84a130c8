"""tcp:// daemons, plain and with TLS (--tls, --tlsverify and client certificates), against small servers."""
from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def _answer(conn) -> None:
    f = conn.makefile("rb")
    while True:
        line = f.readline()
        if not line:
            return
        while f.readline() not in (b"\r\n", b""):
            pass
        path = line.split()[1].decode()
        body = json.dumps({"Version": "fake-1", "ApiVersion": "1.41", "Components": []}).encode() \
            if path.endswith("/version") else b""
        conn.sendall(b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def serve(listener, wrap=None):
    def loop():
        while True:
            try:
                c, _ = listener.accept()
            except OSError:
                return
            try:
                if wrap:
                    c = wrap(c)
                _answer(c)
            except (OSError, ssl.SSLError):
                pass
            finally:
                c.close()
    threading.Thread(target=loop, daemon=True).start()


def cli(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKYARD_"))}
    env["PYTHONPATH"] = REPO
    return subprocess.run([sys.executable, "-m", "dockyard.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=30)


def test_plain_tcp():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    serve(s)
    try:
        r = cli("-H", f"tcp://127.0.0.1:{s.getsockname()[1]}", "version", "--format", "{{.Server.Version}}")
        assert (r.returncode, r.stdout) == (0, "fake-1\n"), r.stderr
    finally:
        s.close()


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    p = lambda n: str(d / n)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca-key.pem"), "-out", p("ca.pem"),
             "-days", "2", "-subj", "/CN=test-ca")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p(f"{name}-key.pem"), "-out", p(f"{name}.csr"),
                 "-subj", f"/CN={name}")
        with open(p(f"{name}.ext"), "w") as f:
            f.write(ext + "\n")
        _openssl("x509", "-req", "-in", p(f"{name}.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca-key.pem"),
                 "-CAcreateserial", "-out", p(f"{name}.pem"), "-days", "2", "-extfile", p(f"{name}.ext"))
    return d


@needs_openssl
def test_tls_verify_with_client_certificate(certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certs / "server.pem"), str(certs / "server-key.pem"))
    ctx.load_verify_locations(str(certs / "ca.pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    serve(s, lambda c: ctx.wrap_socket(c, server_side=True))
    host = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    try:
        r = cli("-H", host, "--tlsverify", "--tlscacert", str(certs / "ca.pem"), "--tlscert",
                str(certs / "client.pem"), "--tlskey", str(certs / "client-key.pem"),
                "version", "--format", "{{.Server.Version}}")
        assert (r.returncode, r.stdout) == (0, "fake-1\n"), r.stderr
        # the same through DOCKER_CERT_PATH / DOCKER_TLS_VERIFY with docker's file names
        d = certs / "certpath"
        d.mkdir(exist_ok=True)
        for src, dst in (("ca.pem", "ca.pem"), ("client.pem", "cert.pem"), ("client-key.pem", "key.pem")):
            shutil.copy(certs / src, d / dst)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKYARD_"))}
        env.update({"PYTHONPATH": REPO, "DOCKER_HOST": host, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(d)})
        r = subprocess.run([sys.executable, "-m", "dockyard.cli.main", "version", "--format", "{{.Server.Version}}"],
                           capture_output=True, text=True, env=env, timeout=30)
        assert (r.returncode, r.stdout) == (0, "fake-1\n"), r.stderr
        # without a client certificate the server refuses; without our CA we refuse the server
        r = cli("-H", host, "--tlsverify", "--tlscacert", str(certs / "ca.pem"),
                "version", "--format", "{{.Server.Version}}")
        assert r.returncode == 1 and r.stdout == "\n" or r.returncode == 1, r
        r = cli("-H", host, "--tlsverify", "--tlscacert", str(certs / "client.pem"), "--tlscert",
                str(certs / "client.pem"), "--tlskey", str(certs / "client-key.pem"), "version",
                "--format", "{{.Server.Version}}")
        assert r.returncode == 1 and "certificate verify failed" in r.stderr, r.stderr
        # --tls without verification accepts the server's certificate
        r = cli("-H", host, "--tls", "--tlscert", str(certs / "client.pem"), "--tlskey",
                str(certs / "client-key.pem"), "version", "--format", "{{.Server.Version}}")
        assert (r.returncode, r.stdout) == (0, "fake-1\n"), r.stderr
    finally:
        s.close()
