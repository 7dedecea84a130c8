"""Real engines (podman 4.3, containerd 1.6) driving an OCI runtime: dockyard-runtime by default.

DOCKYARD_ENGINES_RUNTIME=runc runs the same tests against runc (crun's trick: check the tests on the
reference runtime first). Each engine fixture is module-scoped (one podman store with one imported
image, one private containerd) and its teardown removes every process, mount, cgroup and file it made
— and fails the run, naming them, when something could not be removed.
"""
from __future__ import annotations

import os
import shutil
import sys

import pytest

from dockyard.runtime.bundle import busybox_rootfs
from engines_containerd import Containerd
from engines_image import IMAGE, rootfs_tar, write_oci_archive
from engines_podman import Podman

RUNTIMES = {
    "dockyard": os.path.join(os.path.dirname(sys.executable), "dockyard-runtime"),
    "runc": shutil.which("runc") or "/usr/sbin/runc",
}


class RuntimeUnderTest:
    def __init__(self, name: str):
        if name not in RUNTIMES:
            raise pytest.UsageError(f"DOCKYARD_ENGINES_RUNTIME={name!r}: use one of {sorted(RUNTIMES)}")
        self.name, self.binary = name, RUNTIMES[name]

    @property
    def is_dockyard(self) -> bool:
        return self.name == "dockyard"


@pytest.fixture(scope="session")
def runtime_under_test():
    rt = RuntimeUnderTest(os.environ.get("DOCKYARD_ENGINES_RUNTIME", "dockyard"))
    if not os.access(rt.binary, os.X_OK):
        pytest.skip(f"runtime {rt.name} not found at {rt.binary}")
    return rt


@pytest.fixture(scope="session")
def session_tag():
    """A name unique to this test session: cgroup parents are called after it."""
    return f"dyeng{os.getpid()}"


@pytest.fixture(scope="session")
def engines_rootfs(tmp_path_factory):
    if not os.path.exists("/bin/busybox"):
        pytest.skip("Debian's busybox-static is not installed (/bin/busybox)")
    root = tmp_path_factory.mktemp("engines-busybox")
    try:
        yield busybox_rootfs(str(root / "rootfs"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _need(*tools: str) -> None:
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture(scope="module")
def podman(tmp_path_factory, runtime_under_test, engines_rootfs, session_tag):
    _need("podman", "conmon", "unshare")
    base = str(tmp_path_factory.mktemp("podman"))
    p = Podman(base, runtime_under_test.binary, f"{session_tag}p")
    try:
        p.import_image(rootfs_tar(engines_rootfs))
        yield p
    finally:
        left = p.close()
        if left:
            pytest.fail("podman fixture left behind:\n  " + "\n  ".join(left), pytrace=False)


@pytest.fixture(scope="module")
def containerd(tmp_path_factory, runtime_under_test, engines_rootfs, session_tag):
    _need("containerd", "ctr", "containerd-shim-runc-v2")
    base = str(tmp_path_factory.mktemp("ctd"))
    c = Containerd(base, runtime_under_test.binary if runtime_under_test.is_dockyard else None, f"{session_tag}c")
    try:
        c.start()
        archive = os.path.join(base, "busybox-oci.tar")
        write_oci_archive(engines_rootfs, archive, IMAGE)
        c.ctr("images", "import", archive)
        os.unlink(archive)
        yield c
    finally:
        left = c.close()
        if left:
            pytest.fail("containerd fixture left behind:\n  " + "\n  ".join(left), pytrace=False)
