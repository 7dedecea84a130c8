"""Fixtures for the CLI tests: a daemon under test (a private dockerd for now), the busybox image
loaded into it, and runners for our CLI (``dy``) and the Docker CLI (``dk``) against it.

The daemon is a session fixture parametrised by name, so the same tests can run against
dockyardd: add its name to DAEMONS and a branch in ``daemon``.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings

import pytest

from cli_daemons import DOCKERD, Dockerd, api

DAEMONS = ["dockerd"]
DOCKER_CLI = shutil.which("docker")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.root)


@pytest.fixture(scope="session", params=DAEMONS)
def daemon(request):
    if os.geteuid() != 0:
        pytest.skip("the daemons under test need root")
    if request.param == "dockerd":
        if not DOCKERD:
            pytest.skip("dockerd is absent (Debian package docker.io)")
        base = tempfile.mkdtemp(prefix="dycli-", dir="/tmp")  # short: unix socket paths are limited
        d = Dockerd(base, f"dycli{os.getpid()}")
    else:  # pragma: no cover - filled in when dockyardd exists
        pytest.skip(f"unknown daemon {request.param}")
    try:
        try:
            d.start()
        except RuntimeError as e:
            pytest.fail(str(e), pytrace=False)
        _load_busybox(d.sock)
        yield d
    finally:
        left = d.stop()
        if left:
            warnings.warn("CLI daemon fixture left behind:\n  " + "\n  ".join(left))


def _load_busybox(sock: str) -> None:
    if not os.path.exists("/bin/busybox"):
        pytest.skip("busybox-static is not installed (/bin/busybox)")
    from dockyard.images import archive, base
    from dockyard.images.store import ImageStore
    tmp = tempfile.mkdtemp(prefix="dycli-img-")
    try:
        store = ImageStore(os.path.join(tmp, "images"))
        try:
            base.make_busybox(store)
            buf = io.BytesIO()
            archive.save(store, ["busybox:latest"], buf)
        finally:
            store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    status, data = api(sock, "POST", "/images/load?quiet=1", body=buf.getvalue(),
                       headers={"Content-Type": "application/x-tar"})
    if status != 200:
        pytest.fail(f"loading busybox into the daemon failed: {status} {data[:300]!r}", pytrace=False)


class Result:
    def __init__(self, p: subprocess.CompletedProcess):
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr

    def __repr__(self) -> str:
        return f"Result(rc={self.rc}, out={self.out[:400]!r}, err={self.err[:400]!r})"


class Runner:
    """Runs a CLI against the daemon under test, with a private config directory."""

    def __init__(self, argv0: list[str], daemon, config_dir: str):
        self.argv0, self.daemon, self.config_dir = argv0, daemon, config_dir

    def env(self, extra=None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKYARD_"))}
        env.update({"DOCKER_HOST": self.daemon.host, "DOCKER_CONFIG": self.config_dir,
                    "PYTHONPATH": REPO})
        env.update(extra or {})
        return env

    def __call__(self, *args, input=None, timeout: float = 60, env=None, binary: bool = False) -> Result:
        p = subprocess.run(self.argv0 + list(args), input=input, capture_output=True, timeout=timeout,
                           env=self.env(env), text=not binary)
        return Result(p)

    def popen(self, *args, env=None, **kw) -> subprocess.Popen:
        return subprocess.Popen(self.argv0 + list(args), env=self.env(env), **kw)


def dockyard_argv() -> list[str]:
    return [sys.executable, "-m", "dockyard.cli.main"]


@pytest.fixture(scope="session")
def cli_config(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cli-config"))


@pytest.fixture(scope="session")
def dy(daemon, cli_config):
    return Runner(dockyard_argv(), daemon, cli_config)


@pytest.fixture(scope="session")
def dk(daemon, cli_config):
    if not DOCKER_CLI:
        pytest.skip("the Docker CLI is not installed (docker on PATH)")
    return Runner([DOCKER_CLI], daemon, cli_config)


@pytest.fixture
def cleanup(daemon):
    """Names of containers a test creates; removed afterwards even when the test fails."""
    names: list[str] = []
    yield names
    for n in names:
        api(daemon.sock, "DELETE", f"/containers/{n}?force=1&v=1")


_ID64 = re.compile(r"\b[0-9a-f]{64}\b")
_ID12 = re.compile(r"\b[0-9a-f]{12}\b")
_AGO = re.compile(r"(Less than a second|About a minute|About an hour|\d+ (second|minute|hour|day|week|month|year)s?)")


def normalize(text: str, ids: bool = True) -> str:
    """Program names, IDs and human durations made comparable between the two CLIs."""
    t = text.replace("docker", "dockyard").replace("Docker", "Dockyard")
    if ids:
        t = _ID64.sub("<ID>", t)
        t = _ID12.sub("<id>", t)
    return _AGO.sub("<ago>", t)


def json_lines(text: str) -> list:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
