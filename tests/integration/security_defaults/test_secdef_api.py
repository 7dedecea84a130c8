"""The API's own defences: socket permissions, TCP only with TLS client certificates unless
--insecure-tcp, size limits, 4xx with a message for malformed input (never 500), every request
logged with its outcome, and a seeded fuzzer against the container create endpoint."""
import grp
import json
import os
import random
import socket
import stat
import time

import pytest

from dockyardd_support import Dockyardd
from secdef_support import message, raw_request, request

pytestmark = pytest.mark.root


def test_socket_is_root_and_group_only(d):
    st = os.stat(d.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert st.st_uid == 0
    try:
        want = grp.getgrnam("dockyard").gr_gid
    except KeyError:
        want = 0
    assert st.st_gid == want


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_tcp_without_tls_client_certs_refused():
    port = _free_port()
    daemon = Dockyardd(extra_args=["-H", f"tcp://127.0.0.1:{port}"])
    try:
        with pytest.raises(RuntimeError) as e:
            daemon.start(timeout=15)
        want = f"refusing to listen on tcp://127.0.0.1:{port} without TLS client-certificate verification"
        assert want in str(e.value)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        daemon.cleanup()


def test_tcp_with_insecure_tcp_serves():
    port = _free_port()
    daemon = Dockyardd(extra_args=["-H", f"tcp://127.0.0.1:{port}", "--insecure-tcp"])
    try:
        daemon.start(timeout=15)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        daemon.cleanup()


def test_oversize_body_413_with_message(d):
    head = (b"POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (65 << 20))
    status, headers, body = raw_request(d.sock, head + b"{" + b" " * 4096)
    assert status == 413 and "too large" in message(body)
    # a chunked body that grows past the limit
    chunk = b"%x\r\n%s\r\n" % (1 << 20, b" " * (1 << 20))
    data = (b"POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 66 + b"0\r\n\r\n")
    status, _, body = raw_request(d.sock, data, timeout=30)
    assert status == 413 and "too large" in message(body)
    assert d.ping()


def test_oversize_headers_431_with_message(d):
    data = b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 << 10) + b"\r\n\r\n"
    status, _, body = raw_request(d.sock, data)
    assert status == 431 and message(body)
    assert d.ping()


CREATE = b"POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize("data", [
    CREATE + b"Content-Length: 9\r\n\r\n{\"Image\":",
    CREATE + b"Content-Length: 2\r\n\r\n[]",
    CREATE + b"Content-Length: 4\r\n\r\n\xff\xfe\x00{",
    CREATE + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    b"POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{}{",
    b"GET /containers/json?limit=abc HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /containers/json?filters=notjson HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /containers/create?name=..%2f..%2fetc HTTP/1.1\r\nHost: x\r\nContent-Length: 19\r\n\r\n"
    b"{\"Image\":\"busybox\"}",
    b"GET /v99.99/version HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /containers/json?filters=" + b"%5B" * 5000 + b"%5D" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" + b"[" * 10000 + b"]" * 10000,
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
])
def test_malformed_requests_get_4xx_with_message(d, data):
    status, headers, body = raw_request(d.sock, data)
    assert 400 <= status < 500, (status, body)
    message(body)
    assert d.ping()


@pytest.mark.parametrize("body,where", [
    ({"HostConfig": {"LogConfig": "json-file"}}, "HostConfig.LogConfig"),
    ({"HostConfig": {"LogConfig": {"Type": 5}}}, "HostConfig.LogConfig.Type"),
    ({"HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": 5}}}}, "HostConfig.LogConfig.Config"),
    ({"HostConfig": {"RestartPolicy": [1]}}, "HostConfig.RestartPolicy"),
    ({"HostConfig": {"RestartPolicy": {"Name": "always", "MaximumRetryCount": "x"}}}, "MaximumRetryCount"),
    ({"Healthcheck": 5}, "Config.Healthcheck"),
    ({"Healthcheck": {"Test": 5}}, "Config.Healthcheck.Test"),
    ({"Healthcheck": {"Test": ["CMD", "true"], "Interval": "1s"}}, "Config.Healthcheck.Interval"),
    ({"HostConfig": {"Memory": 1e308}}, "HostConfig.Memory"),
])
def test_create_with_wrong_types_is_400_naming_the_field(d, body, where):
    status, _, resp = request(d.sock, "POST", "/containers/create",
                              json.dumps(dict({"Image": "busybox", "Cmd": ["true"]}, **body)).encode())
    assert status == 400 and where in message(resp), (status, resp)


