"""The image endpoints over HTTP on a unix socket: status codes, content types and the bytes of
the streams, compared with what dockerd 20.10 sends."""
from __future__ import annotations

import io
import json
import socket
import tarfile
import time
import urllib.parse

from daemon_images_server import call, json_lines

from dockyard.daemon.images import auth as authmod
from dockyard.snapshots.snapshotter import Kind

NOAUTH = {"X-Registry-Auth": "e30="}


def q(**kw) -> str:
    return urllib.parse.urlencode(kw, doseq=True)


def pull(sock, ref: str, headers=NOAUTH):
    name, _, tag = ref.rpartition(":")
    return call(sock, "POST", f"/v1.41/images/create?{q(fromImage=name, tag=tag)}", headers=headers)


def test_pull_streams_dockerd_lines(api, remote):
    svc, sock = api
    ref, image_id = remote["busybox"]
    status, headers, body = pull(sock, ref)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert headers.get("Transfer-Encoding") == "chunked"
    lines = body.split(b"\r\n")
    assert lines[0] == b'{"status":"Pulling from lib/busybox","id":"latest"}' and lines[-1] == b""
    msgs = json_lines(body)
    assert msgs[-1] == {"status": f"Status: Downloaded newer image for {ref}"}
    assert msgs[-2]["status"].startswith("Digest: sha256:")
    assert {"status": "Pull complete", "progressDetail": {}, "id": svc.get(ref).layers[0].digest[7:19]} in msgs
    assert svc.get(ref).id == image_id
    status, _, body = pull(sock, ref)
    assert [m["status"] for m in json_lines(body)][-1] == f"Status: Image is up to date for {ref}"


def test_pull_errors_before_the_stream_are_plain_json(api, registry):
    _, sock = api
    status, headers, body = pull(sock, f"{registry.host}/nope/nothing:1")
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"message": f"manifest for {registry.host}/nope/nothing:1 not found: "
                                           "manifest unknown: manifest unknown"}
    status, _, body = call(sock, "POST", f"/v1.41/images/create?{q(fromImage='Upper/Case', tag='1')}")
    assert status == 400 and "must be lowercase" in json.loads(body)["message"]
    status, _, body = call(sock, "POST", "/v1.41/images/create")
    assert status == 400


def test_list_inspect_history_tag_remove(api, remote):
    svc, sock = api
    ref, image_id = remote["busybox"]
    pull(sock, ref)
    status, _, body = call(sock, "GET", "/v1.41/images/json?" + q(filters=json.dumps({"reference": ["*/lib/*"]})))
    assert status == 200 and [x["Id"] for x in json.loads(body)] == [image_id]
    status, _, body = call(sock, "GET", "/v1.41/images/json?" + q(filters="{not json"))
    assert status == 400
    status, _, body = call(sock, "GET", f"/v1.41/images/{ref}/json")
    assert status == 200 and json.loads(body)["RepoTags"] == [ref]
    status, _, body = call(sock, "GET", f"/v1.41/images/{image_id[7:19]}/history")
    assert status == 200 and json.loads(body)[0]["Id"] == image_id
    status, _, body = call(sock, "GET", "/v1.41/images/nope/json")
    assert (status, json.loads(body)) == (404, {"message": "No such image: nope:latest"})
    status, _, body = call(sock, "POST", f"/v1.41/images/{image_id}/tag?{q(repo='my/app', tag='v1')}")
    assert (status, body) == (201, b"")
    status, _, body = call(sock, "POST", f"/v1.41/images/{image_id}/tag?{q(repo='my/app', tag='bad tag!')}")
    assert status == 400
    svc.in_use = lambda iid: [("ab" * 32, True)]
    status, _, body = call(sock, "DELETE", f"/v1.41/images/{image_id[7:19]}?force=1")
    assert status == 409 and "image is being used by running container abababababab" in json.loads(body)["message"]
    svc.in_use = None
    status, _, body = call(sock, "DELETE", "/v1.41/images/my/app:v1")
    assert (status, json.loads(body)) == (200, [{"Untagged": "my/app:v1"}])
    status, _, body = call(sock, "DELETE", "/v1.41/images/my/app:v1")
    assert (status, json.loads(body)) == (404, {"message": "No such image: my/app:v1"})
    status, _, body = call(sock, "DELETE", f"/v1.41/images/{ref}")
    assert status == 200 and {"Deleted": image_id} in json.loads(body)
    status, _, body = call(sock, "POST", "/v1.41/images/prune")
    assert (status, json.loads(body)) == (200, {"ImagesDeleted": [], "SpaceReclaimed": 0})


