"""Fixtures for image store tests: a fresh store and small synthetic images."""
from __future__ import annotations

import pytest
from images_testlib import add_image

from dockyard.images.store import ImageStore


@pytest.fixture
def store(tmp_path):
    s = ImageStore(tmp_path / "images")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def make_image(store):
    def make(**kw):
        return add_image(store, **kw)

    return make
