"""Fixtures for image integration tests: a store with the busybox base image."""
from __future__ import annotations

import os

import pytest

from dockyard.images import base
from dockyard.images.store import ImageStore


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes tens of seconds (debootstrap)")


@pytest.fixture
def store(tmp_path):
    s = ImageStore(tmp_path / "images")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def busybox_store(store):
    if not os.path.isfile("/bin/busybox"):
        pytest.skip("busybox-static is not installed")
    base.make_busybox(store)
    return store