def test_save_and_load_over_http(api, remote):
    svc, sock = api
    ref, image_id = remote["busybox"]
    pull(sock, ref)
    svc.tag(ref, "second")
    status, headers, tar1 = call(sock, "GET", f"/v1.41/images/{ref}/get")
    assert status == 200 and headers["Content-Type"] == "application/x-tar"
    man = json.load(tarfile.open(fileobj=io.BytesIO(tar1)).extractfile("manifest.json"))
    assert man[0]["RepoTags"] == [ref]
    status, _, tar2 = call(sock, "GET", "/v1.41/images/get?" + q(names=[ref, "second:latest"]))
    man = json.load(tarfile.open(fileobj=io.BytesIO(tar2)).extractfile("manifest.json"))
    assert sorted(man[0]["RepoTags"]) == sorted([ref, "second:latest"])
    status, _, body = call(sock, "GET", "/v1.41/images/nope/get")
    assert (status, json.loads(body)) == (404, {"message": "No such image: nope:latest"})
    svc.remove(ref)
    svc.remove("second")
    assert svc.list() == []

    def chunks():  # a chunked request body, as the docker CLI streams it
        for i in range(0, len(tar2), 100_000):
            yield tar2[i:i + 100_000]

    status, headers, body = call(sock, "POST", "/v1.41/images/load?quiet=1", body=chunks(),
                                 headers={"Content-Type": "application/x-tar"})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert sorted(json_lines(body), key=str) == sorted([{"stream": f"Loaded image: {ref}\n"},
                                                        {"stream": "Loaded image: second:latest\n"}], key=str)
    assert svc.get("second").id == image_id
    status, _, body = call(sock, "POST", "/v1.41/images/load", body=b"garbage" * 1000)
    assert status == 400 and "invalid image archive" in json.loads(body)["message"]


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def test_import_from_the_request_body(api):
    svc, sock = api
    target = "/v1.41/images/create?" + q(fromSrc="-", repo="imp/app", tag="1", changes=["ENV A=1", "WORKDIR /w"])
    status, _, body = call(sock, "POST", target, body=_tar({"hello": b"world"}))
    assert status == 200
    (msg,) = json_lines(body)
    img = svc.get("imp/app:1")
    assert msg == {"status": img.id}
    cfg = svc.inspect(img.id)["Config"]
    assert cfg["Env"] == ["A=1"] and cfg["WorkingDir"] == "/w"
    status, _, body = call(sock, "POST", "/v1.41/images/create?" + q(fromSrc="-", changes=["BOGUS x"]),
                           body=_tar({"a": b"b"}))
    assert status == 400


