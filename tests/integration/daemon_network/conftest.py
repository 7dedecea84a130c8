"""One private dockyardd per test module (offline busybox image). Teardown removes every container
and network through the API, stops the daemon gracefully and checks that none of its bridges, veths
and nftables tables is left; then removes everything else the daemon made."""
import os
import shutil

import pytest
from dn_support import owned

from dockyardd_support import Dockyardd


def _drain(d) -> None:
    ids = d.docker("ps", "-aq", check=False).stdout.split()
    if ids:
        d.docker("rm", "-f", *ids, check=False)
    d.docker("network", "prune", "-f", check=False)


@pytest.fixture(scope="module")
def d():
    if os.geteuid() != 0:
        pytest.skip("needs root: dockyardd runs real containers and networks")
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not on PATH")
    daemon = Dockyardd()
    left = None
    try:
        daemon.start()
        daemon.load_busybox()
        yield daemon
        _drain(daemon)
        daemon.stop_daemon()
        left = owned(daemon)
    finally:
        daemon.cleanup()
    assert not left["links"] and not left["tables"], f"left behind after the daemon stopped: {left}"
