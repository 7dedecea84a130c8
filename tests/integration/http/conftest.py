"""Fixtures for the HTTP layer's integration tests: a server thread, and a CA with a server and
client certificates made with the openssl CLI."""
import os
import shutil
import subprocess
import sys

import pytest

# The server thread and raw-socket helpers are shared with the unit tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "unit", "http"))

from http_testlib import ServerThread  # noqa: E402


@pytest.fixture
def serve():
    running = []

    def start(app, listeners):
        srv = ServerThread(app, listeners)
        srv.__enter__()
        running.append(srv)
        return srv

    try:
        yield start
    finally:
        for srv in running:
            srv.__exit__(None, None, None)


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_ca(d, name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}-key.pem", "-out", f"{name}.pem", "-days", "2",
             "-subj", f"/CN={name}", cwd=d)


def _make_cert(d, name, ca, ext):
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(ext)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}-key.pem",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """Paths of ca.pem, server.pem/server-key.pem, client.pem/client-key.pem, and a client
    certificate from another CA (rogue.pem/rogue-key.pem)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is not installed")
    d = str(tmp_path_factory.mktemp("certs"))
    _make_ca(d, "ca")
    _make_ca(d, "otherca")
    _make_cert(d, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                  "extendedKeyUsage=serverAuth\n")
    _make_cert(d, "client", "ca", "extendedKeyUsage=clientAuth\n")
    _make_cert(d, "rogue", "otherca", "extendedKeyUsage=clientAuth\n")
    return {name: os.path.join(d, name) for name in os.listdir(d)}
