"""Fixtures of the registry server's tests (helpers are in regsrv_support)."""
import pytest
from regsrv_support import Api, ServerProcess, ServerThread, make_config


@pytest.fixture
def start_server(tmp_path):
    """Factory: ``start_server(**settings)`` -> a running ServerThread (root under tmp_path)."""
    running = []

    def start(root=None, **settings):
        root = root or tmp_path / f"root{len(running)}"
        srv = ServerThread(make_config(root, **settings)).start()
        running.append(srv)
        return srv
    try:
        yield start
    finally:
        for srv in running:
            srv.stop()


@pytest.fixture
def registry(start_server):
    """A plain-HTTP registry without auth, fresh for each test."""
    return start_server()


@pytest.fixture
def spawn_server(tmp_path):
    """Factory: ``spawn_server(root=None, port=None, args=())`` -> a started ServerProcess."""
    made = []

    def spawn(root=None, port=None, args=()):
        p = ServerProcess(root or tmp_path / f"proot{len(made)}", port, tuple(args))
        made.append(p)
        return p.start()
    try:
        yield spawn
    finally:
        for p in made:
            p.stop()


@pytest.fixture
def api(registry):
    return Api(registry.host)
