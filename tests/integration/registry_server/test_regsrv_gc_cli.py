"""`garbage-collect` and `serve` as commands, against storage a real server wrote."""
import subprocess
import sys

from regsrv_support import REPO, Api, layer_tar, sha


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dockyard.registry.server.main", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=60)


def test_garbage_collect(spawn_server, tmp_path):
    root = tmp_path / "gcroot"
    srv = spawn_server(root=root)
    api = Api(srv.host)
    base, only_a, only_b = layer_tar({"base": b"b" * 1000}), layer_tar({"a": b"a"}), layer_tar({"b": b"b"})
    digest_a, _ = api.push_image("gc/a", "1", [base, only_a])
    digest_b, _ = api.push_image("gc/b", "1", [base, only_b])
    api.push_blob("gc/a", b"uploaded but never referenced")
    loc = api("POST", "/v2/gc/a/blobs/uploads/").header("location")
    assert api("PATCH", loc, b"abandoned upload").status == 202
    assert api("DELETE", f"/v2/gc/a/manifests/{digest_a}").status == 202

    p = _cli("garbage-collect", "--root", str(root))
    assert p.returncode == 1 and "in use by a running server" in p.stderr
    p = _cli("garbage-collect", "--root", str(root), "--dry-run")     # allowed while serving: it only reads
    assert p.returncode == 0 and "would remove 4 blobs" in p.stdout
    srv.stop()
    p = _cli("garbage-collect", "--root", str(root))
    assert p.returncode == 0, p.stderr
    assert f"deleting blob {sha(only_a)}" in p.stdout and "deleting manifest" not in p.stdout
    assert "removed 4 blobs" in p.stdout                       # a's layer, config, manifest, the stray blob
    srv = spawn_server(root=root, port=srv.port)
    api = Api(srv.host)
    assert api("GET", f"/v2/gc/b/manifests/{digest_b}").status == 200
    for layer in (base, only_b):
        assert api("GET", f"/v2/gc/b/blobs/{sha(layer)}").body == layer
    assert api("HEAD", f"/v2/gc/a/blobs/{sha(only_a)}").status == 404
    assert api("HEAD", f"/v2/gc/a/blobs/{sha(base)}").status == 404   # the link went with a's manifest
    assert api("GET", loc).status == 204                  # an upload younger than upload_max_age stays
    assert len([p for p in (root / "blobs").rglob("*") if p.is_file()]) == 4   # b's layers, config, manifest


def test_garbage_collect_delete_untagged(spawn_server, tmp_path):
    root = tmp_path / "gcroot2"
    srv = spawn_server(root=root)
    api = Api(srv.host)
    old, _ = api.push_image("gc/u", "latest", [layer_tar({"v": b"1"})])
    new, _ = api.push_image("gc/u", "latest", [layer_tar({"v": b"2"})])     # the tag moves on
    srv.stop()
    p = _cli("garbage-collect", "--root", str(root))
    assert p.returncode == 0 and "removed 0 blobs" in p.stdout          # untagged manifests are kept
    p = _cli("garbage-collect", "--root", str(root), "--delete-untagged")
    assert p.returncode == 0 and f"gc/u: deleting manifest {old}" in p.stdout and "removed 3 blobs" in p.stdout
    srv = spawn_server(root=root, port=srv.port)
    api = Api(srv.host)
    assert api("GET", "/v2/gc/u/manifests/latest").header("docker-content-digest") == new
    assert api("GET", f"/v2/gc/u/manifests/{old}").status == 404


def test_serve_refuses_bad_settings(tmp_path):
    p = _cli("serve", "--addr", "127.0.0.1:0")
    assert p.returncode == 1 and "no storage root" in p.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('root = "/tmp/x"\nlisten = ":5000"\n')
    p = _cli("serve", "--config", str(bad))
    assert p.returncode == 1 and "unknown setting listen" in p.stderr
    p = _cli("serve", "--root", str(tmp_path / "r"), "--auth", "htpasswd")
    assert p.returncode == 1 and "needs an htpasswd file" in p.stderr
    p = _cli("serve", "--root", str(tmp_path / "r"), "--auth", "htpasswd", "--htpasswd", str(tmp_path / "none"))
    assert p.returncode == 1 and "cannot read htpasswd file" in p.stderr
    p = _cli("serve", "--root", str(tmp_path / "r"), "--tls-cert", str(tmp_path / "c.pem"))
    assert p.returncode == 1 and "both a certificate and a key" in p.stderr
    p = _cli("bogus")
    assert p.returncode == 1 and "invalid choice" in p.stderr
