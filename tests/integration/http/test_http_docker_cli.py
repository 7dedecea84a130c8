"""The real Docker CLI (28.2.2 on this machine) against a tiny app on this HTTP layer."""
import asyncio
import os
import platform
import shutil
import struct
import subprocess

import pytest

from dockyard.daemon.http import (MULTIPLEXED_STREAM, App, Response, TCPListener, UnixListener,
                                  json_response, server_tls_context)

pytestmark = pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")


def make_app(seen):
    app = App(server_version="0.1.0")

    @app.route("GET", "/_ping")
    async def ping(req):
        return Response(200, "OK", {"Cache-Control": "no-cache, no-store, must-revalidate",
                                    "Pragma": "no-cache"})

    @app.route("GET", "/version")
    async def version(req):
        details = {"ApiVersion": "1.41", "MinAPIVersion": "1.41", "Os": "linux",
                   "Arch": "amd64", "KernelVersion": platform.release(), "GoVersion": "python3.11",
                   "GitCommit": "0123abc", "BuildTime": "2026-11-27T00:00:00.000000000+00:00"}
        return json_response({"Platform": {"Name": "Dockyard"}, "Version": "0.1.0",
                              "Components": [{"Name": "Engine", "Version": "0.1.0",
                                              "Details": {**details, "Experimental": "false"}}],
                              **details})

    @app.route("GET", "/containers/{name}/json")
    async def inspect(req):
        return json_response({"Id": "c" * 64, "Name": "/" + req.params["name"],
                              "Config": {"Tty": False, "OpenStdin": False},
                              "State": {"Running": True, "Status": "running", "ExitCode": 0},
                              "HostConfig": {}})

    @app.route("POST", "/containers/{name}/attach")
    async def attach(req):
        conn = await req.hijack(MULTIPLEXED_STREAM)
        seen["stdin"] = await conn.read()            # the CLI half-closes: b""
        for i, fd in enumerate((1, 2, 1)):
            msg = b"line %d\n" % i
            await conn.write(struct.pack(">BxxxL", fd, len(msg)) + msg)
            await asyncio.sleep(0.02)

    @app.route("POST", "/containers/{name}/wait")
    async def wait(req):
        stream = await req.stream()
        await asyncio.sleep(0.2)
        await stream.write(b'{"StatusCode":3}\n')

    return app


@pytest.fixture
def daemon(serve, tmp_path):
    seen = {}
    path = str(tmp_path / "d.sock")
    serve(make_app(seen), [UnixListener(path, group=None)])
    env = dict(os.environ, DOCKER_HOST=f"unix://{path}", DOCKER_CONFIG=str(tmp_path / "cfg"))
    env.pop("DOCKER_CONTEXT", None)
    env.pop("DOCKER_TLS_VERIFY", None)
    return env, seen


def test_docker_version(daemon):
    env, _ = daemon
    p = subprocess.run(["docker", "version"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    server = p.stdout.split("Server:", 1)[1]
    assert "Dockyard" in server
    assert "API version:      1.41 (minimum version 1.41)" in server
    assert "Version:          0.1.0" in server and "Git commit:       0123abc" in server
    assert "API version:       1.41" in p.stdout.split("Server:", 1)[0]   # negotiated down


def test_docker_attach_gets_output_after_its_half_close(daemon):
    env, seen = daemon
    p = subprocess.run(["docker", "attach", "--no-stdin", "c1"], env=env, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert seen["stdin"] == b""
    assert p.stdout == b"line 0\nline 2\n" and p.stderr == b"line 1\n"
    assert p.returncode == 3


@pytest.fixture
def tls_daemon(serve, tmp_path, certs):
    seen = {}
    ctx = server_tls_context(certs["server.pem"], certs["server-key.pem"], certs["ca.pem"])
    srv = serve(make_app(seen), [TCPListener("127.0.0.1", 0, ctx)])
    host, port = srv.addresses[0]
    cert_dir = tmp_path / "tls"
    cert_dir.mkdir()
    for src, dst in (("ca.pem", "ca.pem"), ("client.pem", "cert.pem"), ("client-key.pem", "key.pem")):
        shutil.copy(certs[src], cert_dir / dst)
    env = dict(os.environ, DOCKER_HOST=f"tcp://{host}:{port}", DOCKER_TLS_VERIFY="1",
               DOCKER_CERT_PATH=str(cert_dir), DOCKER_CONFIG=str(tmp_path / "cfg"))
    env.pop("DOCKER_CONTEXT", None)
    return env, seen


def test_docker_over_tls_with_client_certificate(tls_daemon):
    env, seen = tls_daemon
    p = subprocess.run(["docker", "version"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "Dockyard" in p.stdout.split("Server:", 1)[1]
    p = subprocess.run(["docker", "attach", "--no-stdin", "c1"], env=env, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert seen["stdin"] == b""       # the CLI's CloseWrite over TLS reached the handler
    assert (p.stdout, p.stderr, p.returncode) == (b"line 0\nline 2\n", b"line 1\n", 3)


def test_docker_over_tls_without_client_certificate_fails(tls_daemon, tmp_path):
    env, _ = tls_daemon
    os.unlink(os.path.join(env["DOCKER_CERT_PATH"], "cert.pem"))
    os.unlink(os.path.join(env["DOCKER_CERT_PATH"], "key.pem"))
    p = subprocess.run(["docker", "version"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "certificate required" in p.stderr or "bad certificate" in p.stderr, p.stderr
