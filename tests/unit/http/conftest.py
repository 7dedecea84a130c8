import pytest
from http_testlib import ServerThread

from dockyard.daemon.http import App, UnixListener


@pytest.fixture
def sock_path(tmp_path):
    return str(tmp_path / "api.sock")


@pytest.fixture
def serve(sock_path):
    """serve(app) -> running ServerThread on a unix socket; stopped at the end of the test."""
    running = []

    def start(app: App, listeners=None):
        srv = ServerThread(app, listeners or [UnixListener(sock_path, group=None)])
        srv.__enter__()
        running.append(srv)
        srv.path = sock_path
        return srv

    try:
        yield start
    finally:
        for srv in running:
            srv.__exit__(None, None, None)
