"""Blobs and upload sessions over HTTP: every endpoint, its headers and its errors."""
import os
import socket

from regsrv_support import Api, sha


def test_version_check_and_unknown_endpoints(api):
    r = api("GET", "/v2/")
    assert r.status == 200 and r.body == b"{}"
    assert r.header("docker-distribution-api-version") == "registry/2.0"
    assert r.header("content-type").startswith("application/json")
    r = api("GET", "/v2/foo/nothing/here")
    assert r.status == 404 and r.codes == ["UNSUPPORTED"]
    r = api("PATCH", "/v2/foo/manifests/latest")
    assert r.status == 405 and r.codes == ["UNSUPPORTED"]
    assert r.json()["errors"][0]["message"]


def test_monolithic_post_then_head_and_get(api):
    data = os.urandom(5000)
    d = sha(data)
    r = api("POST", f"/v2/mono/blobs/uploads/?digest={d}", data, {"Content-Type": "application/octet-stream"})
    assert r.status == 201
    assert r.header("location") == f"/v2/mono/blobs/{d}"
    assert r.header("docker-content-digest") == d
    r = api("HEAD", f"/v2/mono/blobs/{d}")
    assert r.status == 200 and r.body == b""
    assert r.header("content-length") == "5000" and r.header("docker-content-digest") == d
    r = api("GET", f"/v2/mono/blobs/{d}")
    assert r.status == 200 and r.body == data
    assert r.header("content-type") == "application/octet-stream"


def test_post_then_put_with_the_whole_blob(api):
    data = b"post then put"
    r = api("POST", "/v2/pp/blobs/uploads/", b"")
    assert r.status == 202
    loc, uuid = r.header("location"), r.header("docker-upload-uuid")
    assert loc == f"/v2/pp/blobs/uploads/{uuid}" and r.header("range") == "0-0"
    r = api("PUT", f"{loc}?digest={sha(data)}", data, {"Content-Type": "application/octet-stream"})
    assert r.status == 201 and r.header("docker-content-digest") == sha(data)
    assert api("GET", f"/v2/pp/blobs/{sha(data)}").body == data
    assert api("GET", loc).status == 404   # the session is over


def test_chunked_upload_with_status_and_final_chunk_in_put(api):
    data = os.urandom(300_000)
    loc = api("POST", "/v2/chunky/blobs/uploads/").header("location")
    r = api("PATCH", loc, data[:100_000], {"Content-Range": "0-99999", "Content-Type": "application/octet-stream"})
    assert r.status == 202 and r.header("range") == "0-99999"
    loc = r.header("location")
    r = api("GET", loc)
    assert r.status == 204 and r.header("range") == "0-99999" and r.header("location") == loc
    r = api("PATCH", loc, data[100_000:200_000], {"Content-Range": "100000-199999"})
    assert r.status == 202 and r.header("range") == "0-199999"
    r = api("PUT", f"{loc}?digest={sha(data)}", data[200_000:], {"Content-Range": "200000-299999"})
    assert r.status == 201
    assert api("GET", f"/v2/chunky/blobs/{sha(data)}").body == data


def test_patch_streamed_without_content_range_as_docker_does(api):
    data = os.urandom(1 << 20)
    loc = api("POST", "/v2/streamed/blobs/uploads/").header("location")
    pieces = (data[i:i + 65536] for i in range(0, len(data), 65536))   # Transfer-Encoding: chunked
    r = api("PATCH", loc, pieces)
    assert r.status == 202 and r.header("range") == f"0-{len(data) - 1}"
    r = api("PUT", f"{r.header('location')}?digest={sha(data)}", b"")
    assert r.status == 201
    assert api("GET", f"/v2/streamed/blobs/{sha(data)}").body == data


def test_out_of_order_chunks_are_refused_with_416(api):
    data = os.urandom(20)
    loc = api("POST", "/v2/ooo/blobs/uploads/").header("location")
    r = api("PATCH", loc, data[5:10], {"Content-Range": "5-9"})
    assert r.status == 416 and r.codes == ["BLOB_UPLOAD_INVALID"]
    assert r.header("range") == "0-0" and r.header("location") == loc
    assert api("PATCH", loc, data[:10], {"Content-Range": "0-9"}).status == 202
    r = api("PATCH", loc, data[:10], {"Content-Range": "0-9"})            # the same chunk again
    assert r.status == 416 and r.header("range") == "0-9"
    r = api("PATCH", loc, data[10:], {"Content-Range": "10-12"})          # length != range
    assert r.status == 416 and r.codes == ["SIZE_INVALID"]
    r = api("PATCH", loc, data[10:], {"Content-Range": "garbage"})
    assert r.status == 416
    assert api("GET", loc).header("range") == "0-9"                      # nothing was appended
    assert api("PATCH", loc, data[10:], {"Content-Range": "10-19"}).status == 202
    assert api("PUT", f"{loc}?digest={sha(data)}", b"").status == 201


