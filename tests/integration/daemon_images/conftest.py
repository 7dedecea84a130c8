"""Fixtures for the image endpoints: a real docker-registry, an API server (image routes,
/_ping, /version) on a unix socket in this process, and the Docker CLI pointed at it."""
from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import tarfile

import pytest
from daemon_images_server import Server

from dockyard.daemon.images.service import ImageService
from dockyard.images.base import make_busybox

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_REGISTRY_HELPERS = os.path.join(REPO, "tests", "integration", "registry", "conftest.py")
BIG_LAYER = 24 << 20


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    missing = [p for p in ("/usr/bin/docker-registry", "/bin/busybox") if not os.path.exists(p)]
    if missing:
        for item in items:
            if str(item.fspath).startswith(here):
                item.add_marker(pytest.mark.skip(reason=f"not installed: {', '.join(missing)}"))


@pytest.fixture(scope="session")
def regh():
    spec = importlib.util.spec_from_file_location("daemon_images_registry_helpers_int", _REGISTRY_HELPERS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def registry(regh, tmp_path_factory):
    reg = regh.start_registry(str(tmp_path_factory.mktemp("daemon-images-routes-registry")))
    try:
        yield reg
    finally:
        regh.stop_registry(reg)


def random_rootfs_tar(size: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("blob.bin")
        ti.size, ti.mode = size, 0o644
        tf.addfile(ti, io.BytesIO(os.urandom(size)))
    return buf.getvalue()


@pytest.fixture(scope="session")
def remote(registry, tmp_path_factory):
    """Images in the registry: ``busybox`` (lib/busybox:latest) and ``big`` (one incompressible
    layer, lib/big:1, for disconnecting in the middle of a pull)."""
    root = tmp_path_factory.mktemp("daemon-images-routes-seed")
    svc = ImageService(root)
    try:
        bb = make_busybox(svc.store, f"{registry.host}/lib/busybox:latest")
        svc.push(f"{registry.host}/lib/busybox:latest")
        big = svc.import_(io.BytesIO(random_rootfs_tar(BIG_LAYER)), repo=f"{registry.host}/lib/big", tag="1")
        svc.push(f"{registry.host}/lib/big:1")
        yield {"busybox": (f"{registry.host}/lib/busybox:latest", bb.id),
               "big": (f"{registry.host}/lib/big:1", big.id)}
    finally:
        svc.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def api(tmp_path):
    """(service, socket path) of a fresh daemon data root served on a unix socket."""
    svc = ImageService(tmp_path / "data")
    sock = str(tmp_path / "api.sock")
    try:
        with Server(svc, sock):
            yield svc, sock
    finally:
        svc.close()


@pytest.fixture
def docker(api, tmp_path):
    """Run the Docker CLI against the API server: docker(*args, input=bytes) -> CompletedProcess."""
    exe = shutil.which("docker")
    if exe is None:
        pytest.skip("docker CLI not on PATH")
    _, sock = api
    env = dict(os.environ, DOCKER_HOST=f"unix://{sock}", DOCKER_CONFIG=str(tmp_path / "docker-config"))
    env.pop("DOCKER_CONTEXT", None)

    def run(*args, input: bytes | None = None, timeout: float = 60):
        return subprocess.run([exe, *args], env=env, input=input, capture_output=True, timeout=timeout)

    run.config_dir = tmp_path / "docker-config"
    return run
