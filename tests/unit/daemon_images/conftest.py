"""Fixtures for the daemon's image service: a real docker-registry on 127.0.0.1, services with
their own data roots, and the busybox base image pushed to the registry once per session."""
from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

from dockyard.daemon.images.service import ImageService
from dockyard.images.base import make_busybox

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_REGISTRY_HELPERS = os.path.join(REPO, "tests", "integration", "registry", "conftest.py")


def registry_helpers():
    """start_registry/stop_registry/htpasswd_line of the registry tests (loaded by path)."""
    spec = importlib.util.spec_from_file_location("daemon_images_registry_helpers", _REGISTRY_HELPERS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    reasons = []
    if not os.path.exists("/usr/bin/docker-registry"):
        reasons.append("/usr/bin/docker-registry not installed (Debian package docker-registry)")
    if not os.path.exists("/bin/busybox"):
        reasons.append("/bin/busybox not installed (Debian package busybox-static)")
    if reasons:
        for item in items:
            if str(item.fspath).startswith(here):
                item.add_marker(pytest.mark.skip(reason="; ".join(reasons)))


@pytest.fixture(scope="session")
def regh():
    return registry_helpers()


@pytest.fixture(scope="session")
def registry(regh, tmp_path_factory):
    reg = regh.start_registry(str(tmp_path_factory.mktemp("daemon-images-registry")))
    try:
        yield reg
    finally:
        regh.stop_registry(reg)


@pytest.fixture
def make_service(tmp_path):
    made = []

    def make(name: str = "root", **kw) -> ImageService:
        svc = ImageService(tmp_path / name, **kw)
        made.append(svc)
        return svc

    try:
        yield make
    finally:
        for svc in made:
            svc.close()


@pytest.fixture(scope="session")
def remote_busybox(registry, tmp_path_factory):
    """``127.0.0.1:PORT/lib/busybox:latest`` in the registry, and the image's ID."""
    root = tmp_path_factory.mktemp("daemon-images-seed")
    svc = ImageService(root)
    try:
        img = make_busybox(svc.store, "busybox:latest")
        ref = f"{registry.host}/lib/busybox:latest"
        svc.tag("busybox", ref)
        svc.push(ref)
        yield ref, img.id
    finally:
        svc.close()
        shutil.rmtree(root, ignore_errors=True)

