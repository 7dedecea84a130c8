"""Real Docker compatibility: dockerd loads our save, and we load what dockerd saves.

Starts a private dockerd (own data root, exec root, pidfile and unix socket in
a temporary directory, no bridge, no iptables) and stops it afterwards.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

import pytest

from dockyard.images import archive, load
from dockyard.images.store import ImageStore

DOCKERD = next((p for p in (shutil.which("dockerd"), "/usr/sbin/dockerd", "/usr/bin/dockerd") if p and os.path.exists(p)),
               "/usr/sbin/dockerd")

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(not os.path.exists(DOCKERD), reason="dockerd is absent (Debian package docker.io)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="dockerd needs root"),
]


def _docker_cli() -> str:
    for c in (shutil.which("docker"), "/usr/bin/docker"):
        if c and os.path.exists(c):
            return c
    pytest.skip("no docker CLI")


@pytest.fixture
def dockerd(tmp_path):
    from pathlib import Path

    d = Path(tempfile.mkdtemp(prefix="dyd-", dir="/tmp"))  # short: unix socket paths are limited to 108 bytes
    sock = d / "docker.sock"
    log = open(d / "dockerd.log", "wb")
    proc = subprocess.Popen(
        [DOCKERD, "--data-root", str(d / "data"), "--exec-root", str(d / "exec"), "--pidfile", str(d / "pid"),
         "-H", f"unix://{sock}", "--bridge=none", "--iptables=false", "--ip-masq=false",
         "--containerd-namespace", "dockyard-test", "--containerd-plugins-namespace", "dockyard-test-plugins"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    cli = _docker_cli()
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(d / "cli")}
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dockerd exited: {(d / 'dockerd.log').read_text()[-2000:]}")
            if sock.exists() and subprocess.run([cli, "version"], env=env, capture_output=True).returncode == 0:
                break
            if time.time() > deadline:
                pytest.fail(f"dockerd did not start: {(d / 'dockerd.log').read_text()[-2000:]}")
            time.sleep(0.3)

        def api(path):
            class Conn(http.client.HTTPConnection):
                def connect(self):
                    self.sock = socket.socket(socket.AF_UNIX)
                    self.sock.connect(str(sock))

            c = Conn("localhost", timeout=30)
            c.request("GET", path)
            r = c.getresponse()
            assert r.status == 200, path
            return json.loads(r.read())

        def docker(*args, check=True):
            p = subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=120)
            if check:
                assert p.returncode == 0, f"docker {' '.join(args)}: {p.stderr.strip()}"
            return p

        docker.api = api
        yield docker
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        log.close()
        for sub in ("data", "exec"):
            subprocess.run(["umount", "-R", "-l", str(d / sub)], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def _docker_archive_files(path) -> dict:
    with tarfile.open(path) as tf:
        return {m.name: (m.type, m.linkname, tf.extractfile(m).read() if m.isreg() and not m.name.endswith(".tar")
                         else m.size) for m in tf.getmembers()}


@pytest.mark.timeout(300)
def test_docker_loads_our_save_and_we_load_its_save(dockerd, busybox_store, tmp_path):
    img = busybox_store.get("busybox")
    ours = tmp_path / "ours.tar"
    with open(ours, "wb") as f:
        archive.save(busybox_store, ["busybox"], f)
    out = dockerd("load", "-i", str(ours)).stdout
    assert "Loaded image: busybox:latest" in out
    inspected = json.loads(dockerd("image", "inspect", "busybox:latest").stdout)[0]
    assert inspected["Id"] == img.id
    assert inspected["RootFS"]["Layers"] == img.diff_ids
    assert inspected["Size"] == img.size  # the same layer size accounting as dockerd
    run = dockerd("run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo hi from docker", check=False)
    assert run.returncode == 0 and run.stdout.strip() == "hi from docker", run.stderr
    # the Engine API shapes agree with dockerd's (GraphDriver paths are the snapshotter's business)
    theirs = dockerd.api("/v1.41/images/busybox/json")
    ours_view = busybox_store.inspect("busybox")
    for key in set(theirs) | set(ours_view):
        if key != "GraphDriver":
            assert ours_view.get(key) == theirs.get(key), key
    assert busybox_store.history("busybox") == dockerd.api("/v1.41/images/busybox/history")
    listed = [x for x in dockerd.api("/v1.41/images/json") if x["Id"] == img.id][0]
    listed.update(RepoDigests=listed["RepoDigests"] or [], Labels=listed["Labels"] or {})  # null vs. the schema's []/{}
    assert busybox_store.list()[0] == listed
    # docker's own save of the image is the same archive as ours (v1 IDs, json files, manifest.json)
    same = tmp_path / "same.tar"
    dockerd("save", "-o", str(same), "busybox:latest")
    assert _docker_archive_files(same) == _docker_archive_files(ours)
    dockerd("tag", "busybox:latest", "again:1")
    back = tmp_path / "theirs.tar"
    dockerd("save", "-o", str(back), "again:1")
    fresh = ImageStore(tmp_path / "fresh")
    try:
        assert load.load(fresh, str(back)) == ["Loaded image: again:1"]
        assert fresh.get("again:1").id == img.id
        ours_inspect = fresh.inspect("again:1")
        for key in ("Id", "Created", "Architecture", "Os", "RootFS", "Size"):
            assert ours_inspect[key] == inspected[key], key
        assert ours_inspect["Config"] == inspected["Config"]
    finally:
        fresh.close()