def test_interrupted_chunk_keeps_what_arrived_and_resumes(registry, api):
    data = os.urandom(1 << 20)
    loc = api("POST", "/v2/resume/blobs/uploads/").header("location")
    s = socket.create_connection(("127.0.0.1", registry.port))
    s.sendall(f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
              f"Content-Length: {len(data)}\r\n\r\n".encode() + data[:300_000])
    s.close()   # the connection breaks in the middle of the chunk
    for _ in range(100):
        r = api("GET", loc)
        if r.status == 204 and r.header("range") == "0-299999":
            break
    assert r.status == 204 and r.header("range") == "0-299999"
    assert api("HEAD", f"/v2/resume/blobs/{sha(data)}").status == 404   # not visible before the end
    r = api("PATCH", loc, data[300_000:], {"Content-Range": f"300000-{len(data) - 1}"})
    assert r.status == 202
    assert api("PUT", f"{loc}?digest={sha(data)}", b"").status == 201
    assert api("GET", f"/v2/resume/blobs/{sha(data)}").body == data


def test_two_requests_on_one_upload_the_second_is_refused(registry, api):
    loc = api("POST", "/v2/busy/blobs/uploads/").header("location")
    s = socket.create_connection(("127.0.0.1", registry.port))
    try:
        s.sendall(f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345".encode())
        for _ in range(100):   # wait until the first request holds the upload
            r = api("PATCH", loc, b"abc")
            if r.status == 416:
                break
        assert r.status == 416 and "in use" in r.json()["errors"][0]["message"]
        s.sendall(b"67890")
        assert b" 202 " in s.recv(4096)
    finally:
        s.close()
    assert api("GET", loc).header("range") == "0-9"


def test_digest_errors(api):
    data = b"some content"
    loc = api("POST", "/v2/dig/blobs/uploads/").header("location")
    assert api("PATCH", loc, data).status == 202
    r = api("PUT", loc, b"")
    assert r.status == 400 and r.codes == ["DIGEST_INVALID"]
    r = api("PUT", f"{loc}?digest=sha256:nothex", b"")
    assert r.status == 400 and r.codes == ["DIGEST_INVALID"]
    r = api("PUT", f"{loc}?digest=md5:{'0' * 32}", b"")
    assert r.status == 400 and r.codes == ["DIGEST_INVALID"]
    r = api("PUT", f"{loc}?digest={sha(b'other')}", b"")
    assert r.status == 400 and r.codes == ["DIGEST_INVALID"]
    assert r.json()["errors"][0]["detail"] == {"digest": sha(b"other")}
    assert api("GET", loc).status == 404               # a failed upload is cancelled
    assert api("HEAD", f"/v2/dig/blobs/{sha(b'other')}").status == 404
    r = api("POST", f"/v2/dig/blobs/uploads/?digest={sha(b'x')}", b"not x")
    assert r.status == 400 and r.codes == ["DIGEST_INVALID"]
    r = api("GET", "/v2/dig/blobs/sha256:123")
    assert r.status == 400 and r.codes == ["DIGEST_INVALID"]


def test_sha512_blobs(api):
    data = os.urandom(70_000)
    d = api.push_blob("five", data, "sha512")
    assert d.startswith("sha512:")
    r = api("GET", f"/v2/five/blobs/{d}")
    assert r.body == data and r.header("docker-content-digest") == d
    loc = api("POST", "/v2/five/blobs/uploads/").header("location")
    assert api("PATCH", loc, data[:1000], {"Content-Range": "0-999"}).status == 202
    r = api("PUT", f"{loc}?digest={sha(data[:2000], 'sha512')}", data[1000:2000])
    assert r.status == 201


def test_upload_unknown_cancel_and_other_repository(api):
    r = api("GET", "/v2/up/blobs/uploads/00000000-0000-4000-8000-000000000000")
    assert r.status == 404 and r.codes == ["BLOB_UPLOAD_UNKNOWN"]
    r = api("PATCH", "/v2/up/blobs/uploads/not-a-uuid", b"x")
    assert r.status == 404 and r.codes == ["BLOB_UPLOAD_UNKNOWN"]
    loc = api("POST", "/v2/up/blobs/uploads/").header("location")
    uuid = loc.rsplit("/", 1)[1]
    assert api("GET", f"/v2/elsewhere/blobs/uploads/{uuid}").status == 404   # bound to its repository
    assert api("DELETE", loc).status == 204
    assert api("GET", loc).status == 404
    assert api("DELETE", loc).status == 404


def test_range_requests(api):
    data = bytes(range(10))
    d = api.push_blob("ranges", data)
    path = f"/v2/ranges/blobs/{d}"
    r = api("GET", path, headers={"Range": "bytes=2-5"})
    assert r.status == 206 and r.body == data[2:6] and r.header("content-range") == "bytes 2-5/10"
    r = api("GET", path, headers={"Range": "bytes=7-"})
    assert r.status == 206 and r.body == data[7:] and r.header("content-range") == "bytes 7-9/10"
    r = api("GET", path, headers={"Range": "bytes=-3"})
    assert r.status == 206 and r.body == data[7:]
    r = api("GET", path, headers={"Range": "bytes=8-100"})
    assert r.status == 206 and r.body == data[8:]
    r = api("GET", path, headers={"Range": "bytes=10-"})
    assert r.status == 416 and r.header("content-range") == "bytes */10"
    r = api("GET", path, headers={"Range": "bytes=0-1,4-5"})   # several ranges: the whole blob
    assert r.status == 200 and r.body == data
    assert api("GET", path).header("accept-ranges") == "bytes"


def test_empty_blob(api):
    d = api.push_blob("empty", b"")
    r = api("GET", f"/v2/empty/blobs/{d}")
    assert r.status == 200 and r.body == b"" and r.header("content-length") == "0"


def test_blobs_are_private_to_repositories_until_mounted(api):
    data = os.urandom(1000)
    d = api.push_blob("src/repo", data)
    r = api("GET", f"/v2/dst/repo/blobs/{d}")
    assert r.status == 404 and r.codes == ["BLOB_UNKNOWN"]
    assert api("HEAD", f"/v2/dst/repo/blobs/{d}").status == 404
    r = api("POST", f"/v2/dst/repo/blobs/uploads/?mount={d}&from=nowhere")   # not there: an upload
    assert r.status == 202 and r.header("location").startswith("/v2/dst/repo/blobs/uploads/")
    r = api("POST", f"/v2/dst/repo/blobs/uploads/?mount={d}")                 # no from: an upload
    assert r.status == 202
    r = api("POST", f"/v2/dst/repo/blobs/uploads/?mount={d}&from=src/repo")
    assert r.status == 201 and r.header("location") == f"/v2/dst/repo/blobs/{d}"
    assert r.header("docker-content-digest") == d
    assert api("GET", f"/v2/dst/repo/blobs/{d}").body == data


def test_content_is_stored_once(registry, api):
    data = os.urandom(4096)
    for name in ("one", "two", "three/deep"):
        api.push_blob(name, data)
    blobs = registry.storage.blobs
    assert [d for d, _ in blobs.walk()] == [sha(data)]
    assert os.stat(blobs.path(sha(data))).st_nlink == 1


def test_blob_delete(registry, api, start_server):
    d = api.push_blob("del", b"to delete")
    r = api("DELETE", f"/v2/del/blobs/{d}")
    assert r.status == 202
    assert api("HEAD", f"/v2/del/blobs/{d}").status == 404
    r = api("DELETE", f"/v2/del/blobs/{d}")
    assert r.status == 404 and r.codes == ["BLOB_UNKNOWN"]
    locked = Api(start_server(delete_enabled=False).host)
    d = locked.push_blob("del", b"kept")
    r = locked("DELETE", f"/v2/del/blobs/{d}")
    assert r.status == 405 and r.codes == ["UNSUPPORTED"]


def test_bad_names(registry, api):
    for name in ("UPPER/case", "a" * 256, "trailing-/x", "-lead", "a..b"):
        r = api("GET", f"/v2/{name}/tags/list")
        assert r.status == 400 and r.codes == ["NAME_INVALID"], name
    s = socket.create_connection(("127.0.0.1", registry.port))
    s.sendall(b"GET /v2/../../etc/blobs/sha256:" + b"0" * 64 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"400 Bad Request" in s.recv(4096).split(b"\r\n")[0]
    s.close()
