"""docker export, top, stats and diff against a real dockyardd."""
from __future__ import annotations

import io
import json
import os
import tarfile
import time
import uuid

import pytest

pytestmark = pytest.mark.root


def run(daemon, *args) -> str:
    n = "in" + uuid.uuid4().hex[:10]
    daemon.docker("run", "-d", "--name", n, *args)
    return n


def test_export_is_the_rootfs_without_volumes(daemon):
    c = run(daemon, "-v", "/data", "busybox", "sh", "-c", "echo v > /data/v.txt; echo r > /root/r.txt; sleep 300")
    time.sleep(0.3)
    data = daemon.docker("export", c).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        names = tf.getnames()
        assert tf.extractfile("root/r.txt").read() == b"r\n"
    assert "bin/sh" in names and "etc/passwd" in names and "data" in names
    assert "data/v.txt" not in names and not any(n.startswith(("/", "./")) for n in names)
    daemon.docker("stop", "-t", "1", c)
    with tarfile.open(fileobj=io.BytesIO(daemon.docker("export", c).stdout)) as tf:   # stopped: mounted for it
        assert tf.extractfile("root/r.txt").read() == b"r\n"


def test_top(daemon):
    c = run(daemon, "busybox", "sh", "-c", "sleep 301 & sleep 302 & wait")
    time.sleep(0.3)
    lines = daemon.docker("top", c).stdout.decode().splitlines()
    assert lines[0].split()[:3] == ["UID", "PID", "PPID"]
    cmds = " ".join(lines[1:])
    assert len(lines) == 4, lines   # sh and its two sleeps: nothing from the host
    assert "sleep 301" in cmds and "sleep 302" in cmds and "pytest" not in cmds
    out = json.loads(daemon.request("GET", f"/containers/{c}/top?ps_args=aux")[2])
    assert out["Titles"][:2] == ["USER", "PID"] and len(out["Processes"]) == 3
    pid = int(daemon.docker("inspect", "-f", "{{.State.Pid}}", c).stdout)
    assert str(pid) in [p[1] for p in out["Processes"]]
    status, _, body = daemon.request("GET", f"/containers/{c}/top?ps_args=-o%20x%3DPID")
    assert (status, body) == (400, b'{"message":"specifying \\"x=PID\\" is not allowed"}\n')
    daemon.docker("kill", c)
    daemon.docker("wait", c)
    cid = daemon.docker("inspect", "-f", "{{.Id}}", c).stdout.decode().strip()
    status, _, body = daemon.request("GET", f"/containers/{c}/top")
    assert (status, json.loads(body)["message"]) == (409, f"Container {cid} is not running")


def test_stats(daemon):
    c = run(daemon, "-m", "64m", "busybox", "sh", "-c", "while :; do :; done")
    out = daemon.docker("stats", "--no-stream", "--format", "{{json .}}", c).stdout
    row = json.loads(out)
    assert row["Name"] == c and row["PIDs"] == "1"
    assert row["MemUsage"].endswith("/ 64MiB") and float(row["CPUPerc"].rstrip("%")) > 5
    doc = json.loads(daemon.request("GET", f"/containers/{c}/stats?stream=false")[2])
    assert doc["name"] == "/" + c and doc["preread"] != "0001-01-01T00:00:00Z"
    assert doc["cpu_stats"]["cpu_usage"]["total_usage"] > doc["precpu_stats"]["cpu_usage"]["total_usage"] > 0
    assert doc["cpu_stats"]["online_cpus"] == os.cpu_count() and doc["memory_stats"]["limit"] == 64 << 20
    one = json.loads(daemon.request("GET", f"/containers/{c}/stats?stream=false&one-shot=true")[2])
    assert one["preread"] == "0001-01-01T00:00:00Z" and one["pids_stats"]["current"] >= 1
    conn = daemon.connection(timeout=10)
    try:
        conn.request("GET", f"/containers/{c}/stats")
        resp = conn.getresponse()
        first, second = json.loads(resp.readline()), json.loads(resp.readline())
        assert second["preread"] == first["read"] and second["precpu_stats"] == first["cpu_stats"]
    finally:
        conn.close()
    daemon.docker("rm", "-f", c)
    s = "st" + uuid.uuid4().hex[:8]
    daemon.docker("create", "--name", s, "busybox", "true")
    zero = json.loads(daemon.request("GET", f"/containers/{s}/stats?stream=false")[2])
    assert zero["read"] == "0001-01-01T00:00:00Z" and zero["memory_stats"] == {} and zero["name"] == "/" + s


def test_diff(daemon):
    fresh = run(daemon, "busybox", "sleep", "300")
    assert daemon.docker("diff", fresh).stdout == b""
    c = run(daemon, "busybox", "sh", "-c", "touch /tmp/x; rm /bin/vi; mkdir -p /newd/sub; echo >> /etc/passwd; "
                                           "sleep 300")
    time.sleep(0.3)
    lines = daemon.docker("diff", c).stdout.decode().splitlines()
    assert lines == ["C /bin", "D /bin/vi", "C /etc", "C /etc/passwd", "A /newd", "A /newd/sub", "C /tmp", "A /tmp/x"]
    body = json.loads(daemon.request("GET", f"/containers/{c}/changes")[2])
    assert body[:2] == [{"Path": "/bin", "Kind": 0}, {"Path": "/bin/vi", "Kind": 2}]
