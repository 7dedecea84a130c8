"""Fixtures for the security tests: a private dockyardd with busybox, and the escape probe (probe.c,
built statically with the host's C compiler and bind-mounted read-only into containers)."""
import os
import shutil
import subprocess
import tempfile

import pytest

from dockyardd_support import Dockyardd

HERE = os.path.dirname(os.path.abspath(__file__))

pytestmark = pytest.mark.root


def _needs_root():
    if os.geteuid() != 0:
        pytest.skip("needs root: dockyardd runs real containers")


@pytest.fixture(scope="session")
def probe():
    """Path of the static escape probe, in a directory every uid may read (remapped containers too)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (Debian packages gcc, libc6-dev) to build the escape probe")
    d = tempfile.mkdtemp(prefix="dockyard-probe-", dir="/var/tmp")
    try:
        os.chmod(d, 0o755)
        out = os.path.join(d, "probe")
        p = subprocess.run([cc, "-static", "-O2", "-o", out, os.path.join(HERE, "probe.c")], capture_output=True,
                           text=True)
        if p.returncode != 0:
            pytest.skip(f"cannot build the static probe: {p.stderr[-500:]}")
        os.chmod(out, 0o755)
        yield out
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def d():
    """One default daemon (busybox loaded) shared by the modules that only run containers."""
    _needs_root()
    daemon = Dockyardd()
    try:
        daemon.start()
        daemon.load_busybox()
        yield daemon
    finally:
        daemon.cleanup()

