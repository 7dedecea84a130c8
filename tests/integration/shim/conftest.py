"""Fixtures: a dockyard-shim on a private exec root, driving real busybox containers.

Teardown (also when a test fails): every container under the runtime root is deleted with
``RUNTIME --root R delete --force ID``, every shim the test started is killed, and the exec root
is removed.
"""
import os

import pytest

from dockyard.runtime.bundle import busybox_rootfs
from shimtest_support import DOCKYARD_RUNTIME, RUNC, make_shim


@pytest.fixture(scope="session")
def shared_rootfs(tmp_path_factory):
    if not os.path.exists("/bin/busybox"):
        pytest.skip("Debian's busybox-static is not installed (/bin/busybox)")
    return busybox_rootfs(str(tmp_path_factory.mktemp("shim-busybox") / "rootfs"))


@pytest.fixture
def shim(tmp_path, shared_rootfs):
    """A running shim whose runtime is dockyard-runtime."""
    s = make_shim(tmp_path, shared_rootfs, DOCKYARD_RUNTIME)
    try:
        s.start()
        yield s
        s.check_log()
    finally:
        s.cleanup()


@pytest.fixture(params=["dockyard-runtime", "runc"])
def any_shim(request, tmp_path, shared_rootfs):
    """A running shim, once with dockyard-runtime and once with runc as the runtime."""
    s = make_shim(tmp_path, shared_rootfs, DOCKYARD_RUNTIME if request.param == "dockyard-runtime" else RUNC)
    try:
        s.start()
        yield s
        s.check_log()
    finally:
        s.cleanup()


