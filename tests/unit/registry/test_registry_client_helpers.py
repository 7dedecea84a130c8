"""Small pure parts of the registry client: insecure matching, hosts, ranges, progress, mount sources."""
import pytest

from dockyard.images import reference as refs
from dockyard.registry import client, progress, pull, push


@pytest.mark.parametrize("netloc,insecure,expected", [
    ("127.0.0.1:5000", client.DEFAULT_INSECURE, True),
    ("127.9.9.9", client.DEFAULT_INSECURE, True),
    ("localhost:5000", client.DEFAULT_INSECURE, True),
    ("[::1]:5000", client.DEFAULT_INSECURE, True),
    ("registry-1.docker.io", client.DEFAULT_INSECURE, False),
    ("10.1.2.3:5000", client.DEFAULT_INSECURE, False),
    ("10.1.2.3:5000", ["10.0.0.0/8"], True),
    ("myreg:5000", ["myreg:5000"], True),
    ("myreg:5000", ["myreg"], True),
    ("myreg:5000", ["http://myreg:5000"], True),
    ("myreg:5001", ["myreg:5000"], False),
    ("127.0.0.1:5000", [], False),
    ("127.0.0.1:5000", ["not-a-cidr/99"], False),
])
def test_is_insecure(netloc, insecure, expected):
    assert client.is_insecure(netloc, insecure) is expected


def test_registry_host():
    assert client.registry_host("docker.io") == "registry-1.docker.io"
    assert client.registry_host("index.docker.io") == "registry-1.docker.io"
    assert client.registry_host("localhost:5000") == "localhost:5000"


def test_endpoint_validation():
    with pytest.raises(ValueError, match="invalid registry endpoint"):
        client.RegistryClient("docker.io", endpoint="ftp://mirror")
    c = client.RegistryClient("docker.io", endpoint="http://127.0.0.1:5001")
    assert c.netloc == "127.0.0.1:5001" and c.insecure


def test_range_start():
    assert pull._range_start("bytes 100-199/200") == 100
    assert pull._range_start("0-5") == 0
    assert pull._range_start(None) is None
    assert pull._range_start("bytes */200") is None


def test_emitter_shapes_and_throttles():
    got = []
    e = progress.Emitter(got.append, interval=3600)
    e("Pulling from library/busybox", id="latest")
    e("Download complete", id="abc")
    e("plain")
    e.bytes("Downloading", "abc", 10, 100)
    e.bytes("Downloading", "abc", 20, 100)  # throttled
    e.bytes("Downloading", "abc", 100, 100)  # complete: always sent
    assert got == [
        {"status": "Pulling from library/busybox", "progressDetail": {}, "id": "latest"},
        {"status": "Download complete", "progressDetail": {}, "id": "abc"},
        {"status": "plain"},
        {"status": "Downloading", "progressDetail": {"current": 10, "total": 100}, "id": "abc"},
        {"status": "Downloading", "progressDetail": {"current": 100, "total": 100}, "id": "abc"},
    ]
    progress.Emitter(None)("ignored")  # no callback: no error
    assert progress.short_id("sha256:" + "ab" * 32) == "abababababab"


def test_mount_source_paths():
    local = refs.parse("127.0.0.1:5000/team/app:1")
    assert push._repo_path("team/base", local) == "team/base"
    assert push._repo_path("127.0.0.1:5000/team/base", local) == "team/base"
    with pytest.raises(ValueError, match="it is on other:5000"):
        push._repo_path("other:5000/x", local)
    hub = refs.parse("me/app")
    assert push._repo_path("busybox", hub) == "library/busybox"
    assert push._repo_path("you/lib", hub) == "you/lib"
