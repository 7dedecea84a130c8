"""Shared test configuration: where the tools are, and root-only markers."""
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
REFERENCE = os.path.join(os.path.dirname(REPO), "shared", "reference")


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (real namespaces, mounts and cgroups)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)
