"""Real clients against the registry: skopeo, Dockyard's own push/pull, and Docker (a private
dockerd, as root). The same image has the same digests whichever client pushed or pulled it."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from regsrv_support import Api, layer_tar, needs_openssl, needs_skopeo, self_signed, sha, skopeo, write_oci_layout

from dockyard.images.content import ContentStore
from dockyard.registry.auth import Credentials
from dockyard.registry.pull import pull
from dockyard.registry.push import push
from dockyard.registry.server.auth.htpasswd import hash_password

TLS_OFF = "--tls-verify=false"


@pytest.fixture
def layout(tmp_path):
    path = str(tmp_path / "layout")
    digests = write_oci_layout(path, [("amd64", [layer_tar({"bin/hello": os.urandom(300_000)}),
                                                 layer_tar({"etc/motd": b"hi\n"})]),
                                      ("arm64", [layer_tar({"bin/hello": os.urandom(200_000)})])], index_tag="multi")
    return path, digests


def _digest_in(registry_host: str, ref: str, *creds) -> str:
    raw = skopeo("inspect", TLS_OFF, *creds, "--raw", f"docker://{registry_host}/{ref}").stdout.encode()
    return sha(raw)


@needs_skopeo
def test_skopeo_copy_to_and_from(registry, layout, tmp_path):
    path, digests = layout
    api = Api(registry.host)
    skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", f"oci:{path}:amd64",
           f"docker://{registry.host}/sk/img:1")
    assert _digest_in(registry.host, "sk/img:1") == digests["amd64"]
    assert api("GET", "/v2/sk/img/manifests/1").header("docker-content-digest") == digests["amd64"]
    skopeo("copy", "--all", "--dest-tls-verify=false", "--preserve-digests", f"oci:{path}:multi",
           f"docker://{registry.host}/sk/multi:1")
    assert _digest_in(registry.host, "sk/multi:1") == digests["multi"]
    out = tmp_path / "out"
    skopeo("copy", "--src-tls-verify=false", f"docker://{registry.host}/sk/img:1", f"dir:{out}")
    assert sha((out / "manifest.json").read_bytes()) == digests["amd64"]
    for f in os.listdir(out):   # every blob as it was pushed
        if re.fullmatch(r"[0-9a-f]{64}", f):
            assert open(os.path.join(path, "blobs", "sha256", f), "rb").read() == (out / f).read_bytes()
    oci_out = tmp_path / "oci-out"
    skopeo("copy", "--all", "--src-tls-verify=false", "--preserve-digests",
           f"docker://{registry.host}/sk/multi:1", f"oci:{oci_out}:x")
    assert json.loads((oci_out / "index.json").read_text())["manifests"][0]["digest"] == digests["multi"]
    assert json.loads(skopeo("list-tags", TLS_OFF, f"docker://{registry.host}/sk/img").stdout)["Tags"] == ["1"]
    skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false",     # registry to itself: mounts
           f"docker://{registry.host}/sk/img:1", f"docker://{registry.host}/sk/copy:1")
    assert _digest_in(registry.host, "sk/copy:1") == digests["amd64"]
    skopeo("delete", TLS_OFF, f"docker://{registry.host}/sk/copy:1")
    assert api("GET", f"/v2/sk/copy/manifests/{digests['amd64']}").status == 404


@needs_skopeo
def test_our_client_and_skopeo_agree(registry, layout, tmp_path):
    path, digests = layout
    skopeo("copy", "--all", "--dest-tls-verify=false", "--preserve-digests", f"oci:{path}:multi",
           f"docker://{registry.host}/mix/multi:1")
    store = ContentStore(tmp_path / "store")
    res = pull(f"{registry.host}/mix/multi:1", store, platform="linux/arm64")
    assert res.index_digest == digests["multi"] and res.manifest_digest == digests["arm64"]
    assert pull(f"{registry.host}/mix/multi:1", store, platform="linux/amd64").manifest_digest == digests["amd64"]
    got = push(f"{registry.host}/mix/again:2", store, digests["multi"])   # push the index back
    assert got == digests["multi"]
    assert _digest_in(registry.host, "mix/again:2") == digests["multi"]
    out = tmp_path / "out"
    skopeo("copy", "--src-tls-verify=false", "--override-arch", "arm64", f"docker://{registry.host}/mix/again:2",
           f"dir:{out}")
    assert sha((out / "manifest.json").read_bytes()) == digests["arm64"]


@needs_skopeo
def test_skopeo_with_credentials_basic_and_token(start_server, layout, tmp_path):
    path, digests = layout
    htp = tmp_path / "htpasswd"
    htp.write_text(f"carol:{hash_password('s3cret', rounds=4)}\n")
    for mode in ("htpasswd", "token"):
        srv = start_server(auth={"mode": mode, "htpasswd": str(htp)})
        p = skopeo("copy", "--dest-tls-verify=false", f"oci:{path}:amd64", f"docker://{srv.host}/c/img:1",
                   check=False)
        assert p.returncode != 0 and re.search(r"unauthorized|authentication required|denied", p.stderr, re.I)
        skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", "--dest-creds", "carol:s3cret",
               f"oci:{path}:amd64", f"docker://{srv.host}/c/img:1")
        assert _digest_in(srv.host, "c/img:1", "--creds", "carol:s3cret") == digests["amd64"]


@needs_skopeo
@needs_openssl
def test_skopeo_over_tls(start_server, layout, tmp_path):
    path, digests = layout
    cert, key = self_signed(str(tmp_path))
    srv = start_server(tls={"cert": cert, "key": key})
    certdir = tmp_path / "certdir"
    certdir.mkdir()
    shutil.copy(cert, certdir / "ca.crt")
    skopeo("copy", "--dest-cert-dir", str(certdir), "--preserve-digests", f"oci:{path}:amd64",
           f"docker://{srv.host}/tls/img:1")
    raw = skopeo("inspect", "--cert-dir", str(certdir), "--raw", f"docker://{srv.host}/tls/img:1").stdout.encode()
    assert sha(raw) == digests["amd64"]
    p = skopeo("inspect", "--raw", f"docker://{srv.host}/tls/img:1", check=False)   # untrusted certificate
    assert p.returncode != 0 and "certificate" in p.stderr


# --- Docker ---------------------------------------------------------------------------------

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"


@pytest.fixture(scope="module")
def docker():
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    if not os.path.exists(DOCKERD) or not shutil.which("docker"):
        pytest.skip("dockerd (Debian docker.io) is not installed")
    base = tempfile.mkdtemp(prefix="dyrs-", dir="/tmp")
    ns = "dyregsrv" + os.path.basename(base)[-6:]
    sock = f"unix://{base}/d.sock"
    env = {**os.environ, "DOCKER_HOST": sock, "DOCKER_CONFIG": f"{base}/cli"}
    log = open(f"{base}/dockerd.log", "wb")
    proc = subprocess.Popen([DOCKERD, "--data-root", f"{base}/data", "--exec-root", f"{base}/exec",
                             "--pidfile", f"{base}/pid", "-H", sock, "--bridge=none", "--iptables=false",
                             "--ip-masq=false", "--containerd-namespace", ns,
                             "--containerd-plugins-namespace", ns + "p"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def run(*args, check=True, input=None):
        p = subprocess.run(["docker", *args], env=env, capture_output=True, text=True, timeout=180, input=input)
        if check and p.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {p.returncode}: {p.stderr[-2000:]}")
        return p
    try:
        deadline = time.time() + 60
        while run("version", check=False).returncode != 0:
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"dockerd did not start: {open(f'{base}/dockerd.log').read()[-2000:]}")
            time.sleep(0.2)
        from dockyardd_support import busybox_tar
        run("load", "-i", busybox_tar())
        yield run
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for pid in os.listdir("/proc"):   # containerd it started, found by our unique paths
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if base.encode() in f.read():
                        os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f if base in line.split()[4]]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.root
@needs_skopeo
def test_docker_push_and_pull_with_token_auth(docker, start_server, tmp_path):
    htp = tmp_path / "htpasswd"
    htp.write_text(f"dave:{hash_password('docker-pw', rounds=4)}\n")
    srv = start_server(auth={"mode": "token", "htpasswd": str(htp)})
    ref = f"{srv.host}/dk/busybox:1"
    p = docker("login", "-u", "dave", "--password-stdin", srv.host, input="wrong\n", check=False)
    assert p.returncode != 0 and "unauthorized" in p.stderr.lower()
    docker("login", "-u", "dave", "--password-stdin", srv.host, input="docker-pw\n")
    docker("tag", "busybox:latest", ref)
    out = docker("push", ref).stdout
    digest = re.search(r"digest: (sha256:[0-9a-f]{64})", out).group(1)
    assert _digest_in(srv.host, "dk/busybox:1", "--creds", "dave:docker-pw") == digest
    res = pull(ref, ContentStore(tmp_path / "s"), creds=Credentials("dave", "docker-pw"))
    assert res.manifest_digest == digest
    docker("rmi", ref)
    docker("pull", ref)
    repo_digests = json.loads(docker("image", "inspect", "--format", "{{json .RepoDigests}}", ref).stdout)
    assert repo_digests == [f"{srv.host}/dk/busybox@{digest}"]
    # pushed by skopeo (into another repository), pulled by docker: the same digest
    skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--src-creds", "dave:docker-pw",
           "--dest-creds", "dave:docker-pw", f"docker://{ref}", f"docker://{srv.host}/dk/copied:1")
    docker("pull", f"{srv.host}/dk/copied:1")
    repo_digests = json.loads(docker("image", "inspect", "--format", "{{json .RepoDigests}}",
                                     f"{srv.host}/dk/copied:1").stdout)
    assert f"{srv.host}/dk/copied@{digest}" in repo_digests


@pytest.mark.root
def test_docker_pulls_what_our_client_pushed(docker, registry, tmp_path):
    store = ContentStore(tmp_path / "store")
    layer = layer_tar({"hello.txt": b"pushed by dockyard\n"})
    ld = store.put_bytes(layer)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
    cd = store.put_bytes(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                      "size": len(config), "digest": cd},
                           "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar",
                                       "size": len(layer), "digest": ld}]}).encode()
    md = store.put_bytes(manifest)
    push(f"{registry.host}/ours/img:1", store, md)
    docker("pull", f"{registry.host}/ours/img:1")
    out = docker("image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}", f"{registry.host}/ours/img:1").stdout
    assert out.split()[0] == cd and md in out