def test_import_from_a_url(api):
    import http.server
    import threading

    data = _tar({"from-url": b"1"})

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path != "/rootfs.tar":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        svc, sock = api
        url = f"http://127.0.0.1:{httpd.server_address[1]}/rootfs.tar"
        status, _, body = call(sock, "POST", "/v1.41/images/create?" + q(fromSrc=url, repo="fromurl"))
        assert status == 200
        img = svc.get("fromurl:latest")
        assert json_lines(body) == [{"status": img.id}]
        assert svc.inspect(img.id)["Comment"] == f"Imported from {url}"
        status, _, body = call(sock, "POST", "/v1.41/images/create?" + q(fromSrc=url[:-4] + "nope"))
        assert status == 400 and "import" in json.loads(body)["message"]
        status, _, body = call(sock, "POST", "/v1.41/images/create?" + q(fromSrc="file:///etc/passwd"))
        assert status == 400 and "unsupported URL scheme" in json.loads(body)["message"]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_push_and_auth_over_http(api, remote, registry):
    svc, sock = api
    ref, image_id = remote["busybox"]
    pull(sock, ref)
    svc.tag(ref, f"{registry.host}/copies/bb:7")
    status, _, body = call(sock, "POST", f"/v1.41/images/{registry.host}/copies/bb/push?tag=7", headers=NOAUTH)
    msgs = json_lines(body)
    manifest = svc.get(image_id).manifest.digest
    assert status == 200 and msgs[0] == {"status": f"The push refers to repository [{registry.host}/copies/bb]"}
    assert msgs[-1]["aux"]["Digest"] == manifest and msgs[-1]["aux"]["Tag"] == "7"
    assert msgs[-2]["status"].startswith(f"7: digest: {manifest} size: ")
    status, _, body = call(sock, "POST", f"/v1.41/images/{registry.host}/copies/none/push?tag=1", headers=NOAUTH)
    assert status == 404 and "An image does not exist locally with the tag" in json.loads(body)["message"]
    status, _, body = call(sock, "POST", "/v1.41/auth", body=json.dumps({"serveraddress": registry.host}),
                           headers={"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (200, {"IdentityToken": "", "Status": "Login Succeeded"})
    status, _, body = call(sock, "POST", "/v1.41/auth", body=b"[1]")
    assert status == 400


def test_search_when_the_index_is_unreachable(api):
    _, sock = api
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status, _, body = call(sock, "GET", "/v1.41/images/search?" + q(term=f"127.0.0.1:{port}/busybox"))
    assert status == 500
    assert json.loads(body)["message"] == \
        f'GET "http://127.0.0.1:{port}/v1/search?q=busybox&n=25": connect: connection refused'
    status, _, body = call(sock, "GET", "/v1.41/images/search?term=x&limit=500")
    assert status == 400


def test_client_leaving_mid_pull_leaves_a_consistent_store(api, remote):
    svc, sock = api
    ref, image_id = remote["big"]
    name, _, tag = ref.rpartition(":")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(f"POST /v1.41/images/create?{q(fromImage=name, tag=tag)} HTTP/1.1\r\nHost: x\r\n"
              f"X-Registry-Auth: e30=\r\nContent-Length: 0\r\n\r\n".encode())
    got = b""
    while b"Downloading" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    s.close()  # the client goes away in the middle of the download
    deadline = time.monotonic() + 20
    last, stable = None, 0
    while time.monotonic() < deadline and stable < 4:
        # never half there: a visible image is fully unpacked
        if svc.store.exists(ref):
            assert svc.snapshotter.stat(svc.get(ref).chain_ids[-1]).kind == Kind.COMMITTED
        now = (_ingest_sizes(svc), [i.name for i in svc.snapshotter.walk()], svc.store.exists(ref))
        stable = stable + 1 if now == last else 0
        last = now
        time.sleep(0.2)
    assert not any(i.kind == Kind.ACTIVE for i in svc.snapshotter.walk())
    status, _, body = pull(sock, ref)  # a new pull completes (resuming the download if it was cut)
    assert status == 200 and json_lines(body)[-1]["status"].endswith(ref)
    assert svc.get(ref).id == image_id and svc.unpack(ref) == svc.get(ref).chain_ids[-1]


def _ingest_sizes(svc) -> dict:
    """Partial downloads in the content store's ingest area (a cancelled pull keeps them to resume)."""
    sizes = {}
    for p in (svc.content.root / "ingest").glob("*/data"):
        try:
            sizes[p.parent.name] = p.stat().st_size
        except FileNotFoundError:  # committed meanwhile
            pass
    return sizes


def test_registry_auth_header_reaches_the_registry(api, regh, tmp_path, remote):
    svc, sock = api
    d = tmp_path / "htreg"
    d.mkdir()
    (d / "htpasswd").write_text(regh.htpasswd_line("eve", "secret") + "\n")
    reg = regh.start_registry(str(d), auth={"htpasswd": {"realm": "r", "path": str(d / "htpasswd")}})
    try:
        ref, _ = remote["busybox"]
        pull(sock, ref)
        svc.tag(ref, f"{reg.host}/p/bb:1")
        good = {"X-Registry-Auth": authmod.encode_header("eve", "secret", reg.host)}
        status, _, body = call(sock, "POST", f"/v1.41/images/{reg.host}/p/bb/push?tag=1", headers=NOAUTH)
        assert status == 200 and "error" in json_lines(body)[-1]  # refused inside the stream
        status, _, body = call(sock, "POST", f"/v1.41/images/{reg.host}/p/bb/push?tag=1", headers=good)
        assert status == 200 and "aux" in json_lines(body)[-1]
        svc.remove(f"{reg.host}/p/bb:1")
        status, _, body = pull(sock, f"{reg.host}/p/bb:1", headers=NOAUTH)
        assert status in (401, 404)
        status, _, body = pull(sock, f"{reg.host}/p/bb:1", headers=good)
        assert status == 200 and svc.get(f"{reg.host}/p/bb:1")
        status, _, body = call(sock, "POST", "/v1.41/auth", body=json.dumps(
            {"username": "eve", "password": "nope", "serveraddress": reg.host}))
        assert status == 401 and "401 Unauthorized" in json.loads(body)["message"]
    finally:
        regh.stop_registry(reg)
