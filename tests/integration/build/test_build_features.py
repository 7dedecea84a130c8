"""Builder features end to end through dockyardd: RUN mounts, ADD (archives, URLs), ownership and
modes, scratch and stages, ONBUILD, the image config, the cache across restarts, cancellation
(needs root)."""
import gzip
import http.server
import io
import json
import lzma
import os
import signal
import subprocess
import tarfile
import threading
import time

import pytest

from conftest import DOCKYARD, containers, dy, image_id

pytestmark = pytest.mark.root


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def build(d, ctx, dockerfile, *args, **kw):
    write(os.path.join(ctx, "Dockerfile"), dockerfile)
    return dy(d, "build", *args, str(ctx), **kw)


def run(d, image, *cmd):
    return d.docker("run", "--rm", image, *cmd).stdout


def test_run_mounts(d, tmp_path):
    (tmp_path / "src").mkdir()
    write(tmp_path / "src" / "in.txt", "from the context\n")
    df = ("FROM busybox AS tools\nRUN echo tool > /tool\n"
          "FROM busybox\n"
          "RUN --mount=type=cache,target=/cache,id=counter --mount=type=bind,source=src,target=/mnt/src "
          "echo x >> /cache/n && wc -l < /cache/n > /count && cat /mnt/src/in.txt > /copied\n"
          "RUN --mount=type=bind,from=tools,source=/tool,target=/t --mount=type=bind,source=src,target=/rw,rw "
          "--mount=type=tmpfs,target=/scratch cat /t > /fromstage && touch /rw/new && ls /rw > /rwlist && "
          "touch /scratch/x && ls /scratch > /tmpfslist\n")
    build(d, tmp_path, df, "-t", "mounts:1")
    assert run(d, "mounts:1", "cat", "/count", "/copied", "/fromstage", "/rwlist", "/tmpfslist") == \
        "1\nfrom the context\ntool\nin.txt\nnew\nx\n"
    assert not (tmp_path / "src" / "new").exists()            # rw binds write to a throwaway copy
    mounts = run(d, "mounts:1", "ls", "-a", "/").split()
    assert "mnt" not in mounts and "rw" not in mounts and "scratch" not in mounts and "cache" not in mounts
    again = "FROM busybox\nRUN --mount=type=cache,target=/elsewhere,id=counter wc -l < /elsewhere/n\n"
    assert "\n1\nRemoving intermediate container" in build(d, tmp_path, again).stdout   # same id, same files
    build(d, tmp_path, df, "--no-cache", "-t", "mounts:2")
    assert run(d, "mounts:2", "cat", "/count") == "2\n"       # the cache directory outlives builds


class _Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/pkg/tool.sh":
            body = b"#!/bin/sh\necho downloaded\n"
            self.send_response(200)
            self.send_header("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, *a):
        pass


@pytest.fixture
def http_url():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def _tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo(name)
        ti.size, ti.uid, ti.gid, ti.mode = len(data), 123, 456, 0o640
        tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def test_add_archives_urls_chown_chmod(d, tmp_path, http_url):
    (tmp_path / "a.tar.gz").write_bytes(gzip.compress(_tar("pkg/a.txt", b"gz\n")))
    (tmp_path / "b.tar.xz").write_bytes(lzma.compress(_tar("pkg/b.txt", b"xz\n")))
    (tmp_path / "c.tar.gz.txt").write_bytes(b"not an archive")
    write(tmp_path / "own.txt", "owned\n")
    df = ("FROM busybox\n"
          "RUN echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd && echo grp:x:2000: >> /etc/group\n"
          "ADD a.tar.gz b.tar.xz /opt/\n"
          "ADD c.tar.gz.txt /opt/\n"
          f"ADD {http_url}/pkg/tool.sh /usr/local/bin/\n"
          "COPY --chown=app:grp --chmod=640 own.txt /home/app/own.txt\n"
          "COPY --chown=1234 own.txt /num.txt\n")
    build(d, tmp_path, df, "-t", "add:1")
    out = run(d, "add:1", "sh", "-c", "cat /opt/pkg/a.txt /opt/pkg/b.txt /opt/c.tar.gz.txt; echo; "
                                       "stat -c '%u:%g %a' /opt/pkg/a.txt /usr/local/bin/tool.sh /home/app/own.txt "
                                       "/home/app /num.txt; stat -c %Y /usr/local/bin/tool.sh")
    assert out == ("gz\nxz\nnot an archive\n123:456 640\n0:0 600\n1000:2000 640\n1000:2000 755\n1234:1234 644\n"
                   "1700000000\n")
    p = build(d, tmp_path, f"FROM busybox\nADD {http_url}/missing /x\n", check=False)
    assert p.returncode == 1 and f"failed to GET {http_url}/missing with status 404" in p.stderr
    p = build(d, tmp_path, "FROM busybox\nCOPY --chown=nobody:nope own.txt /x\n", check=False)
    assert p.returncode == 1 and "can't find gid for group nope" in p.stderr


def test_scratch_stages_and_clean_layers(d, tmp_path):
    write(tmp_path / "hello", "hello from scratch\n")
    df = ("FROM busybox AS tools\nRUN mkdir -p /out && cp /bin/busybox /out/\n"
          "FROM scratch\nCOPY --from=tools /out/busybox /bin/busybox\nCOPY hello /\n"
          "COPY --from=busybox /etc/group /etc/passwd /etc/\n"
          "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox cat /hello > /made\"]\n"
          "CMD [\"/bin/busybox\", \"cat\", \"/made\"]\n")
    build(d, tmp_path, df, "-t", "scratchy:1")
    assert run(d, "scratchy:1") == "hello from scratch\n"
    assert run(d, "scratchy:1", "/bin/busybox", "grep", "-c", "^root:", "/etc/passwd", "/etc/group") == \
        "/etc/passwd:1\n/etc/group:1\n"   # COPY --from an image
    env = json.loads(d.docker("image", "inspect", "-f", "{{json .Config.Env}}", "scratchy:1").stdout)
    assert env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    # the RUN layer holds /made only: no mount point stubs (/proc, /etc/hosts, ...)
    save = subprocess.run(["docker", "save", "scratchy:1"], env=d.env, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(save)) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]
        last = outer.extractfile(manifest["Layers"][-1]).read()
    with tarfile.open(fileobj=io.BytesIO(last)) as layer:
        assert layer.getnames() == ["made"]


