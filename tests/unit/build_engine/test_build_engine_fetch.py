"""ADD of a URL: downloaded from a local HTTP server (127.0.0.1 only)."""
import hashlib
import http.server
import os
import threading

import pytest

from dockyard.build.engine.errors import CopyError
from dockyard.build.engine.fetch import download, filename_of, is_url


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/files/"):
            body = b"payload " + self.path.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404, "Not Found")

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_download(server, tmp_path):
    d = download(server + "/files/tool.bin", str(tmp_path))
    data = open(d.path, "rb").read()
    assert data == b"payload /files/tool.bin"
    assert d.digest == "sha256:" + hashlib.sha256(data).hexdigest() and d.filename == "tool.bin"
    st = os.stat(d.path)
    assert st.st_mode & 0o777 == 0o600 and st.st_mtime == 1700000000 and d.mtime_ns == 1700000000 * 10**9


def test_checksum(server, tmp_path):
    good = "sha256:" + hashlib.sha256(b"payload /files/a").hexdigest()
    assert download(server + "/files/a", str(tmp_path), good).digest == good
    with pytest.raises(CopyError, match="digest mismatch"):
        download(server + "/files/a", str(tmp_path), "sha256:" + "0" * 64)
    with pytest.raises(CopyError, match="unsupported checksum"):
        download(server + "/files/a", str(tmp_path), "md5:x")


def test_errors_name_the_url_and_leave_nothing(server, tmp_path):
    with pytest.raises(CopyError, match=r"failed to GET .*/missing with status 404"):
        download(server + "/missing", str(tmp_path))
    with pytest.raises(CopyError, match="failed to GET http://127.0.0.1:1/x"):
        download("http://127.0.0.1:1/x", str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_names():
    assert is_url("https://x/y") and is_url("http://x") and not is_url("ftp://x") and not is_url("file.txt")
    assert filename_of("https://h/a/b%20c.tgz?x=1") == "b c.tgz" and filename_of("https://h/dir/") == "dir"
    assert filename_of("https://h") == ""
