"""One private dockyardd per test module (with the offline busybox image), removed afterwards."""
import os

import pytest

from dockyardd_support import Dockyardd


@pytest.fixture(scope="module")
def d():
    if os.geteuid() != 0:
        pytest.skip("needs root: dockyardd runs real containers")
    daemon = Dockyardd()
    try:
        daemon.start()
        daemon.load_busybox()
        yield daemon
    finally:
        daemon.cleanup()
