"""Following a blob while it downloads (registry.growing)."""
from __future__ import annotations

import os
import threading
import time

import pytest

from dockyard.registry.growing import FollowBroken, Growing


def write_slowly(path, data: bytes, g: Growing, end: str = "done", chunk: int = 7000) -> threading.Thread:
    def run():
        with open(path, "ab", buffering=0) as f:
            for i in range(0, len(data), chunk):
                f.write(data[i:i + chunk])
                g.grew(min(i + chunk, len(data)))
                time.sleep(0.001)
        getattr(g, end)()

    t = threading.Thread(target=run)
    t.start()
    return t


def read_all(r, n=4096) -> bytes:
    out = []
    while True:
        b = r.read(n)
        if not b:
            return b"".join(out)
        out.append(b)


def test_a_reader_follows_the_file_to_its_end(tmp_path):
    data = os.urandom(200_000)
    path = tmp_path / "data"
    path.write_bytes(b"")
    g = Growing("sha256:" + "a" * 64, path)
    r = g.reader()
    t = write_slowly(path, data, g)
    try:
        assert read_all(r) == data
        assert r.read(10) == b""
    finally:
        t.join()
        r.close()


def test_data_announced_before_it_reaches_the_file_is_waited_for(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"")
    g = Growing("sha256:" + "b" * 64, path)
    r = g.reader()
    g.grew(5)  # the writer's buffer still holds it
    threading.Timer(0.05, lambda: (path.write_bytes(b"hello"), g.done())).start()
    assert read_all(r) == b"hello"
    r.close()


def test_a_download_that_starts_over_breaks_its_readers(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"")
    g = Growing("sha256:" + "c" * 64, path)
    r = g.reader()
    t = write_slowly(path, os.urandom(50_000), g, end="broken")
    try:
        with pytest.raises(FollowBroken, match="started over or failed"):
            read_all(r)
    finally:
        t.join()
        r.close()
    g.done()  # too late: it stays broken
    assert g.state == "broken"


def test_a_committed_file_is_not_followed(tmp_path):
    g = Growing("sha256:" + "d" * 64, tmp_path / "gone")
    with pytest.raises(FileNotFoundError):
        g.reader()