def test_onbuild_metadata_and_volumes(d, tmp_path):
    parent = ("FROM busybox\nONBUILD RUN echo triggered > /trigger\n"
              "HEALTHCHECK --interval=30s --timeout=3s CMD true\nSTOPSIGNAL SIGINT\nEXPOSE 8080/tcp 53/udp\n"
              "VOLUME /data\nRUN echo kept > /data/kept\n"
              "SHELL [\"/bin/sh\", \"-ec\"]\nENTRYPOINT echo entry\nMAINTAINER someone\n")
    build(d, tmp_path, parent, "-t", "parent:1")
    cfg = json.loads(d.docker("image", "inspect", "-f", "{{json .Config}}", "parent:1").stdout)
    assert cfg["OnBuild"] == ["RUN echo triggered > /trigger"] and cfg["StopSignal"] == "SIGINT"
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 30000000000, "Timeout": 3000000000}
    assert cfg["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}} and cfg["Volumes"] == {"/data": {}}
    assert cfg["Entrypoint"] == ["/bin/sh", "-ec", "echo entry"] and cfg.get("Cmd") is None
    assert d.docker("image", "inspect", "-f", "{{.Author}}", "parent:1").stdout.strip() == "someone"
    out = build(d, tmp_path, "FROM parent:1\nRUN cat /trigger; ls /data | wc -l\n", "-t", "child:1").stdout
    assert "# Executing 1 build trigger\n" in out and "triggered\n0\n" in out   # VOLUME contents are not kept
    assert d.docker("image", "inspect", "-f", "{{json .Config.OnBuild}}", "child:1").stdout.strip() == "null"


def test_cache_survives_a_daemon_restart(d, tmp_path):
    write(tmp_path / "f", "x")
    df = "FROM busybox\nCOPY f /f\nRUN echo made > /m\n"
    first = build(d, tmp_path, df, "-q").stdout.strip()
    d.stop_daemon()
    d.start()
    out = build(d, tmp_path, df).stdout
    assert out.count(" ---> Using cache\n") == 2 and f"Successfully built {first[7:19]}" in out


def test_a_client_that_goes_away_cancels_the_build(d, tmp_path):
    write(tmp_path / "Dockerfile", "FROM busybox\nRUN echo started; sleep 60\n")
    p = subprocess.Popen([DOCKYARD, "build", "--no-cache", "--progress", "plain", str(tmp_path)], env=d.env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        for line in p.stdout:
            if line.strip() == "started":
                break
        assert len(containers(d)) == 1
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        deadline = time.monotonic() + 15
        while containers(d) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert containers(d) == [], "the RUN container must be killed and removed"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
    assert image_id(d, "busybox")   # the daemon still serves


@pytest.fixture
def registry(tmp_path):
    """docker-registry (distribution) on 127.0.0.1, for FROM images that must be pulled."""
    import socket
    import urllib.request
    exe = "/usr/bin/docker-registry"
    if not os.path.exists(exe):
        pytest.skip("docker-registry is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "registry.yml"
    write(cfg, f"version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
               f"    rootdirectory: {tmp_path / 'registry'}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen([exe, "serve", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("docker-registry did not start")
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_from_pulls_missing_images_and_pull_refreshes(d, tmp_path, registry):
    ref = f"{registry}/base:1"
    d.docker("tag", "busybox", ref)
    d.docker("push", ref)
    d.docker("rmi", ref)
    out = build(d, tmp_path, f"FROM {ref}\nRUN echo on-pulled\n", "--no-cache").stdout
    assert "on-pulled\n" in out and image_id(d, ref) == image_id(d, "busybox")
    # a newer image under the same name in the registry: used only with --pull
    build(d, tmp_path, "FROM busybox\nRUN echo v2 > /v\n", "-t", ref)
    d.docker("push", ref)
    d.docker("tag", "busybox", ref)
    df = f"FROM {ref}\nRUN cat /v 2>/dev/null || echo none\n"
    assert "none\n" in build(d, tmp_path, df, "--no-cache").stdout
    assert "v2\n" in build(d, tmp_path, df, "--no-cache", "--pull").stdout
    p = build(d, tmp_path, f"FROM {registry}/missing:1\n", check=False)
    assert p.returncode == 1 and "missing" in p.stderr
