"""Fixtures for the CLI tests: a daemon under test (a private dockerd for now), the busybox image
loaded into it, and runners for our CLI (``dy``) and the Docker CLI (``dk``) against it.

The daemon is a session fixture parametrised by name, so the same tests can run against
dockyardd: add its name to DAEMONS and a branch in ``daemon``.
"""
from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import warnings

import pytest

from cli_daemons import DOCKERD, Dockerd, api
from cli_helpers import Runner

DAEMONS = ["dockerd", "dockyardd"]
DOCKER_CLI = shutil.which("docker")


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
    else:
        d = DockyarddUnderTest()
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


class DockyarddUnderTest:
    """tests/dockyardd_support.Dockyardd with the interface the CLI tests use."""

    name = "dockyardd"

    def __init__(self):
        from dockyardd_support import Dockyardd
        self._d = Dockyardd(tempfile.mkdtemp(prefix="dycli-dy-", dir="/tmp"))
        self.base, self.sock, self.host = self._d.base, self._d.sock, self._d.host

    def start(self):
        self._d.start()

    def log_tail(self, n: int = 3000) -> str:
        return self._d.log()[-n:]

    def stop(self) -> list[str]:
        self._d.cleanup()
        return [f"could not remove {self.base}"] if os.path.exists(self.base) else []


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


