"""Streaming, concurrency, crashes and stale uploads, against real server processes."""
import concurrent.futures
import hashlib
import json
import os
import random
import socket
import time

from regsrv_support import Api, sha

from dockyard.spec import image as spec


def _vm_hwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_large_blob_is_streamed_not_held_in_memory(spawn_server):
    srv = spawn_server()
    api = Api(srv.host)
    size, piece = 400 << 20, 1 << 20
    rnd = random.Random(7)
    block = rnd.randbytes(piece)
    h = hashlib.sha256()

    def body():
        for i in range(size // piece):
            data = block[i % 97:] + block[:i % 97]
            h.update(data)
            yield data
    loc = api("POST", "/v2/big/blobs/uploads/").header("location")
    r = api("PATCH", loc, body())
    assert r.status == 202 and r.header("range") == f"0-{size - 1}"
    digest = "sha256:" + h.hexdigest()
    assert api("PUT", f"{loc}?digest={digest}", b"").status == 201
    import http.client
    conn = http.client.HTTPConnection(srv.host, timeout=60)
    conn.request("GET", f"/v2/big/blobs/{digest}")
    resp = conn.getresponse()
    got, n = hashlib.sha256(), 0
    while True:
        b = resp.read(1 << 20)
        if not b:
            break
        got.update(b)
        n += len(b)
    conn.close()
    assert n == size and "sha256:" + got.hexdigest() == digest
    hwm = _vm_hwm_kb(srv.proc.pid)
    assert hwm < 120 * 1024   # the peak RSS stays far below the blob's size


def test_crash_in_the_middle_of_an_upload(spawn_server, tmp_path):
    root = tmp_path / "crashroot"
    srv = spawn_server(root=root)
    api = Api(srv.host)
    data = os.urandom(3 << 20)
    loc = api("POST", "/v2/crash/blobs/uploads/").header("location")
    assert api("PATCH", loc, data[:1 << 20], {"Content-Range": f"0-{(1 << 20) - 1}"}).status == 202
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nContent-Length: {2 << 20}\r\n\r\n".encode()
              + data[1 << 20:(1 << 20) + 500_000])
    deadline = time.monotonic() + 10
    while api("GET", loc).header("range") != f"0-{(1 << 20) + 500_000 - 1}" and time.monotonic() < deadline:
        time.sleep(0.02)
    srv.kill()   # SIGKILL while the chunk is in flight
    s.close()
    srv2 = spawn_server(root=root, port=srv.port)
    api = Api(srv2.host)
    r = api("GET", loc)
    assert r.status == 204
    have = int(r.header("range").split("-")[1]) + 1
    assert have == (1 << 20) + 500_000
    assert api("HEAD", f"/v2/crash/blobs/{sha(data)}").status == 404
    assert api("PATCH", loc, data[have:], {"Content-Range": f"{have}-{len(data) - 1}"}).status == 202
    assert api("PUT", f"{loc}?digest={sha(data)}", b"").status == 201   # the hash was rebuilt from disk
    assert api("GET", f"/v2/crash/blobs/{sha(data)}").body == data
    assert os.listdir(root / "uploads") == []


def test_stale_uploads_are_removed(start_server):
    srv = start_server(upload_max_age=0.5, upload_purge_interval=0.2)
    api = Api(srv.host)
    loc = api("POST", "/v2/stale/blobs/uploads/").header("location")
    assert api("PATCH", loc, b"abandoned").status == 202
    deadline = time.monotonic() + 10
    while api("GET", loc).status != 404 and time.monotonic() < deadline:
        time.sleep(0.1)
    r = api("GET", loc)
    assert r.status == 404 and r.codes == ["BLOB_UPLOAD_UNKNOWN"]
    assert srv.storage.uploads.all() == []


def test_many_pushes_and_pulls_at_once(registry):
    api = Api(registry.host)
    blobs = [os.urandom(random.Random(i).randint(1, 400_000)) for i in range(24)]

    def push(i):
        data = blobs[i]
        name = f"conc/r{i % 4}"
        if i % 2:
            return name, api.push_blob(name, data)
        loc = api("POST", f"/v2/{name}/blobs/uploads/").header("location")
        half = len(data) // 2
        loc = api("PATCH", loc, data[:half]).header("location")
        r = api("PUT", f"{loc}?digest={sha(data)}", data[half:])
        assert r.status == 201
        return name, sha(data)

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        pushed = list(pool.map(push, range(len(blobs))))

        def pull(i):
            name, d = pushed[i % len(pushed)]
            return api("GET", f"/v2/{name}/blobs/{d}").body == blobs[i % len(blobs)]
        assert all(pool.map(pull, range(96)))


def test_concurrent_tag_updates_leave_a_whole_manifest(registry):
    api = Api(registry.host)
    config = api.push_blob("race", b"{}")
    bodies = []
    for i in range(12):
        bodies.append(json.dumps({"schemaVersion": 2, "mediaType": spec.OCI_MANIFEST, "annotations": {"i": str(i)},
                                  "config": {"mediaType": spec.OCI_CONFIG, "size": 2, "digest": config},
                                  "layers": []}).encode())

    def put(body):
        return api("PUT", "/v2/race/manifests/latest", body, {"Content-Type": spec.OCI_MANIFEST}).status

    def get(_):
        r = api("GET", "/v2/race/manifests/latest")
        return r.status == 404 or (r.body in bodies and r.header("docker-content-digest") == sha(r.body))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        puts = [pool.submit(put, b) for b in bodies]
        gets = list(pool.map(get, range(40)))
    assert all(f.result() == 201 for f in puts) and all(gets)
    assert api("GET", "/v2/race/manifests/latest").body in bodies