def test_every_request_is_logged_with_its_outcome(d):
    tag = "dylog" + os.urandom(4).hex()
    request(d.sock, "GET", f"/containers/{tag}/json")
    request(d.sock, "POST", f"/containers/create?name={tag}", b"{bad json")
    request(d.sock, "GET", f"/_ping?{tag}")
    big = b"X: " + b"a" * (70 << 10) + b"\r\n"
    raw_request(d.sock, b"GET /_ping?" + tag.encode() + b" HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [ln for ln in d.log().splitlines() if tag in ln or "431" in ln]
        if len(lines) >= 4:
            break
        time.sleep(0.1)
    text = "\n".join(lines)
    assert f"GET /containers/{tag}/json 404" in text
    assert f"POST /containers/create?name={tag} 400" in text
    assert f"GET /_ping?{tag} 200" in text
    assert " 431 " in text or " 431" in text


# ---- fuzzing the container create endpoint -----------------------------------------------------

BASE = {
    "Image": "busybox", "Cmd": ["true"], "Entrypoint": None, "Env": ["A=1"], "Labels": {"a": "b"},
    "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/v": {}}, "WorkingDir": "/", "User": "", "Tty": False,
    "OpenStdin": False, "StopSignal": "SIGTERM", "StopTimeout": 10, "Healthcheck": {"Test": ["NONE"]},
    "HostConfig": {"Binds": [], "Memory": 0, "CpuShares": 0, "PidsLimit": 0, "Privileged": False,
                   "CapAdd": [], "CapDrop": [], "SecurityOpt": [], "Ulimits": [], "PortBindings": {},
                   "RestartPolicy": {"Name": "no"}, "LogConfig": {"Type": "json-file", "Config": {}},
                   "NetworkMode": "none", "Tmpfs": {}, "Mounts": [], "Devices": [], "Sysctls": {},
                   "ShmSize": 0, "DeviceCgroupRules": [], "ExtraHosts": [], "Dns": []},
    "NetworkingConfig": {"EndpointsConfig": {}},
}


def _values(rng: random.Random, depth: int = 0):
    pool = [None, True, False, 0, -1, 1, 2 ** 31, 2 ** 63, 2 ** 64 + 5, -(2 ** 63) - 1, 1.5, 1e308, float("-0"),
            "", "x", "\x00", "../../../etc", "/", "A" * 5000, "☃", "ALL", "SYS_ADMIN", "host", "seccomp=unconfined",
            "--", "%n%s", [], {}, ["a"], [1, None], {"k": "v"}, {"": None}]
    v = rng.choice(pool)
    if depth < 3 and rng.random() < 0.15:
        return [_values(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    if depth < 3 and rng.random() < 0.15:
        return {rng.choice(["Name", "Type", "Source", "Target", "x", "80/tcp", "Test"]): _values(rng, depth + 1)}
    return v


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _mutate(rng: random.Random) -> bytes:
    doc = json.loads(json.dumps(BASE))
    for _ in range(rng.randint(1, 4)):
        paths = [p for p in _paths(doc) if p]
        path = rng.choice(paths)
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        op = rng.random()
        if op < 0.7:
            parent[path[-1]] = _values(rng)
        elif op < 0.85 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["Bogus", "Config", "hostconfig", "\x00"])] = _values(rng)
    text = json.dumps(doc, allow_nan=True).encode()
    r = rng.random()
    if r < 0.05:
        text = text[: rng.randint(0, len(text))]       # truncated
    elif r < 0.08:
        text = b"[" * 5000 + text + b"]" * 5000            # nested too deep
    elif r < 0.1:
        text = text.replace(b'"', b"'")                    # not JSON
    return text


def test_fuzz_container_create(d):
    rng = random.Random(20261127)
    created, statuses = [], {}
    deadline = time.monotonic() + 12
    n = started = 0
    try:
        while n < 400 and time.monotonic() < deadline:
            body = _mutate(rng)
            query = "" if rng.random() < 0.8 else "?" + rng.choice(["name=" + "x" * 300, "name=%00", "platform=evil",
                                                                    "name=a/b", "name=-x"])
            status, _, resp = request(d.sock, "POST", "/containers/create" + query, body)
            statuses[status] = statuses.get(status, 0) + 1
            assert status < 500, f"{status} for {body[:300]!r}: {resp[:300]!r}"
            if status == 201:
                created.append(json.loads(resp)["Id"])
                st, _, resp = request(d.sock, "GET", f"/containers/{created[-1]}/json")
                assert st == 200, resp[:300]
                if started < 12:  # what create accepted, start must handle: the runtime may refuse it (as
                    started += 1  # dockerd's 500 "failed to create task"), the daemon never fails itself
                    st, _, resp = request(d.sock, "POST", f"/containers/{created[-1]}/start")
                    assert st < 500 or message(resp).startswith("failed to create task for container: "), \
                        f"{st} on start of {body[:300]!r}: {resp[:300]!r}"
            else:
                assert 400 <= status < 500
                message(resp)
            n += 1
    finally:
        for cid in created:
            request(d.sock, "DELETE", f"/containers/{cid}?force=1")
    assert n >= 100, n
    assert statuses.get(400, 0) > n // 4, statuses   # most mutations are refused...
    assert statuses.get(201, 0) > 0, statuses        # ...and the fuzzer does reach valid bodies too
    assert d.ping()
    assert d.docker("run", "--rm", "busybox", "true").returncode == 0
